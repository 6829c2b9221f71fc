"""Raw statements: ``{}`` placeholders become PostgreSQL's numbered parameters, as Piccolo does."""

from __future__ import annotations

import pytest

from backend.db import _numbered_placeholders


def test_placeholders_are_numbered_in_order_and_doubled_braces_stay_literal() -> None:
    # given a template with three placeholders and an escaped pair of braces
    template = "SELECT '{{}}'::json, a FROM t WHERE x = {} AND y IN ({}, {})"
    # when it is compiled
    compiled = _numbered_placeholders(template)
    # then the placeholders are $1..$3 and the braces are literal
    assert compiled == "SELECT '{}'::json, a FROM t WHERE x = $1 AND y IN ($2, $3)"


@pytest.mark.parametrize(
    "template", ["WHERE x = {name}", "WHERE x = {0}", "WHERE x = {:>5}", "WHERE x = {!r}"]
)
def test_named_or_formatted_fields_are_refused(template: str) -> None:
    with pytest.raises(ValueError, match="bare"):
        _numbered_placeholders(template)
