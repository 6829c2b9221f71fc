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
FRAGMENTS = sorted((CONTRACT / "operations" / "fragments").glob("*.graphql"))


def with_fragments(operation: str) -> str:
    """An operation as the apps' code generators send it: with the shared fragments it spreads."""
    available = {path.stem: path.read_text() for path in FRAGMENTS}
    document, included = operation, set()
    while wanted := {name for name in available if f"...{name}" in document} - included:
        included |= wanted
        document = "\n".join([document, *(available[name] for name in sorted(wanted))])
    return document


def test_committed_schema_matches_the_code() -> None:
    committed = (CONTRACT / "schema.graphql").read_text()
    assert committed == build_careloop_schema().as_str() + "\n", "run `make schema` and commit the result"


def test_there_are_operations_and_a_feature_level() -> None:
    assert len(OPERATIONS) >= 10
    assert int((CONTRACT / "FEATURE_LEVEL").read_text().strip()) >= 1


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.name)
def test_each_operation_is_valid_against_the_schema(path: Path) -> None:
    schema = build_schema((CONTRACT / "schema.graphql").read_text())
    assert validate(schema, parse(with_fragments(path.read_text()))) == []
    names = [d.name.value for d in parse(path.read_text()).definitions if getattr(d, "name", None)]
    assert names == [path.stem], "each file holds the one operation it is named after"


@pytest.mark.parametrize("path", FRAGMENTS, ids=lambda p: p.name)
def test_each_shared_fragment_is_named_after_its_file(path: Path) -> None:
    names = [d.name.value for d in parse(path.read_text()).definitions]
    assert names == [path.stem]


def test_migrations_match_the_tables() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backend", "migrations", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
