"""Survey coded values the mobile apps show (stored as codes: never rename, only add)."""

from enum import StrEnum


class SurveyState(StrEnum):
    INVITED = "INVITED"
    ANSWERED = "ANSWERED"
    EXPIRED = "EXPIRED"


class SurveyDelivery(StrEnum):
    """How the invitation reaches the patient: e-mailed, or handed over by the coordinator."""

    EMAIL = "EMAIL"
    HAND_OVER = "HAND_OVER"
