"""Org admins manage their own organization's users; nobody else can read or change them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from backend.accounts.codes import Role
from tests.support.api import Api
from tests.support.factories import Factory
from tests.support.graphql_ids import global_id

INVITE = """
mutation Invite($input: InviteUserInput!) {
  inviteUser(input: $input) {
    __typename
    ... on InviteUserSuccess { invitationToken user { id email isActive memberships { roles } } }
    ... on AccountError { code field }
    ... on InputError { fieldErrors { field code } }
  }
}
"""
ACCEPT = """
mutation Accept($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { __typename ... on AuthPayload { accessToken } ... on AuthError { code } }
}
"""
SET_ROLES = """
mutation SetRoles($input: SetMembershipRolesInput!) {
  setMembershipRoles(input: $input) {
    __typename
    ... on SetMembershipRolesSuccess { user { memberships { organization { id } roles } } }
    ... on AccountError { code }
  }
}
"""
DEACTIVATE = """
mutation Deactivate($input: DeactivateUserInput!) {
  deactivateUser(input: $input) {
    __typename
    ... on DeactivateUserSuccess { user { isActive } }
    ... on AccountError { code }
  }
}
"""
CREATE_PROVIDER = """
mutation CreateProvider($input: CreateProviderInput!) {
  createProvider(input: $input) {
    __typename
    ... on CreateProviderSuccess { provider { id npi specialtyCodes organization { id } } }
    ... on AccountError { code field }
    ... on InputError { fieldErrors { field code } }
  }
}
"""
ORGANIZATION_USERS = """
query Users($id: ID!, $first: Int, $after: String) {
  organization(id: $id) {
    id
    users(first: $first, after: $after) { edges { cursor node { email } } pageInfo { hasNextPage endCursor } }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { __typename id ... on User { email } } }"


class Org:
    def __init__(self, organization_id: UUID, admin_token: str) -> None:
        self.id = organization_id
        self.gid = global_id("Organization", organization_id)
        self.admin_token = admin_token


async def _org_with_admin(api: Api, factory: Factory) -> Org:
    organization_id = await factory.organization()
    admin = await factory.user(organization_id, roles=(Role.ORG_ADMIN,))
    return Org(organization_id, (await api.login(admin.email, admin.password)).access)


async def _user_state(factory: Factory, user_id: UUID) -> tuple[Any, ...]:
    from backend.accounts import repository

    user = await repository.user_by_id(user_id)
    assert user is not None
    roles = repository.role_mapping(await repository.memberships_of_users([user_id]))
    return (
        user.is_active,
        user.password_hash,
        sorted((str(k), sorted(v)) for k, v in roles.items()),
    )


async def test_admin_invites_a_user_who_accepts_and_signs_in(api: Api, factory: Factory) -> None:
    org = await _org_with_admin(api, factory)

    invited = (
        await api.data(
            INVITE,
            {
                "input": {
                    "organizationId": org.gid,
                    "email": "New.Doctor@Test.example",
                    "displayName": "Dr. New",
                    "roles": ["SPECIALIST"],
                }
            },
            token=org.admin_token,
        )
    )["inviteUser"]
    accepted = (
        await api.data(
            ACCEPT,
            {
                "input": {
                    "invitationToken": invited["invitationToken"],
                    "password": "my own long passphrase",
                    "deviceId": "d1",
                }
            },
        )
    )["acceptInvitation"]
    replayed = (
        await api.data(
            ACCEPT,
            {
                "input": {
                    "invitationToken": invited["invitationToken"],
                    "password": "another long passphrase",
                    "deviceId": "d1",
                }
            },
        )
    )["acceptInvitation"]

    assert invited["__typename"] == "InviteUserSuccess"
    assert invited["user"]["email"] == "new.doctor@test.example"
    assert invited["user"]["memberships"] == [{"roles": ["SPECIALIST"]}]
    assert accepted["__typename"] == "AuthPayload"
    assert replayed == {"__typename": "AuthError", "code": "INVALID_INVITATION"}
    assert (await api.login_result("new.doctor@test.example", "my own long passphrase"))[
        "__typename"
    ] == "AuthPayload"


async def test_invite_validates_every_field_and_refuses_taken_emails(api: Api, factory: Factory) -> None:
    org = await _org_with_admin(api, factory)
    existing = await factory.user(org.id)

    invalid = (
        await api.data(
            INVITE,
            {
                "input": {
                    "organizationId": org.gid,
                    "email": "not-an-email",
                    "displayName": "x" * 201,
                    "roles": [],
                }
            },
            token=org.admin_token,
        )
    )["inviteUser"]
    taken = (
        await api.data(
            INVITE,
            {
                "input": {
                    "organizationId": org.gid,
                    "email": existing.email,
                    "displayName": "Dup",
                    "roles": ["COORDINATOR"],
                }
            },
            token=org.admin_token,
        )
    )["inviteUser"]

    assert invalid["__typename"] == "InputError"
    assert {e["field"] for e in invalid["fieldErrors"]} == {"email", "displayName", "roles"}
    assert taken == {"__typename": "AccountError", "code": "EMAIL_TAKEN", "field": "email"}


async def test_unknown_role_value_is_a_validation_error(api: Api, factory: Factory) -> None:
    org = await _org_with_admin(api, factory)
    response = await api.post(
        INVITE,
        {
            "input": {
                "organizationId": org.gid,
                "email": "a@test.example",
                "displayName": "A",
                "roles": ["SUPERUSER"],
            }
        },
        token=org.admin_token,
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in body or body["data"] is None


async def test_admin_lists_own_users_with_cursor_pagination(api: Api, factory: Factory) -> None:
    org = await _org_with_admin(api, factory)
    for _ in range(4):
        await factory.user(org.id)

    first = (await api.data(ORGANIZATION_USERS, {"id": org.gid, "first": 3}, token=org.admin_token))[
        "organization"
    ]["users"]
    rest = (
        await api.data(
            ORGANIZATION_USERS,
            {"id": org.gid, "first": 3, "after": first["pageInfo"]["endCursor"]},
            token=org.admin_token,
        )
    )["organization"]["users"]

    emails = [e["node"]["email"] for e in first["edges"] + rest["edges"]]
    assert len(emails) == 5 and emails == sorted(emails)
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_page_size_over_the_maximum_is_refused(api: Api, factory: Factory) -> None:
    org = await _org_with_admin(api, factory)
    body = await api.gql(ORGANIZATION_USERS, {"id": org.gid, "first": 101}, token=org.admin_token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_admin_of_another_organization_cannot_read_its_users(api: Api, factory: Factory) -> None:
    # given two organizations, each with an admin, and a user in the first
    home = await _org_with_admin(api, factory)
    other = await _org_with_admin(api, factory)
    user = await factory.user(home.id)
    # when the other organization's admin asks for them
    organization = await api.data(ORGANIZATION_USERS, {"id": home.gid, "first": 10}, token=other.admin_token)
    node = await api.data(NODE, {"id": global_id("User", user.id)}, token=other.admin_token)
    missing = await api.data(
        NODE,
        {"id": global_id("User", "00000000-0000-0000-0000-000000000000")},
        token=other.admin_token,
    )
    # then they get exactly what a nonexistent id gets
    assert organization == {"organization": None}
    assert node == missing == {"node": None}
    # and the home admin does see the user
    own = await api.data(NODE, {"id": global_id("User", user.id)}, token=home.admin_token)
    assert own["node"]["email"] == user.email


@pytest.mark.parametrize("mutation", ["setRoles", "deactivate", "createProvider", "invite"])
async def test_admin_of_another_organization_cannot_change_its_users(
    api: Api, factory: Factory, mutation: str
) -> None:
    home = await _org_with_admin(api, factory)
    other = await _org_with_admin(api, factory)
    user = await factory.user(home.id)
    before = await _user_state(factory, user.id)

    for organization_gid in (
        home.gid,
        global_id("Organization", "00000000-0000-0000-0000-000000000000"),
    ):
        code = await _run_admin_mutation(api, factory, mutation, organization_gid, user.id, other.admin_token)
        assert code == "NOT_FOUND"

    assert await _user_state(factory, user.id) == before


@pytest.mark.parametrize(
    "role", [Role.REFERRING_PROVIDER, Role.SPECIALIST, Role.COORDINATOR, Role.REFERRAL_MANAGER]
)
@pytest.mark.parametrize("mutation", ["setRoles", "deactivate", "createProvider", "invite"])
async def test_non_admin_cannot_call_admin_mutations(
    api: Api, factory: Factory, mutation: str, role: Role
) -> None:
    organization_id = await factory.organization()
    caller = await factory.user(organization_id, roles=(role,))
    colleague = await factory.user(organization_id)
    token = (await api.login(caller.email, caller.password)).access
    before = await _user_state(factory, colleague.id)

    code = await _run_admin_mutation(
        api, factory, mutation, global_id("Organization", organization_id), colleague.id, token
    )

    assert code == "NOT_FOUND"
    assert await _user_state(factory, colleague.id) == before


async def _run_admin_mutation(
    api: Api, factory: Factory, mutation: str, organization_gid: str, user_id: UUID, token: str
) -> str:
    user_gid = global_id("User", user_id)
    if mutation == "setRoles":
        variables = {
            "input": {
                "organizationId": organization_gid,
                "userId": user_gid,
                "roles": ["ORG_ADMIN"],
            }
        }
        result = (await api.data(SET_ROLES, variables, token=token))["setMembershipRoles"]
    elif mutation == "deactivate":
        variables = {"input": {"organizationId": organization_gid, "userId": user_gid}}
        result = (await api.data(DEACTIVATE, variables, token=token))["deactivateUser"]
    elif mutation == "createProvider":
        code = await factory.specialty("cardiology")
        variables = {
            "input": {
                "organizationId": organization_gid,
                "npi": factory.npi(),
                "displayName": "Dr. X",
                "specialtyCodes": [code],
            }
        }
        result = (await api.data(CREATE_PROVIDER, variables, token=token))["createProvider"]
    else:
        variables = {
            "input": {
                "organizationId": organization_gid,
                "email": "intruder@test.example",
                "displayName": "I",
                "roles": ["ORG_ADMIN"],
            }
        }
        result = (await api.data(INVITE, variables, token=token))["inviteUser"]
    assert result["__typename"] == "AccountError", result
    return str(result["code"])


async def test_admin_changes_roles_but_cannot_remove_the_last_admin(api: Api, factory: Factory) -> None:
    from backend.accounts import repository

    org = await _org_with_admin(api, factory)
    user = await factory.user(org.id)
    admins = await repository.count_role_holders(org.id, Role.ORG_ADMIN)
    assert admins == 1
    admin_id = (await api.data("{ me { id } }", token=org.admin_token))["me"]["id"]

    promoted = (
        await api.data(
            SET_ROLES,
            {
                "input": {
                    "organizationId": org.gid,
                    "userId": global_id("User", user.id),
                    "roles": ["COORDINATOR", "SPECIALIST"],
                }
            },
            token=org.admin_token,
        )
    )["setMembershipRoles"]
    last_admin = (
        await api.data(
            SET_ROLES,
            {"input": {"organizationId": org.gid, "userId": admin_id, "roles": ["COORDINATOR"]}},
            token=org.admin_token,
        )
    )["setMembershipRoles"]

    assert promoted["user"]["memberships"] == [
        {"organization": {"id": org.gid}, "roles": ["COORDINATOR", "SPECIALIST"]}
    ]
    assert last_admin == {"__typename": "AccountError", "code": "LAST_ADMIN"}


async def test_admin_cannot_deactivate_themselves(api: Api, factory: Factory) -> None:
    org = await _org_with_admin(api, factory)
    admin_id = (await api.data("{ me { id } }", token=org.admin_token))["me"]["id"]
    result = await api.data(
        DEACTIVATE,
        {"input": {"organizationId": org.gid, "userId": admin_id}},
        token=org.admin_token,
    )
    assert result["deactivateUser"] == {
        "__typename": "AccountError",
        "code": "CANNOT_DEACTIVATE_SELF",
    }


async def test_create_provider_checks_npi_and_specialties(api: Api, factory: Factory) -> None:
    org = await _org_with_admin(api, factory)
    code = await factory.specialty("neurology")
    npi = factory.npi()

    created = (
        await api.data(
            CREATE_PROVIDER,
            {
                "input": {
                    "organizationId": org.gid,
                    "npi": npi,
                    "displayName": "Dr. Brain",
                    "specialtyCodes": [code],
                }
            },
            token=org.admin_token,
        )
    )["createProvider"]
    duplicate = (
        await api.data(
            CREATE_PROVIDER,
            {
                "input": {
                    "organizationId": org.gid,
                    "npi": npi,
                    "displayName": "Dr. Twin",
                    "specialtyCodes": [code],
                }
            },
            token=org.admin_token,
        )
    )["createProvider"]
    bad_check_digit = npi[:9] + str((int(npi[9]) + 1) % 10)
    invalid = (
        await api.data(
            CREATE_PROVIDER,
            {
                "input": {
                    "organizationId": org.gid,
                    "npi": bad_check_digit,
                    "displayName": "",
                    "specialtyCodes": ["astrology"],
                }
            },
            token=org.admin_token,
        )
    )["createProvider"]

    assert created["__typename"] == "CreateProviderSuccess"
    assert created["provider"]["npi"] == npi and created["provider"]["specialtyCodes"] == [code]
    assert duplicate == {"__typename": "AccountError", "code": "NPI_TAKEN", "field": "npi"}
    assert invalid["__typename"] == "InputError"
    assert {(e["field"], e["code"]) for e in invalid["fieldErrors"]} == {
        ("npi", "INVALID_NPI"),
        ("displayName", "REQUIRED"),
        ("specialtyCodes", "UNKNOWN_SPECIALTY"),
    }


async def test_me_returns_memberships_and_roles(api: Api, factory: Factory) -> None:
    organization_id = await factory.organization("Me Clinic")
    user = await factory.user(organization_id, roles=(Role.COORDINATOR, Role.REFERRAL_MANAGER))
    tokens = await api.login(user.email, user.password)

    me = (
        await api.data(
            "{ me { email isActive homeOrganization { name } memberships { organization { name } roles } } }",
            token=tokens.access,
        )
    )["me"]

    assert me == {
        "email": user.email,
        "isActive": True,
        "homeOrganization": {"name": "Me Clinic"},
        "memberships": [
            {"organization": {"name": "Me Clinic"}, "roles": ["COORDINATOR", "REFERRAL_MANAGER"]}
        ],
    }


async def test_non_admin_member_sees_the_organization_but_not_its_user_list(
    api: Api, factory: Factory
) -> None:
    organization_id = await factory.organization()
    member = await factory.user(organization_id, roles=(Role.COORDINATOR,))
    token = (await api.login(member.email, member.password)).access

    body = await api.gql(ORGANIZATION_USERS, {"id": global_id("Organization", organization_id)}, token=token)

    assert "errors" not in body
    assert body["data"]["organization"]["users"] is None
