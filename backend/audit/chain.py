"""The hash chain: how one audit row's hash is computed from its fields and its predecessor's."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
CHAINED_FIELDS = (
    "occurred_at",
    "actor_user_id",
    "organization_id",
    "action",
    "object_type",
    "object_id",
    "client_address",
    "outcome",
    "request_id",
    "prev_hash",
)


def _canonical(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return str(value).replace("\\", "\\\\").replace("|", "\\|")


def row_hash(row: dict[str, Any]) -> str:
    material = "|".join(_canonical(row[name]) for name in CHAINED_FIELDS)
    return hashlib.sha256(material.encode()).hexdigest()
