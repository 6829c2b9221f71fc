"""Protocol use cases: referral managers define what their organization requires, per specialty.

Saving creates a new version; referrals already sent keep the version they were sent under.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.accounts.codes import Role
from backend.audit.actions import AuditAction
from backend.audit.service import AuditTrail
from backend.core.errors import InvalidInput
from backend.core.validation import check_text
from backend.protocols import records, repository
from backend.protocols.codes import DocumentKind, RequiredField
from backend.protocols.errors import ProtocolError, ProtocolErrorCode
from backend.protocols.ladder import DEFAULT_LADDER, Rung, check_rungs
from backend.protocols.limits import MAX_NAME, MAX_RESPOND_HOURS, MAX_SCHEDULE_DAYS, MAX_VALID_DAYS
from backend.protocols.policy import Deadline, Policy
from backend.referrals.lifecycle import Priority


async def save_protocol(
    actor: Actor,
    audit: AuditTrail,
    *,
    organization_id: UUID,
    specialty_code: str,
    name: str,
    required_fields: list[RequiredField],
    required_attachment_kinds: list[DocumentKind],
    sla: dict[Priority, Deadline],
    valid_days: int,
    ladder: dict[Priority, tuple[Rung, ...]] | None = None,
) -> records.NamedProtocolVersion:
    """Create the organization's protocol for a specialty, or add a version to it (a priority
    the ladder does not name keeps the default rungs)."""
    if not actor.has_role(organization_id, Role.REFERRAL_MANAGER):
        raise ProtocolError(ProtocolErrorCode.NOT_FOUND, "Not found.")
    problems = InvalidInput()
    check_text(problems, "name", name, max_length=MAX_NAME)
    specialties = await accounts.specialties_by_codes([specialty_code])
    if not specialties:
        problems.add("specialtyCode", "UNKNOWN_SPECIALTY", "Unknown specialty code.")
    for priority, deadline in sla.items():
        if not 1 <= deadline.respond_hours <= MAX_RESPOND_HOURS:
            problems.add("sla", "OUT_OF_RANGE", f"{priority}: respond within 1-{MAX_RESPOND_HOURS} hours.")
        if not 1 <= deadline.schedule_days <= MAX_SCHEDULE_DAYS:
            problems.add("sla", "OUT_OF_RANGE", f"{priority}: schedule within 1-{MAX_SCHEDULE_DAYS} days.")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        problems.add("validDays", "OUT_OF_RANGE", f"Valid for 1-{MAX_VALID_DAYS} days.")
    for priority, rungs in (ladder or {}).items():
        check_rungs(problems, priority, rungs)
    problems.raise_if_any()
    specialty_id = specialties[0].id
    policy = Policy(
        required_fields=tuple(dict.fromkeys(required_fields)),
        required_attachment_kinds=tuple(dict.fromkeys(required_attachment_kinds)),
        sla=tuple((p, sla.get(p) or Policy().deadline(p)) for p in Priority),
        valid_days=valid_days,
        ladder=tuple((p, ladder[p] if ladder and p in ladder else DEFAULT_LADDER[p]) for p in Priority),
    )
    existing = await repository.protocol_for(organization_id, specialty_id)
    protocol_id = (
        existing.id
        if existing
        else await repository.insert_protocol(organization_id, specialty_id, name.strip())
    )
    version = await repository.add_version(
        protocol_id, name=name.strip(), definition=policy.to_json(), created_by=actor.user_id
    )
    audit.record(
        AuditAction.PROTOCOL_CHANGED,
        actor_user_id=actor.user_id,
        organization_id=organization_id,
        object_type="Protocol",
        object_id=protocol_id,
    )
    rows = await repository.versions_by_ids([version.id])
    return rows[0]


async def protocols_of_organization(
    actor: Actor, organization_id: UUID
) -> list[records.NamedProtocolVersion]:
    """Any signed-in user reads an organization's protocols: they say what to send, not PHI."""
    protocols = await repository.protocols_of_organization(organization_id)
    versions = {row.protocol: row for row in await repository.current_versions(protocols)}
    return [
        records.NamedProtocolVersion(
            **msgspec.structs.asdict(versions[p.id]), protocol_name=p.name, protocol_specialty=p.specialty
        )
        for p in protocols
        if p.id in versions
    ]
