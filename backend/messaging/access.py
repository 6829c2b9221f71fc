"""Who may see a conversation, in one place (every read, send, subscription goes through here).

    REFERRAL conversation ── whoever may see the referral now (backend/referrals/access.py):
                             its parties and the coordinators of both organizations
    DIRECT / GROUP        ── its active members

"Not found" and "not yours" are the same answer, so nobody learns a conversation exists.
Direct and group conversations are only opened between users who share an organization, a
referral between their organizations, or a referral network (``unreachable``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.directory import repository as directory
from backend.messaging import repository
from backend.messaging.codes import ConversationKind
from backend.messaging.errors import not_found
from backend.referrals import access as referral_access
from backend.referrals import repository as referrals

Row = dict[str, Any]
# what access_conversation read, kept on the conversation row for members()
_REFERRAL_ACCESS = "_referral_access"
_ACTIVE_MEMBERS = "_active_members"  # member id -> display name


async def access_conversation(actor: Actor, conversation_id: UUID) -> Row:
    """The conversation, if the actor may see it now; what the check read is kept on the row
    for :func:`members`."""
    conversation, active_members = await repository.conversation_with_members(conversation_id)
    if conversation is None:
        raise not_found()
    if conversation["kind"] == ConversationKind.REFERRAL:
        rows = await referrals.access_rows([conversation["referral"]])
        if not rows or not referral_access.parties(actor, rows[0]):
            raise not_found()
        conversation[_REFERRAL_ACCESS] = rows[0]
    else:
        if actor.user_id not in active_members:
            raise not_found()
        conversation[_ACTIVE_MEMBERS] = active_members
    return conversation


async def members(conversation: Row) -> list[UUID]:
    """Everyone who may see the conversation now (the recipients of its events)."""
    return (await members_of([conversation]))[conversation["id"]]


def member_names(conversation: Row) -> dict[UUID, str] | None:
    """The display names of a direct or group conversation's members, as its access check read
    them; ``None`` when it did not (a referral chat's members follow the referral)."""
    names: dict[UUID, str] | None = conversation.get(_ACTIVE_MEMBERS)
    return names


async def members_of(conversations: Sequence[Row]) -> dict[UUID, list[UUID]]:
    found: dict[UUID, list[UUID]] = {}
    referral_conversations = [c for c in conversations if c["kind"] == ConversationKind.REFERRAL]
    by_referral = {c["referral"]: c["id"] for c in referral_conversations}
    checked = [c[_REFERRAL_ACCESS] for c in referral_conversations if _REFERRAL_ACCESS in c]
    unchecked = [c["referral"] for c in referral_conversations if _REFERRAL_ACCESS not in c]
    access_rows = checked + await referrals.access_rows(unchecked)
    for referral_id, users in (await referral_access.recipients_of(access_rows)).items():
        found[by_referral[referral_id]] = users
    others = [c for c in conversations if c["kind"] != ConversationKind.REFERRAL]
    for conversation in others:
        if _ACTIVE_MEMBERS in conversation:
            found[conversation["id"]] = list(conversation[_ACTIVE_MEMBERS])
    found.update(await repository.active_members_of([c["id"] for c in others if _ACTIVE_MEMBERS not in c]))
    return found


async def unreachable(actor: Actor, user_ids: Sequence[UUID]) -> list[UUID]:
    """The users the caller may not open a conversation with (inactive, unknown or unrelated)."""
    candidates = [u for u in dict.fromkeys(user_ids) if u != actor.user_id]
    users = {row.id: row for row in await accounts.users_by_ids(candidates)}
    memberships = await accounts.memberships_of_users(candidates)
    organizations: dict[UUID, set[UUID]] = {u: set() for u in candidates}
    for membership in memberships:
        organizations[membership.user].add(membership.organization)
    providers: dict[UUID, set[UUID]] = {u: set() for u in candidates}
    for provider in await accounts.providers_of_users(candidates):
        if provider.user is not None:
            providers[provider.user].add(provider.id)
    mine = set(actor.member_organization_ids)
    missing = []
    for user_id in candidates:
        user = users.get(user_id)
        if user is None or not user.is_active:
            missing.append(user_id)
            continue
        theirs = organizations[user_id]
        if mine & theirs:
            continue
        if await directory.network_links(sorted(mine, key=str), sorted(providers[user_id], key=str)):
            continue
        if await directory.network_links(sorted(theirs, key=str), sorted(actor.provider_ids, key=str)):
            continue
        if await referrals.organizations_share_referral(sorted(mine, key=str), sorted(theirs, key=str)):
            continue
        missing.append(user_id)
    return missing
