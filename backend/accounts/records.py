"""Typed, immutable records of the accounts nouns: organization, user, membership, specialty and
provider.

The repository builds them straight from a selected row, ``records.User(**row)``: each field is
named like its column (a foreign key holds the referenced id), so a full row needs no mapping.
Records are frozen; a changed copy is ``msgspec.structs.replace(record, field=value)``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class Organization(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    kind: str
    created_at: datetime


class UserName(msgspec.Struct, frozen=True, kw_only=True):
    """A user as others see them next to what they wrote: id and display name (every
    ``User`` is one; a conversation's members are these)."""

    id: UUID
    display_name: str


class User(UserName, frozen=True, kw_only=True):
    email: str
    password_hash: str | None
    home_organization: UUID
    is_active: bool
    password_changed_at: datetime | None
    deactivated_at: datetime | None
    created_at: datetime


class Membership(msgspec.Struct, frozen=True, kw_only=True):
    """One role of a user in an organization, as every membership query selects it (the row's
    own id and creation time are never read)."""

    user: UUID
    organization: UUID
    role: str


class Specialty(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    code: str
    name: str


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    organization: UUID
    user: UUID | None
    npi: str
    display_name: str
    accepting_new_patients: bool
    created_at: datetime
