"""Global object ids as the apps see them (Relay style: base64url of "Type:raw id", unpadded).

Used by the GraphQL layer and by payloads that leave through other channels (push) alike.
"""

from __future__ import annotations

import base64
from uuid import UUID


def global_id(type_name: str, raw_id: UUID | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")
