"""The mobile contract and the migrations match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from backend.graphql.schema import build_schema as build_careloop_schema

CONTRACT = Path(__file__).resolve().parent.parent / "mobile_contract"
OPERATIONS = sorted((CONTRACT / "operations").glob("*.graphql"))


def test_committed_schema_matches_the_code() -> None:
    committed = (CONTRACT / "schema.graphql").read_text()
    assert committed == build_careloop_schema().as_str() + "\n", "run `make schema` and commit the result"


def test_there_are_operations_and_a_feature_level() -> None:
    assert len(OPERATIONS) >= 10
    assert int((CONTRACT / "FEATURE_LEVEL").read_text().strip()) >= 1


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.name)
def test_each_operation_is_valid_against_the_schema(path: Path) -> None:
    schema = build_schema((CONTRACT / "schema.graphql").read_text())
    document = parse(path.read_text())
    assert validate(schema, document) == []
    names = [d.name.value for d in document.definitions if getattr(d, "name", None)]
    assert path.stem in names, "each file holds the operation it is named after"


def test_migrations_match_the_tables() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backend", "migrations", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
