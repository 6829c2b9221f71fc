"""Automation coded values: a step's state (stored as codes: never rename, only add)."""

from enum import StrEnum


class StepStatus(StrEnum):
    PENDING = "PENDING"
    FIRED = "FIRED"
    CANCELLED = "CANCELLED"  # the referral moved on before the step was due
    SUPERSEDED = "SUPERSEDED"  # found late with a later step of the same referral also due
