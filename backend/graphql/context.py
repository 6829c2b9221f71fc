"""The per-operation context every resolver receives as ``info.context``.

Built fresh for each HTTP request (and, later, for each WebSocket operation): it carries the
unit of work, the audit trail, the caller and the request's DataLoaders. Nothing in it is shared
between operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.types import Info as StrawberryInfo

from backend.accounts.actor import Actor
from backend.audit.service import AuditTrail
from backend.core.request import RequestMeta
from backend.db import UnitOfWork
from backend.graphql.errors import unauthenticated

if TYPE_CHECKING:
    from backend.container import Container


@dataclass(slots=True)
class Context:
    container: Container
    meta: RequestMeta
    uow: UnitOfWork
    audit: AuditTrail
    actor: Actor | None
    loaders: dict[str, Any] = field(default_factory=dict)

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise unauthenticated()
        return self.actor

    def loader(self, name: str, factory: Any) -> Any:
        """The request's DataLoader called ``name``, created on first use."""
        found = self.loaders.get(name)
        if found is None:
            found = self.loaders[name] = factory()
        return found


Info = StrawberryInfo[Context, None]
