"""Protocol limits: how long a name may be and the ranges its SLA and validity must fall in."""

MAX_NAME = 200
MAX_RESPOND_HOURS = 24 * 30
MAX_SCHEDULE_DAYS = 365
MAX_VALID_DAYS = 730
MAX_RUNGS_PER_PRIORITY = 12
MAX_RUNG_MINUTES = 60 * 24 * 90
