"""Messaging limits: lengths, counts, sizes and time windows a message or conversation must keep to."""

MAX_BODY_CHARS = 4_000
MAX_TITLE_CHARS = 120
MIN_CLIENT_MESSAGE_ID = 8
MAX_CLIENT_MESSAGE_ID = 64
MAX_FILENAME = 200
MAX_ATTACHMENTS_PER_MESSAGE = 3
MAX_ATTACHMENT_BYTES = 512 * 1024
MAX_TOTAL_ATTACHMENT_BYTES = 720 * 1024
MAX_GROUP_MEMBERS = 50
ATTACHMENT_MEDIA_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/heic", "text/plain"})
RECALL_WINDOW_SECONDS = 15 * 60
MAX_RETENTION_SECONDS = 10 * 366 * 24 * 3600
