"""Input checks shared by domains: sizes, e-mail shape, NPI check digit."""

from __future__ import annotations

import re

from backend.core.errors import InvalidInput

EMAIL_PATTERN = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
MAX_EMAIL_LENGTH = 254
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_email(problems: InvalidInput, field_name: str, email: str) -> None:
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        problems.add(field_name, "INVALID_EMAIL", "Enter a valid e-mail address.")


def check_text(
    problems: InvalidInput, field_name: str, value: str, *, max_length: int, required: bool = True
) -> None:
    if required and not value.strip():
        problems.add(field_name, "REQUIRED", "This field is required.")
    elif len(value) > max_length:
        problems.add(field_name, "TOO_LONG", f"At most {max_length} characters.")


def check_new_password(problems: InvalidInput, field_name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.add(field_name, "PASSWORD_TOO_SHORT", f"At least {MIN_PASSWORD_LENGTH} characters.")
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.add(field_name, "TOO_LONG", f"At most {MAX_PASSWORD_LENGTH} characters.")


def is_valid_npi(npi: str) -> bool:
    """US National Provider Identifier: 10 digits, Luhn check digit over the '80840' prefix."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 24  # the contribution of the constant prefix 80840 to the Luhn sum
    for index, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def npi_with_check_digit(base9: str) -> str:
    """Complete a 9-digit NPI base with its check digit (used for demo and test data)."""
    for digit in "0123456789":
        if is_valid_npi(base9 + digit):
            return base9 + digit
    raise ValueError(base9)
