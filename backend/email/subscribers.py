"""Which domain events send an e-mail: a survey invitation for a patient who chose EMAIL.

SurveyInvited (with an e-mail) ──► one sealed outbox row, in the transaction
after COMMIT ──► the in-process dispatcher is woken
"""

from __future__ import annotations

from collections.abc import Callable

from backend.core import leases
from backend.core.events import Phase, Subscribers
from backend.email import messages, repository
from backend.email.codes import EmailKind
from backend.surveys.events import SurveyInvited

WAKE = leases.DispatcherWake()


def on_outbox_written(wake: Callable[[], None] | None) -> None:
    """The in-process dispatcher's wake-up, called after a commit that queued an e-mail."""
    WAKE.set(wake)


async def survey_invited(event: SurveyInvited) -> None:
    if event.email is None:
        return
    subject, body = messages.survey_invitation(event.email)
    await repository.queue(
        kind=EmailKind.SURVEY_INVITATION.value,
        to=event.email.to,
        subject=subject,
        body=body,
        now=event.occurred_at,
    )
    WAKE.after_commit()


def subscribe(subscribers: Subscribers) -> None:
    subscribers.subscribe(SurveyInvited, survey_invited, phase=Phase.IN_TRANSACTION)
