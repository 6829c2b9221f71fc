"""Account use cases: invite users, assign roles, deactivate, register providers.

Each function checks access through ``backend.accounts.access``, validates every input
before writing, and records its audit entries. None of them commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from backend.accounts import access, records, repository
from backend.accounts.actor import Actor
from backend.accounts.codes import Role
from backend.accounts.errors import AccountError, AccountErrorCode
from backend.accounts.events import MembershipChanged, UserDeactivated
from backend.accounts.limits import MAX_NAME_LENGTH
from backend.audit.actions import AuditAction
from backend.audit.service import AuditTrail
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.core.events import emit
from backend.core.secrets import new_opaque_token, token_digest
from backend.core.validation import check_email, check_text, is_valid_npi, normalize_email

INVITATION_LIFETIME = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class InvitedUser:
    user: records.User
    invitation_token: str


async def invite_user(
    actor: Actor,
    audit: AuditTrail,
    *,
    organization_id: UUID,
    email: str,
    display_name: str,
    roles: frozenset[Role],
) -> InvitedUser:
    await access.access_organization_as_admin(actor, organization_id)
    email = normalize_email(email)
    problems = InvalidInput()
    check_email(problems, "email", email)
    check_text(problems, "displayName", display_name, max_length=MAX_NAME_LENGTH)
    if not roles:
        problems.add("roles", "REQUIRED", "Give the user at least one role.")
    problems.raise_if_any()
    if await repository.email_exists(email):
        raise AccountError(AccountErrorCode.EMAIL_TAKEN, "This e-mail already has an account.", field="email")

    user_id = await repository.insert_user(
        email=email,
        display_name=display_name.strip(),
        home_organization_id=organization_id,
        password_hash=None,
    )
    await repository.replace_roles(user_id, organization_id, sorted(roles))
    token = new_opaque_token()
    await repository.insert_invitation(user_id, token_digest(token), utcnow() + INVITATION_LIFETIME)
    audit.record(
        AuditAction.USER_INVITED,
        actor_user_id=actor.user_id,
        organization_id=organization_id,
        object_type="User",
        object_id=user_id,
    )
    user = await repository.user_by_id(user_id)
    assert user is not None
    return InvitedUser(user=user, invitation_token=token)


async def set_roles(
    actor: Actor,
    audit: AuditTrail,
    *,
    organization_id: UUID,
    user_id: UUID,
    roles: frozenset[Role],
) -> records.User:
    """Replace the user's roles in the organization; an empty set removes the membership."""
    user = await access.access_user_as_admin(actor, organization_id, user_id)
    if Role.ORG_ADMIN not in roles:
        current = await repository.roles_for_users(organization_id, [user_id])
        if Role.ORG_ADMIN in current.get(user_id, set()):
            admins = await repository.count_role_holders(organization_id, Role.ORG_ADMIN)
            if admins <= 1:
                raise AccountError(
                    AccountErrorCode.LAST_ADMIN,
                    "The organization must keep at least one active admin.",
                    field="roles",
                )
    await repository.replace_roles(user_id, organization_id, sorted(roles))
    await emit(MembershipChanged(user_id=user_id, organization_id=organization_id))
    audit.record(
        AuditAction.ROLES_CHANGED,
        actor_user_id=actor.user_id,
        organization_id=organization_id,
        object_type="User",
        object_id=user_id,
    )
    return user


async def deactivate_user(
    actor: Actor, audit: AuditTrail, *, organization_id: UUID, user_id: UUID
) -> records.User:
    """Only the user's home organization deactivates the account; it stops working at once."""
    user = await access.access_user_as_admin(actor, organization_id, user_id)
    if user.home_organization != organization_id:
        raise AccountError(
            AccountErrorCode.NOT_HOME_ORGANIZATION,
            "Only the user's home organization can deactivate the account; remove their roles instead.",
        )
    if user_id == actor.user_id:
        raise AccountError(AccountErrorCode.CANNOT_DEACTIVATE_SELF, "You cannot deactivate yourself.")
    if user.is_active:
        await repository.deactivate_user(user_id, utcnow())
        await emit(UserDeactivated(user_id=user_id))
        audit.record(
            AuditAction.USER_DEACTIVATED,
            actor_user_id=actor.user_id,
            organization_id=organization_id,
            object_type="User",
            object_id=user_id,
        )
    refreshed = await repository.user_by_id(user_id)
    assert refreshed is not None
    return refreshed


async def create_provider(
    actor: Actor,
    audit: AuditTrail,
    *,
    organization_id: UUID,
    npi: str,
    display_name: str,
    specialty_codes: list[str],
    user_id: UUID | None,
    accepting_new_patients: bool,
) -> UUID:
    await access.access_organization_as_admin(actor, organization_id)
    npi = npi.strip()
    problems = InvalidInput()
    if not is_valid_npi(npi):
        problems.add("npi", "INVALID_NPI", "An NPI is 10 digits with a valid check digit.")
    check_text(problems, "displayName", display_name, max_length=MAX_NAME_LENGTH)
    unique_codes = sorted(set(specialty_codes))
    if not unique_codes:
        problems.add("specialtyCodes", "REQUIRED", "Give at least one specialty.")
    specialties = await repository.specialties_by_codes(unique_codes)
    unknown = set(unique_codes) - {specialty.code for specialty in specialties}
    if unknown:
        problems.add(
            "specialtyCodes",
            "UNKNOWN_SPECIALTY",
            f"Unknown specialty codes: {', '.join(sorted(unknown))}.",
        )
    problems.raise_if_any()
    if user_id is not None:
        await access.access_user_as_admin(actor, organization_id, user_id)
    if await repository.npi_exists(npi):
        raise AccountError(
            AccountErrorCode.NPI_TAKEN, "A provider with this NPI already exists.", field="npi"
        )
    provider_id = await repository.insert_provider(
        organization_id=organization_id,
        npi=npi,
        display_name=display_name.strip(),
        user_id=user_id,
        specialty_ids=[specialty.id for specialty in specialties],
        accepting_new_patients=accepting_new_patients,
    )
    audit.record(
        AuditAction.PROVIDER_CREATED,
        actor_user_id=actor.user_id,
        organization_id=organization_id,
        object_type="Provider",
        object_id=provider_id,
    )
    return provider_id


async def organization_users(
    actor: Actor, *, organization_id: UUID, after_email: str | None, limit: int
) -> list[records.User]:
    await access.access_organization_as_admin(actor, organization_id)
    return await repository.organization_user_page(organization_id, after_email=after_email, limit=limit)
