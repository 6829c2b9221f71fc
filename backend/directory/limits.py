"""Directory limits: how many providers a search weighs and how many it may return."""

MAX_CANDIDATES = 500
MAX_RESULTS = 50
