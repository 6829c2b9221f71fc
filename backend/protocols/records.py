"""Typed, immutable records of protocols and their versions.

The repository builds them straight from a selected row, ``records.ProtocolVersion(**row)``: each
field is named like its column (a foreign key holds the referenced id). The JSON columns hold the
stored JSON text, read by ``backend.protocols.policy.policy_from_record``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class Protocol(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    organization: UUID
    specialty: UUID
    name: str
    current_version: int
    created_at: datetime


class ProtocolVersion(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    protocol: UUID
    version: int
    required_fields: str
    required_attachment_kinds: str
    sla: str
    created_by: UUID | None
    created_at: datetime


class NamedProtocolVersion(ProtocolVersion, frozen=True, kw_only=True):
    """A version with its protocol's name and specialty joined in (what GraphQL shows)."""

    protocol_name: str
    protocol_specialty: UUID
