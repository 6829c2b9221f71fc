"""Which referral changes bring a phone out of a pocket, and for whom.

    status became SENT, or ROUTE to a provider ──► the receiving side: REFERRAL_RECEIVED, with
        Accept / Decline / Open for the receiving provider (actionable notification)
    any other status change, RESCHEDULE ──► everyone who may see it: REFERRAL_UPDATED
    edits, insurance, documents, … ──► no push (the live stream and the inbox carry them)

The actor never gets a push for their own action. STAT referrals break through quiet hours.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backend.accounts import repository as accounts
from backend.push.codes import PushType
from backend.push.notify import notify, referral_notification
from backend.referrals import access

Row = dict[str, Any]
RECEIVED_ACTIONS = frozenset({"ROUTE"})
UPDATE_ACTIONS = frozenset({"RESCHEDULE"})


async def referral_changed(  # noqa: PLR0917 - the change and its event, as the stream has them
    before: Row, after: Row, action: str, recipients: list[UUID], actor_id: UUID | None, event_id: UUID
) -> list[UUID]:
    status_changed = before["status"] != after["status"]
    received = (status_changed and after["status"] == "SENT") or (
        action in RECEIVED_ACTIONS and after["receiving_provider"] is not None
    )
    if not (status_changed or received or action in UPDATE_ACTIONS):
        return []
    targets = [user for user in recipients if user != actor_id]
    receiving: set[UUID] = set()
    deciding: UUID | None = None
    if received:
        receiving_only = {
            **after,
            "referring_provider": None,
            "referring_organization": after["receiving_organization"],
        }
        receiving = set((await access.recipients_of([receiving_only]))[after["id"]])
        if after["receiving_provider"] is not None:
            rows = await accounts.providers_by_ids([after["receiving_provider"]])
            deciding = rows[0]["user"] if rows else None
        if not status_changed:  # routed: only the receiving side hears of it
            targets = [user for user in targets if user in receiving]
    updated = referral_notification(PushType.REFERRAL_UPDATED, after, action=action, actionable=False)
    new = referral_notification(PushType.REFERRAL_RECEIVED, after, action=action, actionable=False)
    decide = referral_notification(PushType.REFERRAL_RECEIVED, after, action=action, actionable=True)

    def per_user(user: UUID) -> Any:
        if user == deciding:
            return decide
        return new if user in receiving else updated

    return await notify(
        targets,
        updated,
        event_id=event_id,
        breaks_quiet_hours=after["priority"] == "STAT",
        per_user=per_user,
    )
