"""Per-request DataLoaders for conversations: members, read markers and sender names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from backend.accounts import repository as accounts
from backend.messaging import repository, service

Row = dict[str, Any]


async def _members(conversation_ids: Sequence[UUID]) -> list[list[Row]]:
    conversations = await repository.conversations_by_ids(conversation_ids)
    found = await service.members_of(conversations)
    return [found.get(c, []) for c in conversation_ids]


async def _read_states(conversation_ids: Sequence[UUID]) -> list[dict[UUID, Row]]:
    found = await service.receipts_of(conversation_ids)
    return [found.get(c, {}) for c in conversation_ids]


async def _display_names(user_ids: Sequence[UUID]) -> list[str | None]:
    found = {row["id"]: row["display_name"] for row in await accounts.users_by_ids(user_ids)}
    return [found.get(u) for u in user_ids]


def members_loader() -> DataLoader[UUID, list[Row]]:
    return DataLoader(load_fn=_members)


def read_states_loader() -> DataLoader[UUID, dict[UUID, Row]]:
    return DataLoader(load_fn=_read_states)


def display_name_loader() -> DataLoader[UUID, str | None]:
    return DataLoader(load_fn=_display_names)
