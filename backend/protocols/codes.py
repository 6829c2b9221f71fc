"""Protocol coded values the mobile apps send and show (stored as codes: never rename, only add)."""

from enum import StrEnum


class DocumentKind(StrEnum):
    REFERRAL_LETTER = "REFERRAL_LETTER"
    LAB_RESULTS = "LAB_RESULTS"
    IMAGING = "IMAGING"
    CLINICAL_NOTE = "CLINICAL_NOTE"
    MEDICATION_LIST = "MEDICATION_LIST"
    ECG = "ECG"
    CONSULT_REPORT = "CONSULT_REPORT"
    OTHER = "OTHER"


class RequiredField(StrEnum):
    REASON = "REASON"
    CLINICAL_QUESTION = "CLINICAL_QUESTION"
    RELEVANT_HISTORY = "RELEVANT_HISTORY"
    DIAGNOSES = "DIAGNOSES"
