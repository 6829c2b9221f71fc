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
from uuid import UUID

import msgspec

from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.directory import repository as directory
from backend.messaging import records, repository
from backend.messaging.codes import ConversationKind
from backend.messaging.errors import not_found
from backend.referrals import access as referral_access
from backend.referrals import repository as referrals


async def access_conversation(actor: Actor, conversation_id: UUID) -> records.Conversation:
    """The conversation, if the actor may see it now; what the check read is kept on the record
    (``active_members``, ``referral_access``) for :func:`members`."""
    conversation = await repository.conversation_with_members(conversation_id)
    if conversation is None:
        raise not_found()
    if conversation.kind == ConversationKind.REFERRAL:
        rows = await referrals.access_rows([conversation.referral] if conversation.referral else [])
        if not rows or not referral_access.parties(actor, rows[0]):
            raise not_found()
        conversation = msgspec.structs.replace(conversation, referral_access=rows[0])
    elif conversation.active_members is None or actor.user_id not in conversation.active_members:
        raise not_found()
    return conversation


async def members(conversation: records.Conversation) -> list[UUID]:
    """Everyone who may see the conversation now (the recipients of its events)."""
    return (await members_of([conversation]))[conversation.id]


def member_names(conversation: records.Conversation) -> dict[UUID, str] | None:
    """The display names of a direct or group conversation's members, as its access check read
    them; ``None`` when it did not (a referral chat's members follow the referral)."""
    if conversation.kind == ConversationKind.REFERRAL:
        return None
    return conversation.active_members


async def members_of(conversations: Sequence[records.Conversation]) -> dict[UUID, list[UUID]]:
    found: dict[UUID, list[UUID]] = {}
    referral_conversations = [c for c in conversations if c.kind == ConversationKind.REFERRAL]
    by_referral = {c.referral: c.id for c in referral_conversations}
    checked = [c.referral_access for c in referral_conversations if c.referral_access is not None]
    unchecked = [c.referral for c in referral_conversations if c.referral_access is None and c.referral]
    access_rows = checked + await referrals.access_rows(unchecked)
    for referral_id, users in (await referral_access.recipients_of(access_rows)).items():
        found[by_referral[referral_id]] = users
    others = [c for c in conversations if c.kind != ConversationKind.REFERRAL]
    for conversation in others:
        if conversation.active_members is not None:
            found[conversation.id] = list(conversation.active_members)
    found.update(await repository.active_members_of([c.id for c in others if c.active_members is None]))
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
