"""Who reacts to the domains' events: the one place subsystems are plugged in.

    domain service ── emit(event) ──► Subscribers (built here, held by the Database)
        ├─ messaging                backend/messaging/subscribers.py  in the transaction
        │    (a new referral gets its conversation)
        ├─ automation planner       backend/automation/subscribers.py in the transaction
        │    (the referral's pending reminders and escalations)
        ├─ realtime stream writer   backend/realtime/subscribers.py   in the transaction
        ├─ push decider             backend/push/subscribers.py       in the transaction
        │    └─ reports the users it pushed to the stream (live suppression)
        └─ e-mail                   backend/email/subscribers.py      in the transaction
             (a survey invitation for a patient who chose EMAIL → the e-mail outbox)

A new subsystem (analytics, the EHR notifier) adds a ``subscribe`` function of its
own and one line below; domains never learn about it. Called by ``build_container`` for the app
factory, every CLI command and the worker. The tables whose data keys key rotation re-wraps are
listed here too, so the core (backend/crypto/rotation.py) imports no domain.
"""

from __future__ import annotations

from backend.automation import subscribers as automation
from backend.core.events import Subscribers
from backend.crypto.rotation import WrappedKeys
from backend.email import repository as email
from backend.email import subscribers as email_reactions
from backend.messaging import repository as messaging
from backend.messaging import subscribers as messaging_reactions
from backend.patients import repository as patients
from backend.push import subscribers as push
from backend.realtime import events as stream
from backend.realtime import subscribers as realtime
from backend.referrals import repository as referrals

WRAPPED_KEYS: tuple[WrappedKeys, ...] = (
    referrals.WRAPPED_KEYS,
    patients.WRAPPED_KEYS,
    messaging.WRAPPED_KEYS,
    email.WRAPPED_KEYS,
)
"""Every table holding wrapped data keys, as its domain declares it: what `keys rotate` walks."""


def build_subscribers() -> Subscribers:
    subscribers = Subscribers()
    messaging_reactions.subscribe(subscribers)
    automation.subscribe(subscribers)
    realtime.subscribe(subscribers)
    push.subscribe(subscribers, on_pushed=stream.note_push_users)
    email_reactions.subscribe(subscribers)
    return subscribers
