"""The escalation ladder of a protocol: per priority, the automated steps of SPEC §8.

    rung = (rule, when) ──► a step due at   anchor(rule) + when
        RESPOND_REMINDER              respond-by - (100 - percent)% of the respond window
        RESPOND_(MANAGER_)ESCALATION  respond-by + after_minutes
        SCHEDULE_ESCALATION           schedule-by + after_minutes
        INFO_*, REBOOK_*, OUTCOME_*   the moment the referral entered its status + after_minutes

Each rule applies while the referral is in its statuses (a referral accepted before its
respond-by reminder never gets it) and tells its audience. The ladder is stored with the
protocol version (sla.ladder); a referral keeps the ladder of the version it was sent under.
EXPIRY (at the validity window's end) and SURVEY_INVITATION (after the visit) are planned for
every referral and are not rungs a manager edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from backend.core.errors import InvalidInput
from backend.protocols.codes import Audience, AutomationRule
from backend.protocols.limits import MAX_RUNG_MINUTES, MAX_RUNGS_PER_PRIORITY
from backend.referrals import lifecycle
from backend.referrals.lifecycle import Priority, Status


class Anchor(Enum):
    RESPOND_BY = "respond-by"
    SCHEDULE_BY = "schedule-by"
    ENTERED_STATUS = "entered its status"
    EXPIRES_AT = "validity window's end"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    statuses: frozenset[Status]
    anchor: Anchor
    audience: Audience
    escalation: bool  # an escalation (ESCALATIONS push category) or a reminder (REMINDERS)


RULES: dict[AutomationRule, RuleSpec] = {
    AutomationRule.RESPOND_REMINDER: RuleSpec(
        lifecycle.AWAITING_RESPONSE, Anchor.RESPOND_BY, Audience.RECEIVING_PROVIDER, escalation=False
    ),
    AutomationRule.RESPOND_ESCALATION: RuleSpec(
        lifecycle.AWAITING_RESPONSE, Anchor.RESPOND_BY, Audience.RECEIVING_COORDINATORS, escalation=True
    ),
    AutomationRule.RESPOND_MANAGER_ESCALATION: RuleSpec(
        lifecycle.AWAITING_RESPONSE, Anchor.RESPOND_BY, Audience.RECEIVING_MANAGERS, escalation=True
    ),
    AutomationRule.INFO_REMINDER: RuleSpec(
        frozenset({Status.NEEDS_INFO}), Anchor.ENTERED_STATUS, Audience.REFERRING_PROVIDER, escalation=False
    ),
    AutomationRule.INFO_ESCALATION: RuleSpec(
        frozenset({Status.NEEDS_INFO}),
        Anchor.ENTERED_STATUS,
        Audience.REFERRING_COORDINATORS,
        escalation=True,
    ),
    AutomationRule.SCHEDULE_ESCALATION: RuleSpec(
        frozenset({Status.ACCEPTED}), Anchor.SCHEDULE_BY, Audience.RECEIVING_COORDINATORS, escalation=True
    ),
    AutomationRule.REBOOK_REMINDER: RuleSpec(
        frozenset({Status.NO_SHOW}), Anchor.ENTERED_STATUS, Audience.RECEIVING_COORDINATORS, escalation=False
    ),
    AutomationRule.OUTCOME_REMINDER: RuleSpec(
        frozenset({Status.VISIT_COMPLETED}),
        Anchor.ENTERED_STATUS,
        Audience.RECEIVING_PROVIDER,
        escalation=False,
    ),
    AutomationRule.OUTCOME_ESCALATION: RuleSpec(
        frozenset({Status.VISIT_COMPLETED}),
        Anchor.ENTERED_STATUS,
        Audience.RECEIVING_COORDINATORS,
        escalation=True,
    ),
    AutomationRule.EXPIRY: RuleSpec(
        lifecycle.RULES[lifecycle.Action.EXPIRE].from_statuses,
        Anchor.EXPIRES_AT,
        Audience.NOBODY,
        escalation=False,
    ),
    AutomationRule.SURVEY_INVITATION: RuleSpec(
        frozenset({Status.VISIT_COMPLETED, Status.CLOSED}),
        Anchor.ENTERED_STATUS,
        Audience.PATIENT,
        escalation=False,
    ),
}
PLANNED_FOR_EVERY_REFERRAL = frozenset({AutomationRule.EXPIRY, AutomationRule.SURVEY_INVITATION})


@dataclass(frozen=True, slots=True)
class Rung:
    rule: AutomationRule
    percent_of_window: int | None = None  # RESPOND_REMINDER only
    after_minutes: int = 0  # every other rule: minutes after its anchor

    def to_json(self) -> dict[str, Any]:
        if self.rule == AutomationRule.RESPOND_REMINDER:
            return {"rule": self.rule.value, "percent_of_window": self.percent_of_window}
        return {"rule": self.rule.value, "after_minutes": self.after_minutes}


def _rungs(*pairs: tuple[AutomationRule, int]) -> tuple[Rung, ...]:
    return tuple(
        Rung(rule, percent_of_window=when)
        if rule == AutomationRule.RESPOND_REMINDER
        else Rung(rule, after_minutes=when)
        for rule, when in pairs
    )


HOUR, DAY = 60, 24 * 60
R = AutomationRule
DEFAULT_LADDER: dict[Priority, tuple[Rung, ...]] = {
    Priority.STAT: _rungs(
        (R.RESPOND_REMINDER, 25),
        (R.RESPOND_REMINDER, 75),
        (R.RESPOND_ESCALATION, 0),
        (R.RESPOND_MANAGER_ESCALATION, HOUR),
        (R.INFO_REMINDER, HOUR),
        (R.INFO_ESCALATION, 4 * HOUR),
        (R.SCHEDULE_ESCALATION, 0),
        (R.REBOOK_REMINDER, DAY),
        (R.OUTCOME_REMINDER, 2 * DAY),
        (R.OUTCOME_ESCALATION, 4 * DAY),
    ),
    Priority.URGENT: _rungs(
        (R.RESPOND_REMINDER, 50),
        (R.RESPOND_REMINDER, 90),
        (R.RESPOND_ESCALATION, 0),
        (R.RESPOND_MANAGER_ESCALATION, 4 * HOUR),
        (R.INFO_REMINDER, 8 * HOUR),
        (R.INFO_ESCALATION, DAY),
        (R.SCHEDULE_ESCALATION, 0),
        (R.REBOOK_REMINDER, 2 * DAY),
        (R.OUTCOME_REMINDER, 3 * DAY),
        (R.OUTCOME_ESCALATION, 7 * DAY),
    ),
    Priority.ROUTINE: _rungs(
        (R.RESPOND_REMINDER, 50),
        (R.RESPOND_REMINDER, 90),
        (R.RESPOND_ESCALATION, 0),
        (R.RESPOND_MANAGER_ESCALATION, DAY),
        (R.INFO_REMINDER, DAY),
        (R.INFO_ESCALATION, 3 * DAY),
        (R.SCHEDULE_ESCALATION, 0),
        (R.REBOOK_REMINDER, 7 * DAY),
        (R.OUTCOME_REMINDER, 7 * DAY),
        (R.OUTCOME_ESCALATION, 14 * DAY),
    ),
}


def ladder_to_json(ladder: tuple[tuple[Priority, tuple[Rung, ...]], ...]) -> dict[str, Any]:
    return {priority.value: [rung.to_json() for rung in rungs] for priority, rungs in ladder}


def ladder_from_json(value: Any) -> tuple[tuple[Priority, tuple[Rung, ...]], ...]:
    """The stored ladder; a priority the version does not name (versions saved before ladders
    existed) gets the default rungs."""
    stored = value if isinstance(value, dict) else {}
    ladder = []
    for priority in Priority:
        entries = stored.get(priority.value)
        if entries is None:
            ladder.append((priority, DEFAULT_LADDER[priority]))
            continue
        ladder.append(
            (
                priority,
                tuple(
                    Rung(
                        AutomationRule(entry["rule"]),
                        percent_of_window=entry.get("percent_of_window"),
                        after_minutes=int(entry.get("after_minutes") or 0),
                    )
                    for entry in entries
                ),
            )
        )
    return tuple(ladder)


def check_rungs(problems: InvalidInput, priority: Priority, rungs: tuple[Rung, ...]) -> None:
    """Every problem of one priority's rungs, on the ``ladder`` field."""
    if len(rungs) > MAX_RUNGS_PER_PRIORITY:
        problems.add("ladder", "TOO_MANY", f"{priority}: at most {MAX_RUNGS_PER_PRIORITY} rungs.")
    for rung in rungs:
        if rung.rule in PLANNED_FOR_EVERY_REFERRAL:
            problems.add("ladder", "NOT_A_RUNG", f"{priority}: {rung.rule} is planned for every referral.")
        elif rung.rule == AutomationRule.RESPOND_REMINDER:
            if rung.percent_of_window is None or not 1 <= rung.percent_of_window <= 99:
                problems.add(
                    "ladder", "OUT_OF_RANGE", f"{priority}: a respond reminder is at 1-99% of the window."
                )
        elif not 0 <= rung.after_minutes <= MAX_RUNG_MINUTES:
            problems.add(
                "ladder", "OUT_OF_RANGE", f"{priority}: {rung.rule} after 0-{MAX_RUNG_MINUTES} minutes."
            )
