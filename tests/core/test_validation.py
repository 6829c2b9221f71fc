"""Shared input checks."""

from __future__ import annotations

import pytest

from backend.core.validation import is_valid_npi, npi_with_check_digit


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_valid_npis_pass_the_luhn_check(npi: str) -> None:
    assert is_valid_npi(npi)


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678931", "abcdefghij", ""])
def test_invalid_npis_fail(npi: str) -> None:
    assert not is_valid_npi(npi)


def test_check_digit_completion_produces_valid_npis() -> None:
    assert npi_with_check_digit("123456789") == "1234567893"
