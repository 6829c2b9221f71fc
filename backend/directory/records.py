"""Typed, immutable records of the directory: insurance plans, provider locations and network
links (providers themselves are ``backend.accounts.records.Provider``).

The repository builds them straight from a selected row, ``records.InsurancePlan(**row)``: each
field is named like its column (a foreign key holds the referenced id).
"""

from __future__ import annotations

from uuid import UUID

import msgspec


class InsurancePlan(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    code: str
    payer: str
    name: str


class ProviderLocation(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    provider: UUID
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    is_primary: bool


class NetworkLink(msgspec.Struct, frozen=True, kw_only=True):
    """``provider`` is in ``organization``'s referral network (the link's own id is not read)."""

    organization: UUID
    provider: UUID
