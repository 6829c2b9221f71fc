"""Inputs of auth mutations."""

from __future__ import annotations

import strawberry


@strawberry.input
class LoginInput:
    email: str
    password: str
    device_id: str = strawberry.field(description="Stable per app install; binds the refresh tokens.")


@strawberry.input
class RefreshSessionInput:
    refresh_token: str
    device_id: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class AcceptInvitationInput:
    invitation_token: str
    password: str
    device_id: str
