"""Domain events: what a domain says happened, and the subsystems that react to it.

    domain service ── await emit(ReferralChanged(...)) ──► the unit of work's subscribers:
        IN_TRANSACTION  awaited now, in registration order, inside the transaction
                        (stream rows, push outbox rows: they commit or roll back with their cause)
        AFTER_COMMIT    queued on the unit of work, run only once COMMIT succeeded

That is all a domain does about delivery: it never imports realtime, push or the transport.
``backend/wiring.py`` fills one :class:`Subscribers` when ``build_container`` builds a
process's database, which hands it to every unit of work. An event carries ids and typed
records, its own ``event_id`` (the stream event and the push rows it causes share it) and the
time it happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from backend.core.clock import utcnow
from backend.db import current_unit_of_work


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Base of every domain event (frozen: subscribers read it, none may change it)."""

    event_id: UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=utcnow)


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[E], Awaitable[None]]


class Phase(Enum):
    IN_TRANSACTION = "in transaction"
    AFTER_COMMIT = "after commit"


class Subscribers:
    """Who reacts to which event type, and when; filled once by ``backend.wiring``."""

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[tuple[Phase, Handler[Any]]]] = {}

    def subscribe(self, event_type: type[E], handler: Handler[E], *, phase: Phase) -> None:
        self._handlers.setdefault(event_type, []).append((phase, handler))

    def handlers(self, event_type: type[DomainEvent]) -> list[tuple[Phase, Handler[Any]]]:
        return list(self._handlers.get(event_type, ()))

    async def dispatch(self, event: DomainEvent) -> None:
        uow = current_unit_of_work()
        for phase, handler in self._handlers.get(type(event), ()):
            if phase is Phase.IN_TRANSACTION:
                await handler(event)
            else:
                uow.after_commit(partial(handler, event))


async def emit(event: DomainEvent) -> None:
    """Hand ``event`` to the subscribers of the unit of work the caller runs in."""
    subscribers: Subscribers = current_unit_of_work().subscribers
    await subscribers.dispatch(event)
