"""Coded values the mobile apps send and show (stored as codes: never rename, only add)."""

from enum import StrEnum


class DeclineReason(StrEnum):
    NOT_CLINICALLY_INDICATED = "NOT_CLINICALLY_INDICATED"
    INCOMPLETE_INFORMATION = "INCOMPLETE_INFORMATION"
    OUTSIDE_SCOPE = "OUTSIDE_SCOPE"
    NO_CAPACITY = "NO_CAPACITY"
    INSURANCE_NOT_ACCEPTED = "INSURANCE_NOT_ACCEPTED"
    BETTER_SERVED_ELSEWHERE = "BETTER_SERVED_ELSEWHERE"
    OTHER = "OTHER"


class CancelReason(StrEnum):
    PATIENT_DECLINED = "PATIENT_DECLINED"
    PATIENT_WENT_ELSEWHERE = "PATIENT_WENT_ELSEWHERE"
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    PATIENT_UNREACHABLE = "PATIENT_UNREACHABLE"
    DUPLICATE = "DUPLICATE"
    ENTERED_IN_ERROR = "ENTERED_IN_ERROR"
    OTHER = "OTHER"


class InsuranceStatus(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"


class PriorAuthStatus(StrEnum):
    NOT_REQUIRED = "NOT_REQUIRED"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"


class AppointmentStatus(StrEnum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"
    COMPLETED = "COMPLETED"


ALLOWED_MEDIA_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", "text/plain", "application/fhir+json"}
)
MAX_DOCUMENT_BYTES = 512 * 1024
MAX_DOCUMENTS_PER_REFERRAL = 30
