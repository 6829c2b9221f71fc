"""Recording audit entries during a unit of work and appending them to the chain before commit.

    service ── AuditTrail.record(...) ──► buffered on the unit of work
    unit of work, just before COMMIT ──► append(): lock the chain head, hash, insert, move the head

The chain head (``audit_chain_head``) is locked only for the final insert (PostgreSQL:
``SELECT … FOR UPDATE`` until COMMIT; on SQLite the writer lock is already held), so
concurrent requests serialize for the end of their transaction, not their whole duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.audit import repository
from backend.audit.actions import AuditAction, AuditOutcome
from backend.core.clock import utcnow
from backend.core.request import RequestMeta
from backend.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: AuditAction
    outcome: AuditOutcome
    actor_user_id: UUID | None
    organization_id: UUID | None
    object_type: str | None
    object_id: str | None


class AuditTrail:
    """The audit entries of one unit of work, flushed into the chain right before it commits."""

    __slots__ = ("_entries", "_meta", "_uow")

    def __init__(self, uow: UnitOfWork, meta: RequestMeta) -> None:
        self._uow = uow
        self._meta = meta
        self._entries: list[AuditEntry] = []

    def record(
        self,
        action: AuditAction,
        *,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        actor_user_id: UUID | None = None,
        organization_id: UUID | None = None,
        object_type: str | None = None,
        object_id: UUID | str | None = None,
    ) -> None:
        if not self._entries:
            self._uow.before_commit(self._flush, last=True)
        self._entries.append(
            AuditEntry(
                action=action,
                outcome=outcome,
                actor_user_id=actor_user_id,
                organization_id=organization_id,
                object_type=object_type,
                object_id=str(object_id) if object_id is not None else None,
            )
        )

    async def _flush(self) -> None:
        entries, self._entries = self._entries, []
        await repository.append(
            [
                {
                    "occurred_at": utcnow(),
                    "actor_user_id": str(e.actor_user_id) if e.actor_user_id else None,
                    "organization_id": str(e.organization_id) if e.organization_id else None,
                    "action": e.action.value,
                    "object_type": e.object_type,
                    "object_id": e.object_id,
                    "client_address": self._meta.client_address,
                    "outcome": e.outcome.value,
                    "request_id": self._meta.request_id,
                }
                for e in entries
            ],
            is_sqlite=self._uow.is_sqlite,
        )
