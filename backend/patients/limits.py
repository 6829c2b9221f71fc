"""Patient limits: how long a patient's details and a search text may be."""

MAX_NAME = 100
MAX_MRN = 32
MAX_PHONE = 32
MAX_MEMBER_ID = 64
MIN_SEARCH = 2
MAX_SEARCH = 100
