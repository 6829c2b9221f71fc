"""Auth mutations: each calls one AuthService method and maps the outcome."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend.auth.errors import AuthError as DomainAuthError
from backend.core.errors import InvalidInput
from backend.graphql.auth.inputs import (
    AcceptInvitationInput,
    ChangePasswordInput,
    LoginInput,
    RefreshSessionInput,
)
from backend.graphql.auth.types import AuthError, AuthPayload, LogoutSuccess
from backend.graphql.common import InputError
from backend.graphql.context import Info

SessionResult = Annotated[AuthPayload | AuthError | InputError, strawberry.union("SessionResult")]


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Sign in with e-mail and password; starts a session on this device.")
    async def login(self, info: Info, input: LoginInput) -> SessionResult:
        context = info.context
        try:
            issued = await context.container.auth.login(
                context.audit,
                context.meta,
                email=input.email,
                password=input.password,
                device_id=input.device_id,
                is_sqlite=context.uow.is_sqlite,
            )
        except DomainAuthError as error:
            return AuthError.from_domain(error)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return AuthPayload.from_session(issued)

    @strawberry.mutation(description="Trade a refresh token for new tokens. Each refresh token works once.")
    async def refresh_session(self, info: Info, input: RefreshSessionInput) -> SessionResult:
        context = info.context
        try:
            issued = await context.container.auth.refresh(
                context.audit, refresh_token=input.refresh_token, device_id=input.device_id
            )
        except DomainAuthError as error:
            return AuthError.from_domain(error)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return AuthPayload.from_session(issued)

    @strawberry.mutation(description="End this device's session: its tokens stop working at once.")
    async def logout(self, info: Info) -> LogoutSuccess:
        context = info.context
        await context.container.auth.logout(context.require_actor(), context.audit)
        return LogoutSuccess()

    @strawberry.mutation(description="Change your password: every session ends; this device gets a new one.")
    async def change_password(self, info: Info, input: ChangePasswordInput) -> SessionResult:
        context = info.context
        actor = context.require_actor()
        try:
            issued = await context.container.auth.change_password(
                actor,
                context.audit,
                current_password=input.current_password,
                new_password=input.new_password,
            )
        except DomainAuthError as error:
            return AuthError.from_domain(error)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return AuthPayload.from_session(issued)

    @strawberry.mutation(description="Set a password with an invitation token and sign in.")
    async def accept_invitation(self, info: Info, input: AcceptInvitationInput) -> SessionResult:
        context = info.context
        try:
            issued = await context.container.auth.accept_invitation(
                context.audit,
                invitation_token=input.invitation_token,
                password=input.password,
                device_id=input.device_id,
            )
        except DomainAuthError as error:
            return AuthError.from_domain(error)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return AuthPayload.from_session(issued)
