"""Referral limits: lengths, counts, sizes and media types a referral and its documents must keep to."""

MAX_DIAGNOSES = 12
MAX_REASON = 2_000
MAX_QUESTION = 2_000
MAX_HISTORY = 10_000
MAX_NOTE = 2_000
MAX_REPORT = 20_000
MAX_LOCATION = 200
MAX_FILENAME = 200
MAX_REFERENCE = 64
ALLOWED_MEDIA_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", "text/plain", "application/fhir+json"}
)
MAX_DOCUMENT_BYTES = 512 * 1024
MAX_DOCUMENTS_PER_REFERRAL = 30
MAX_ATTACHMENTS_PER_CALL = 10
MAX_FILTER_VALUES = 20
