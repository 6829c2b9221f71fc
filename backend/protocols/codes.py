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


class AutomationRule(StrEnum):
    """A rung of a protocol's escalation ladder: what the system does when, per priority.

    The rung's time is counted from the rule's anchor (backend/automation/rules.py): respond-by
    for the RESPOND_* rules (RESPOND_REMINDER as a percentage of the respond window), schedule-by
    for SCHEDULE_ESCALATION, the moment the referral entered NEEDS_INFO, NO_SHOW or
    VISIT_COMPLETED for the others. EXPIRY (at the validity window's end) and SURVEY_INVITATION
    (a delay after the visit) are always planned; they are not edited on the ladder."""

    RESPOND_REMINDER = "RESPOND_REMINDER"
    RESPOND_ESCALATION = "RESPOND_ESCALATION"
    RESPOND_MANAGER_ESCALATION = "RESPOND_MANAGER_ESCALATION"
    INFO_REMINDER = "INFO_REMINDER"
    INFO_ESCALATION = "INFO_ESCALATION"
    SCHEDULE_ESCALATION = "SCHEDULE_ESCALATION"
    REBOOK_REMINDER = "REBOOK_REMINDER"
    OUTCOME_REMINDER = "OUTCOME_REMINDER"
    OUTCOME_ESCALATION = "OUTCOME_ESCALATION"
    EXPIRY = "EXPIRY"
    SURVEY_INVITATION = "SURVEY_INVITATION"


class Audience(StrEnum):
    """Who a rung tells."""

    RECEIVING_PROVIDER = "RECEIVING_PROVIDER"
    RECEIVING_COORDINATORS = "RECEIVING_COORDINATORS"
    RECEIVING_MANAGERS = "RECEIVING_MANAGERS"
    REFERRING_PROVIDER = "REFERRING_PROVIDER"
    REFERRING_COORDINATORS = "REFERRING_COORDINATORS"
    PATIENT = "PATIENT"
    NOBODY = "NOBODY"
