"""Opaque high-entropy tokens (refresh tokens, invitations) and how they are stored: hashed."""

import hashlib
import secrets


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
