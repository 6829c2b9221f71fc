"""An e-mail as the dispatcher hands it to a sender: opened from its outbox row."""

from __future__ import annotations

from uuid import UUID

import msgspec


class Email(msgspec.Struct, frozen=True, kw_only=True):
    row_id: UUID
    kind: str
    to: str
    subject: str
    body: str
    attempts: int
