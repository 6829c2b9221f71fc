"""The access checks for account objects: every read and change of one goes through here.

"Not found" and "not allowed" raise the same error, so ids cannot be probed.
"""

from __future__ import annotations

from uuid import UUID

from backend.accounts import records, repository
from backend.accounts.actor import Actor
from backend.accounts.codes import Role
from backend.accounts.errors import not_found


async def access_organization(actor: Actor, organization_id: UUID) -> records.Organization:
    """Members of an organization may read it."""
    if not actor.is_member(organization_id):
        raise not_found()
    organization = await repository.organization_by_id(organization_id)
    if organization is None:
        raise not_found()
    return organization


async def access_organization_as_admin(actor: Actor, organization_id: UUID) -> records.Organization:
    """Only the organization's own admins manage its users and directory entries."""
    if not actor.has_role(organization_id, Role.ORG_ADMIN):
        raise not_found()
    organization = await repository.organization_by_id(organization_id)
    if organization is None:
        raise not_found()
    return organization


async def access_user(actor: Actor, user_id: UUID) -> records.User:
    """A user reads themselves; an org admin reads users whose home or membership is their org."""
    user = await repository.user_by_id(user_id)
    if user is None:
        raise not_found()
    if user_id == actor.user_id:
        return user
    if await _administers_user(actor, user):
        return user
    raise not_found()


async def access_user_as_admin(actor: Actor, organization_id: UUID, user_id: UUID) -> records.User:
    """An admin of ``organization_id`` acting on a user who belongs to that organization."""
    await access_organization_as_admin(actor, organization_id)
    user = await repository.user_by_id(user_id)
    if user is None:
        raise not_found()
    belongs = user.home_organization == organization_id or await repository.is_member_of(
        user_id, organization_id
    )
    if not belongs:
        raise not_found()
    return user


async def _administers_user(actor: Actor, user: records.User) -> bool:
    if actor.has_role(user.home_organization, Role.ORG_ADMIN):
        return True
    for organization_id, roles in actor.roles_by_organization.items():
        if Role.ORG_ADMIN in roles and await repository.is_member_of(user.id, organization_id):
            return True
    return False
