"""Per-request DataLoader for survey invitations: one statement per page of referrals."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from strawberry.dataloader import DataLoader

from backend.surveys import records, repository


async def _invitations(referral_ids: Sequence[UUID]) -> list[records.SurveyInvitation | None]:
    found = await repository.invitations_of_referrals(referral_ids)
    return [found.get(i) for i in referral_ids]


def invitation_loader() -> DataLoader[UUID, records.SurveyInvitation | None]:
    return DataLoader(load_fn=_invitations)
