"""Global ids as the API encodes them, for building inputs in tests."""

import base64
from uuid import UUID


def global_id(type_name: str, raw_id: UUID | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def uuid_of(gid: str) -> str:
    """The raw id inside a global id."""
    padded = gid + "=" * (-len(gid) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode().partition(":")[2]
