"""Survey error codes: the field codes the survey page and the contract name (never rename)."""

from enum import StrEnum


class SurveyFieldCode(StrEnum):
    REQUIRED = "REQUIRED"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    TOO_LONG = "TOO_LONG"
