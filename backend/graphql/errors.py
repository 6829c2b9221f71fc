"""Top-level GraphQL errors: the few public ones, and masking of everything unexpected.

Expected business failures are not here: they are union members of each mutation's result.
What remains are protocol-level conditions (not signed in, bad page size) raised as
:class:`PublicError` with a stable ``extensions.code``; any other exception is unexpected and
is masked by :func:`present_errors`, logged without its message.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLError

from backend.logging import get_logger, safe_frames

logger = get_logger(__name__)

INTERNAL_MESSAGE = "Internal server error."
SUGGESTION = re.compile(r"\s*Did you mean .*$")


class PublicError(Exception):
    """A top-level error whose message and code are safe to show."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extensions = {"code": code, **extensions}


def unauthenticated() -> PublicError:
    return PublicError("Sign in required.", "UNAUTHENTICATED")


def bad_user_input(message: str, argument: str) -> PublicError:
    return PublicError(message, "BAD_USER_INPUT", argument=argument)


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (PublicError, GraphQLError))


def present_errors(
    errors: list[GraphQLError], *, request_id: str, hide_suggestions: bool
) -> list[dict[str, Any]]:
    presented = []
    for error in errors:
        formatted: dict[str, Any]
        original = error.original_error
        if isinstance(original, PublicError):
            formatted = dict(error.formatted)
            formatted["extensions"] = original.extensions
        elif is_unexpected(error):
            assert original is not None
            logger.error(
                "graphql.unexpected_error",
                error_type=type(original).__name__,
                path=error.path,
                request_id=request_id,
                frames=safe_frames(original),
            )
            formatted = {
                "message": INTERNAL_MESSAGE,
                "path": error.path,
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        else:
            formatted = dict(error.formatted)
            if hide_suggestions:
                formatted["message"] = SUGGESTION.sub("", str(formatted["message"]))
            formatted.setdefault("extensions", {}).setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        presented.append({k: v for k, v in formatted.items() if v is not None})
    return presented
