"""The request's :class:`~backend.referrals.access.Viewer`, computed once per operation."""

from __future__ import annotations

from backend.graphql.context import Info
from backend.referrals import access
from backend.referrals.access import Viewer


async def current_viewer(info: Info) -> Viewer:
    context = info.context
    cached = context.loaders.get("viewer")
    if cached is None:
        cached = context.loaders["viewer"] = await access.viewer_for(context.require_principal())
    viewer: Viewer = cached
    return viewer
