"""Patient coded values the mobile apps send and show (stored as codes: never rename, only add)."""

from enum import StrEnum


class AdministrativeSex(StrEnum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class ContactPreference(StrEnum):
    """How the patient agreed to be contacted (the post-visit survey is e-mailed only on EMAIL)."""

    NONE = "NONE"
    EMAIL = "EMAIL"
