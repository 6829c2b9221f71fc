"""The push decider: which domain events bring a phone out of a pocket, and for whom.

    ReferralChanged
        status became SENT, or ROUTE to a provider ──► the receiving side: REFERRAL_RECEIVED, with
            Accept / Decline / Open for the receiving provider (actionable notification)
        any other status change, RESCHEDULE ──► everyone who may see it: REFERRAL_UPDATED
        edits, insurance, documents, … ──► no push (the live stream and the inbox carry them)
    MessageSent ──► the other members: NEW_MESSAGE (priority messages break through quiet hours)
    SignedOut ──► the device's registration is forgotten; UserDeactivated ──► all of the user's

The actor never gets a push for their own action. STAT referrals break through quiet hours.
Every handler runs inside the unit of work: outbox rows commit with their cause (notify.py).
The users a push was queued for are reported with the event's id (``on_pushed``), so a socket
that delivers the same event live can skip the push (live.py).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from backend.accounts.events import UserDeactivated
from backend.auth.events import SignedOut
from backend.automation.events import AutomationStepFired
from backend.core.events import Phase, Subscribers
from backend.messaging.events import MessageSent
from backend.push import repository
from backend.push.codes import PushType
from backend.push.notify import message_notification, notify, referral_notification
from backend.push.payloads import Notification
from backend.referrals import access
from backend.referrals.events import ReferralChanged

OnPushed = Callable[[UUID, list[UUID]], None]
RECEIVED_ACTIONS = frozenset({"ROUTE"})
UPDATE_ACTIONS = frozenset({"RESCHEDULE"})


class PushDecider:
    __slots__ = ("_on_pushed",)

    def __init__(self, on_pushed: OnPushed) -> None:
        self._on_pushed = on_pushed

    async def referral_changed(self, change: ReferralChanged) -> None:
        before, after, action = change.before, change.after, change.action
        if before is None:
            return
        status_changed = before.status != after.status
        received = (status_changed and after.status == "SENT") or (
            action in RECEIVED_ACTIONS and after.receiving_provider is not None
        )
        if not (status_changed or received or action in UPDATE_ACTIONS):
            return
        targets = [user for user in await access.recipients_at_version(after) if user != change.actor_id]
        receiving: set[UUID] = set()
        deciding: UUID | None = None
        if received:
            receiving_users, deciding = await access.receiving_side(after)
            receiving = set(receiving_users)
            if not status_changed:  # routed: only the receiving side hears of it
                targets = [user for user in targets if user in receiving]
        updated = referral_notification(PushType.REFERRAL_UPDATED, after, action=action, actionable=False)
        new = referral_notification(PushType.REFERRAL_RECEIVED, after, action=action, actionable=False)
        decide = referral_notification(PushType.REFERRAL_RECEIVED, after, action=action, actionable=True)

        def per_user(user: UUID) -> Notification:
            if user == deciding:
                return decide
            return new if user in receiving else updated

        pushed = await notify(
            targets,
            updated,
            event_id=change.event_id,
            breaks_quiet_hours=after.priority == "STAT",
            per_user=per_user,
        )
        self._on_pushed(change.event_id, pushed)

    async def automation_step_fired(self, fired: AutomationStepFired) -> None:
        """A reminder or escalation, to its audience only (STAT breaks through quiet hours)."""
        push_type = PushType.REFERRAL_ESCALATION if fired.escalation else PushType.REFERRAL_REMINDER
        action = "ESCALATE" if fired.escalation else "REMIND"
        notification = referral_notification(push_type, fired.referral, action=action, actionable=False)
        pushed = await notify(
            fired.told,
            notification,
            event_id=fired.event_id,
            breaks_quiet_hours=fired.referral.priority == "STAT",
        )
        self._on_pushed(fired.event_id, pushed)

    async def message_sent(self, sent: MessageSent) -> None:
        message = sent.message
        pushed = await notify(
            [member for member in sent.members if member != message.sender],
            message_notification(message),
            event_id=sent.event_id,
            breaks_quiet_hours=bool(message.is_priority),
        )
        self._on_pushed(sent.event_id, pushed)


async def signed_out(change: SignedOut) -> None:
    if change.device_id is not None:
        await repository.delete_device(change.user_id, change.device_id)


async def user_deactivated(change: UserDeactivated) -> None:
    await repository.delete_devices_of_user(change.user_id)


def subscribe(subscribers: Subscribers, *, on_pushed: OnPushed) -> None:
    """Register the push decider and device clean-up (every handler inside the unit of work)."""
    decider = PushDecider(on_pushed)
    inside = Phase.IN_TRANSACTION
    subscribers.subscribe(ReferralChanged, decider.referral_changed, phase=inside)
    subscribers.subscribe(MessageSent, decider.message_sent, phase=inside)
    subscribers.subscribe(AutomationStepFired, decider.automation_step_fired, phase=inside)
    subscribers.subscribe(SignedOut, signed_out, phase=inside)
    subscribers.subscribe(UserDeactivated, user_deactivated, phase=inside)
