"""The referral state machine (SPEC §2): statuses, actions, who may take each, and where it leads.

    DRAFT ─send─► SENT ─claim─► IN_REVIEW ─request_info─► NEEDS_INFO ─provide_info─► IN_REVIEW
                   │              │
                   ├──accept──────┴──► ACCEPTED ─schedule─► SCHEDULED ─complete_visit─► VISIT_COMPLETED
                   └──decline─────┬──► DECLINED (─redirect─► new DRAFT)   │  ▲   │           │
                                  │                     reschedule/cancel ┘  │   no_show     close
                                  │                              NO_SHOW ─schedule          ▼
                   any open status ─cancel─► CANCELLED;  system ─expire─► EXPIRED        CLOSED

Actions that change no status (route, reschedule, add document, insurance and prior-auth
tracks) are listed too, so "what may this caller do now" has one answer, computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    IN_REVIEW = "IN_REVIEW"
    NEEDS_INFO = "NEEDS_INFO"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    SCHEDULED = "SCHEDULED"
    NO_SHOW = "NO_SHOW"
    VISIT_COMPLETED = "VISIT_COMPLETED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


TERMINAL = frozenset({Status.DECLINED, Status.CLOSED, Status.CANCELLED, Status.EXPIRED})
OPEN = frozenset(Status) - TERMINAL
AWAITING_RESPONSE = frozenset({Status.SENT, Status.IN_REVIEW})
AWAITING_SCHEDULING = frozenset({Status.ACCEPTED, Status.NO_SHOW})

FHIR_TASK_STATUS: dict[Status, str] = {
    Status.DRAFT: "draft",
    Status.SENT: "requested",
    Status.IN_REVIEW: "received",
    Status.NEEDS_INFO: "received",
    Status.ACCEPTED: "accepted",
    Status.DECLINED: "rejected",
    Status.SCHEDULED: "in-progress",
    Status.NO_SHOW: "in-progress",
    Status.VISIT_COMPLETED: "in-progress",
    Status.CLOSED: "completed",
    Status.CANCELLED: "cancelled",
    Status.EXPIRED: "failed",
}


class Priority(StrEnum):
    STAT = "STAT"
    URGENT = "URGENT"
    ROUTINE = "ROUTINE"


PRIORITY_RANK: dict[Priority, int] = {Priority.STAT: 0, Priority.URGENT: 1, Priority.ROUTINE: 2}


class Party(StrEnum):
    """How the caller relates to one referral (a user can be several at once)."""

    REFERRING_PROVIDER = "REFERRING_PROVIDER"
    REFERRING_STAFF = "REFERRING_STAFF"
    RECEIVING_PROVIDER = "RECEIVING_PROVIDER"
    RECEIVING_STAFF = "RECEIVING_STAFF"


class Action(StrEnum):
    EDIT = "EDIT"
    SEND = "SEND"
    ROUTE = "ROUTE"
    CLAIM = "CLAIM"
    REQUEST_INFO = "REQUEST_INFO"
    PROVIDE_INFO = "PROVIDE_INFO"
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"
    SCHEDULE = "SCHEDULE"
    RESCHEDULE = "RESCHEDULE"
    CANCEL_APPOINTMENT = "CANCEL_APPOINTMENT"
    MARK_NO_SHOW = "MARK_NO_SHOW"
    COMPLETE_VISIT = "COMPLETE_VISIT"
    CLOSE = "CLOSE"
    CANCEL = "CANCEL"
    REDIRECT = "REDIRECT"
    ADD_DOCUMENT = "ADD_DOCUMENT"
    UPDATE_INSURANCE = "UPDATE_INSURANCE"
    UPDATE_PRIOR_AUTH = "UPDATE_PRIOR_AUTH"
    EXPIRE = "EXPIRE"


@dataclass(frozen=True, slots=True)
class Rule:
    from_statuses: frozenset[Status]
    to_status: Status | None  # None: the status does not change
    parties: frozenset[Party]


REFERRER = frozenset({Party.REFERRING_PROVIDER, Party.REFERRING_STAFF})
RECEIVER = frozenset({Party.RECEIVING_PROVIDER, Party.RECEIVING_STAFF})
SCHEDULERS = frozenset({Party.RECEIVING_PROVIDER, Party.RECEIVING_STAFF, Party.REFERRING_STAFF})
BEFORE_VISIT = frozenset(
    {
        Status.SENT,
        Status.IN_REVIEW,
        Status.NEEDS_INFO,
        Status.ACCEPTED,
        Status.SCHEDULED,
        Status.NO_SHOW,
    }
)

RULES: dict[Action, Rule] = {
    Action.EDIT: Rule(frozenset({Status.DRAFT}), None, REFERRER),
    Action.SEND: Rule(frozenset({Status.DRAFT}), Status.SENT, REFERRER),
    Action.ROUTE: Rule(AWAITING_RESPONSE, None, frozenset({Party.RECEIVING_STAFF})),
    Action.CLAIM: Rule(frozenset({Status.SENT}), Status.IN_REVIEW, frozenset({Party.RECEIVING_PROVIDER})),
    Action.REQUEST_INFO: Rule(AWAITING_RESPONSE, Status.NEEDS_INFO, frozenset({Party.RECEIVING_PROVIDER})),
    Action.PROVIDE_INFO: Rule(frozenset({Status.NEEDS_INFO}), Status.IN_REVIEW, REFERRER),
    Action.ACCEPT: Rule(AWAITING_RESPONSE, Status.ACCEPTED, frozenset({Party.RECEIVING_PROVIDER})),
    Action.DECLINE: Rule(AWAITING_RESPONSE, Status.DECLINED, frozenset({Party.RECEIVING_PROVIDER})),
    Action.SCHEDULE: Rule(AWAITING_SCHEDULING, Status.SCHEDULED, SCHEDULERS),
    Action.RESCHEDULE: Rule(frozenset({Status.SCHEDULED}), None, SCHEDULERS),
    Action.CANCEL_APPOINTMENT: Rule(frozenset({Status.SCHEDULED}), Status.ACCEPTED, SCHEDULERS),
    Action.MARK_NO_SHOW: Rule(frozenset({Status.SCHEDULED}), Status.NO_SHOW, SCHEDULERS),
    Action.COMPLETE_VISIT: Rule(frozenset({Status.SCHEDULED}), Status.VISIT_COMPLETED, RECEIVER),
    Action.CLOSE: Rule(
        frozenset({Status.VISIT_COMPLETED}), Status.CLOSED, frozenset({Party.RECEIVING_PROVIDER})
    ),
    Action.CANCEL: Rule(
        OPEN - {Status.VISIT_COMPLETED},
        Status.CANCELLED,
        frozenset({Party.REFERRING_PROVIDER, Party.REFERRING_STAFF, Party.RECEIVING_STAFF}),
    ),
    Action.REDIRECT: Rule(frozenset({Status.DECLINED}), None, REFERRER),
    Action.ADD_DOCUMENT: Rule(OPEN, None, REFERRER | RECEIVER),
    Action.UPDATE_INSURANCE: Rule(
        BEFORE_VISIT, None, frozenset({Party.REFERRING_STAFF, Party.RECEIVING_STAFF})
    ),
    Action.UPDATE_PRIOR_AUTH: Rule(
        BEFORE_VISIT, None, frozenset({Party.REFERRING_STAFF, Party.RECEIVING_STAFF})
    ),
    Action.EXPIRE: Rule(BEFORE_VISIT, Status.EXPIRED, frozenset()),
}


def is_legal(action: Action, status: Status) -> bool:
    return status in RULES[action].from_statuses


def is_permitted(action: Action, parties: frozenset[Party]) -> bool:
    return bool(RULES[action].parties & parties)


def allowed_actions(status: Status, parties: frozenset[Party]) -> list[Action]:
    """What these parties may do to a referral in ``status`` now, in declaration order."""
    return [
        action for action, rule in RULES.items() if status in rule.from_statuses and rule.parties & parties
    ]


def next_status(action: Action, status: Status) -> Status:
    return RULES[action].to_status or status
