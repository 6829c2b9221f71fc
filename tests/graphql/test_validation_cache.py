"""Validation results are cached by query text, per schema: a schema with other limits never
answers from another schema's results."""

from __future__ import annotations

import dataclasses

from strawberry.types import ExecutionResult

from backend.graphql.schema import build_schema
from backend.graphql.validation_cache import ValidationResults
from backend.settings import get_settings

DEEP = "{ me { homeOrganization { id } } }"
DEPTH_ERROR = "exceeds maximum operation depth"


def _schema_with_depth(max_depth: int):  # type: ignore[no-untyped-def]
    settings = get_settings()
    limits = dataclasses.replace(settings.graphql_limits, max_depth=max_depth)
    return build_schema(dataclasses.replace(settings, graphql_limits=limits))


def _depth_errors(result: ExecutionResult) -> list[str]:
    """Execution without a request context fails later; only the validation verdict matters."""
    return [error.message for error in result.errors or () if DEPTH_ERROR in error.message]


async def test_a_text_validated_by_a_lenient_schema_is_still_refused_by_a_strict_one() -> None:
    # given a lenient schema that already validated (and cached) a deep document
    lenient, strict = _schema_with_depth(12), _schema_with_depth(1)
    assert not _depth_errors(await lenient.execute(DEEP))
    # when a strict schema gets the same text
    result = await strict.execute(DEEP)
    # then it runs its own rules
    assert _depth_errors(result)
    # and the lenient one still answers from its results
    assert not _depth_errors(await lenient.execute(DEEP))


def test_the_results_are_bounded_and_keep_the_most_recently_used() -> None:
    # given room for two texts, both stored, the first used again
    results = ValidationResults(maxsize=2)
    results.put("{ a }", [])
    results.put("{ b }", [])
    assert results.get("{ a }") == []
    # when a third is stored
    results.put("{ c }", [])
    # then the least recently used one is gone
    assert (results.get("{ a }"), results.get("{ b }"), results.get("{ c }"), len(results)) == (
        [],
        None,
        [],
        2,
    )
