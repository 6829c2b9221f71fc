"""Which steps a referral has pending: computed from its status, its priority and the ladder of
the protocol version it was sent under, and rewritten in the unit of work of every change that
moves them (status, deadlines, priority).

    SENT        respond reminders before respond-by, escalations at and after it, expiry
    NEEDS_INFO  reminder to the referrer, escalation to the referring coordinators, expiry
                (the respond-by clock is paused: answering moves respond-by by the paused
                time, and the replan counts the respond rungs from the moved respond-by)
    ACCEPTED    scheduling escalation after schedule-by, expiry
    NO_SHOW     rebooking reminder, expiry
    VISIT_COMPLETED  outcome reminder and escalation, the survey invitation
    anything else    nothing

A replan never plans a rung whose time has already passed (a reminder that fired before the
referral went to NEEDS_INFO does not fire again). The catch-up pass (referrals that never had
steps) plans the latest past rung of each rule too, so an overdue referral escalates at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from backend.automation import records, repository
from backend.protocols import repository as protocols
from backend.protocols.codes import AutomationRule
from backend.protocols.ladder import RULES, Anchor, Rung
from backend.protocols.policy import Policy, policy_from_record
from backend.referrals.events import ReferralChanged
from backend.referrals.lifecycle import Priority, Status
from backend.referrals.records import Referral
from backend.settings import get_settings

PLAN_FIELDS = (
    "status",
    "priority",
    "respond_by",
    "schedule_by",
    "expires_at",
    "protocol_version",
    "status_changed_at",
)


def plan(
    referral: Referral, policy: Policy, *, now: datetime, survey_delay: timedelta | None, catch_up: bool
) -> list[records.PlannedStep]:
    """The steps the referral should have pending now."""
    status = Status(referral.status)
    priority = Priority(referral.priority)
    future: list[records.PlannedStep] = []
    past: dict[AutomationRule, records.PlannedStep] = {}
    candidates = [(index, rung) for index, rung in enumerate(policy.rungs(priority))]
    candidates.append((len(candidates), Rung(AutomationRule.EXPIRY)))
    if survey_delay is not None and status == Status.VISIT_COMPLETED:
        minutes = int(survey_delay.total_seconds() // 60)
        candidates.append((len(candidates), Rung(AutomationRule.SURVEY_INVITATION, after_minutes=minutes)))
    for index, rung in candidates:
        spec = RULES[rung.rule]
        if status not in spec.statuses:
            continue
        timing = _timing(referral, policy, priority, rung)
        if timing is None:
            continue
        due_at, deadline = timing
        step = records.PlannedStep(
            rule=rung.rule.value, rung=index, audience=spec.audience.value, due_at=due_at, deadline=deadline
        )
        if due_at >= now or rung.rule == AutomationRule.EXPIRY:
            future.append(step)
        elif catch_up and (rung.rule not in past or past[rung.rule].due_at < due_at):
            past[rung.rule] = step
    return sorted([*future, *past.values()], key=lambda step: (step.due_at, step.rung))


def _timing(
    referral: Referral, policy: Policy, priority: Priority, rung: Rung
) -> tuple[datetime, datetime | None] | None:
    """(due time, the deadline it is about) of a rung for this referral; None: no anchor yet."""
    anchor = RULES[rung.rule].anchor
    after = timedelta(minutes=rung.after_minutes)
    if anchor is Anchor.RESPOND_BY:
        if referral.respond_by is None:
            return None
        if rung.rule == AutomationRule.RESPOND_REMINDER:
            window = timedelta(hours=policy.deadline(priority).respond_hours)
            left = window * (100 - (rung.percent_of_window or 50)) / 100
            return referral.respond_by - left, referral.respond_by
        return referral.respond_by + after, referral.respond_by
    if anchor is Anchor.SCHEDULE_BY:
        if referral.schedule_by is None:
            return None
        return referral.schedule_by + after, referral.schedule_by
    if anchor is Anchor.EXPIRES_AT:
        if referral.expires_at is None:
            return None
        return referral.expires_at, referral.expires_at
    due = referral.status_changed_at + after
    return due, due


_POLICIES: dict[UUID, Policy] = {}
MAX_CACHED_POLICIES = 1024


async def policy_of(referral: Referral) -> Policy:
    """The policy of the protocol version the referral was sent under (defaults without one).
    Versions are never changed (saving a protocol adds one), so each is read once per process."""
    version_id = referral.protocol_version
    if version_id is None:
        return Policy()
    found = _POLICIES.get(version_id)
    if found is None:
        versions = await protocols.versions_by_ids([version_id])
        found = policy_from_record(versions[0] if versions else None)
        if versions:
            if len(_POLICIES) >= MAX_CACHED_POLICIES:
                _POLICIES.clear()
            _POLICIES[version_id] = found
    return found


def survey_delay() -> timedelta:
    return timedelta(minutes=get_settings().survey.delay_minutes)


async def replan(
    referral: Referral, *, now: datetime, had_steps: bool, catch_up: bool = False, with_survey: bool = True
) -> None:
    """Cancel what no longer applies and plan what does. A closed referral keeps its pending
    survey invitation (the visit happened; closing only delivered the report)."""
    if had_steps:
        closed = referral.status == Status.CLOSED
        await repository.cancel_pending(
            referral.id, keep_rule=AutomationRule.SURVEY_INVITATION.value if closed else None
        )
    steps = plan(
        referral,
        await policy_of(referral),
        now=now,
        survey_delay=survey_delay() if with_survey else None,
        catch_up=catch_up,
    )
    await repository.insert_steps(referral.id, steps, now)


async def referral_changed(change: ReferralChanged) -> None:
    """In the change's unit of work: rewrite the pending steps when what they depend on moved."""
    before, after = change.before, change.after
    if before is None:
        if after.status == Status.DRAFT:
            return  # nothing to plan, nothing to cancel: no statement
        await replan(after, now=change.occurred_at, had_steps=False)
        return
    if all(getattr(before, name) == getattr(after, name) for name in PLAN_FIELDS):
        return
    await replan(after, now=change.occurred_at, had_steps=before.status != Status.DRAFT)
