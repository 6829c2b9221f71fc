"""Per-request DataLoaders for conversations: members, read markers and sender names."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from backend.accounts import records as accounts_records
from backend.accounts import repository as accounts
from backend.messaging import records, repository, service


async def _members(conversation_ids: Sequence[UUID]) -> list[list[accounts_records.UserName]]:
    conversations = await repository.conversations_by_ids(conversation_ids)
    found = await service.members_of(conversations)
    return [found.get(c, []) for c in conversation_ids]


async def _read_states(conversation_ids: Sequence[UUID]) -> list[dict[UUID, records.ReadState]]:
    found = await service.receipts_of(conversation_ids)
    return [found.get(c, {}) for c in conversation_ids]


async def _display_names(user_ids: Sequence[UUID]) -> list[str | None]:
    found = {row.id: row.display_name for row in await accounts.users_by_ids(user_ids)}
    return [found.get(u) for u in user_ids]


def members_loader() -> DataLoader[UUID, list[accounts_records.UserName]]:
    return DataLoader(load_fn=_members)


def read_states_loader() -> DataLoader[UUID, dict[UUID, records.ReadState]]:
    return DataLoader(load_fn=_read_states)


def display_name_loader() -> DataLoader[UUID, str | None]:
    return DataLoader(load_fn=_display_names)


class SentConversation:
    """The members a send just read for its event: the answer's receipts and sender name then need
    only their ids and names: read once (if either is selected) and shared, or not at all when the
    send's access check already read them (direct and group conversations). The answer never
    reaches the conversation itself, so nothing else is asked of these rows. Other keys load as
    usual."""

    __slots__ = ("_conversation_id", "_lock", "_member_ids", "_names", "_users")

    def __init__(
        self, conversation_id: UUID, member_ids: list[UUID], names: dict[UUID, str] | None = None
    ) -> None:
        self._conversation_id = conversation_id
        self._member_ids = member_ids
        self._names = names
        self._lock = asyncio.Lock()
        self._users: dict[UUID, accounts_records.UserName] | None = None

    async def _users_by_id(self) -> dict[UUID, accounts_records.UserName]:
        async with self._lock:
            if self._users is None and self._names is not None:
                self._users = {
                    u: accounts_records.UserName(id=u, display_name=name) for u, name in self._names.items()
                }
            if self._users is None:
                rows = await accounts.users_by_ids(sorted(set(self._member_ids), key=str))
                self._users = {row.id: row for row in rows}
            return self._users

    async def members(self, conversation_ids: Sequence[UUID]) -> list[list[accounts_records.UserName]]:
        others = [c for c in conversation_ids if c != self._conversation_id]
        found = dict(zip(others, await _members(others), strict=True)) if others else {}
        if len(others) < len(conversation_ids):
            users = await self._users_by_id()
            found[self._conversation_id] = [users[u] for u in self._member_ids if u in users]
        return [found[c] for c in conversation_ids]

    async def read_states(self, conversation_ids: Sequence[UUID]) -> list[dict[UUID, records.ReadState]]:
        """No marker of another member can have reached a message sent in this very request, so
        its receipts are all SENT: no need to read the markers."""
        others = [c for c in conversation_ids if c != self._conversation_id]
        found = dict(zip(others, await _read_states(others), strict=True)) if others else {}
        return [found.get(c, {}) for c in conversation_ids]

    async def display_names(self, user_ids: Sequence[UUID]) -> list[str | None]:
        if not set(user_ids) <= set(self._member_ids):
            return await _display_names(user_ids)
        users = await self._users_by_id()
        return [users[u].display_name if u in users else None for u in user_ids]


def prime_sent_conversation(
    loaders: dict[str, Any],
    conversation_id: UUID,
    member_ids: list[UUID],
    names: dict[UUID, str] | None = None,
) -> None:
    """Answer the request's members, markers and sender-name loads for a just-sent message's
    conversation without reading them again (unless those loaders already exist in this request).
    Only the fresh message is reachable from the send's answer, never its conversation."""
    sent = SentConversation(conversation_id, member_ids, names)
    if "conversation_members" not in loaders:
        loaders["conversation_members"] = DataLoader(load_fn=sent.members)
    if "display_name" not in loaders:
        loaders["display_name"] = DataLoader(load_fn=sent.display_names)
    if "read_states" not in loaders:
        loaders["read_states"] = DataLoader(load_fn=sent.read_states)
