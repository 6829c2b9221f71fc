"""Every protocol query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from backend.protocols import records
from backend.protocols.tables import Protocol, ProtocolVersion


async def protocol_for(organization_id: UUID, specialty_id: UUID) -> records.Protocol | None:
    row = (
        await Protocol.select()
        .where((Protocol.organization == organization_id) & (Protocol.specialty == specialty_id))
        .first()
    )
    return records.Protocol(**row) if row is not None else None


async def protocols_of_organization(organization_id: UUID) -> list[records.Protocol]:
    rows = await Protocol.select().where(Protocol.organization == organization_id).order_by(Protocol.name)
    return [records.Protocol(**row) for row in rows]


async def insert_protocol(organization_id: UUID, specialty_id: UUID, name: str) -> UUID:
    protocol = Protocol(organization=organization_id, specialty=specialty_id, name=name, current_version=0)
    await protocol.save()
    return UUID(str(protocol.id))


async def add_version(
    protocol_id: UUID, *, name: str, definition: dict[str, Any], created_by: UUID | None
) -> records.ProtocolVersion:
    """Append the next version and make it current (``definition``: ``Policy.to_json()``)."""
    protocol = await Protocol.select(Protocol.current_version).where(Protocol.id == protocol_id).first()
    assert protocol is not None
    version = protocol["current_version"] + 1
    await ProtocolVersion(
        protocol=protocol_id,
        version=version,
        required_fields=definition["required_fields"],
        required_attachment_kinds=definition["required_attachment_kinds"],
        sla=definition["sla"],
        created_by=created_by,
    ).save()
    await Protocol.update({Protocol.current_version: version, Protocol.name: name}).where(
        Protocol.id == protocol_id
    )
    row = await version_of(protocol_id, version)
    assert row is not None
    return row


async def version_of(protocol_id: UUID, version: int) -> records.ProtocolVersion | None:
    row = (
        await ProtocolVersion.select()
        .where((ProtocolVersion.protocol == protocol_id) & (ProtocolVersion.version == version))
        .first()
    )
    return records.ProtocolVersion(**row) if row is not None else None


async def versions_by_ids(ids: Sequence[UUID]) -> list[records.NamedProtocolVersion]:
    if not ids:
        return []
    rows = await ProtocolVersion.select(
        *ProtocolVersion.all_columns(),
        ProtocolVersion.protocol.name.as_alias("protocol_name"),
        ProtocolVersion.protocol.specialty.as_alias("protocol_specialty"),
    ).where(ProtocolVersion.id.is_in(list(ids)))
    return [records.NamedProtocolVersion(**row) for row in rows]


async def current_versions(protocols: Sequence[records.Protocol]) -> list[records.ProtocolVersion]:
    """The current version of each protocol given."""
    if not protocols:
        return []
    wanted = {(p.id, p.current_version) for p in protocols}
    rows = await ProtocolVersion.select().where(ProtocolVersion.protocol.is_in([p.id for p in protocols]))
    return [records.ProtocolVersion(**row) for row in rows if (row["protocol"], row["version"]) in wanted]
