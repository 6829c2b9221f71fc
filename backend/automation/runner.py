"""The runner: fires due steps, each once, in every process that runs it.

    tick (every AUTOMATION_TICK_MS; one task per server process, or `python -m backend worker`)
      claim up to BATCH due steps for a lease, in one committed statement (index probe on
          (status, due_at): the cost grows with what is due, not with how many referrals are open)
      each claimed step, in a unit of work of its own:
          late (due more than AUTOMATION_LATE_AFTER_SECONDS ago) and a later step of the same
              referral also due ──► SUPERSEDED (after an outage, one step per referral fires)
          mark FIRED unless no longer PENDING (cancelled by a change, fired by another runner)
          ──► the referral is not in the rule's statuses any more ──► CANCELLED
          ──► EXPIRY: the referral expires (version-checked, as the expiry job does)
          ──► SURVEY_INVITATION: the patient is invited (backend/surveys: e-mail when their
              contact preference allows, otherwise a link the coordinator hands over)
          ──► reminder / escalation: timeline entry, audit entry, AutomationStepFired (stream and
              push react in the same unit of work)

The FIRED mark commits with everything the step wrote, so a runner killed mid-batch leaves its
unfired steps claimed until the lease expires, and they fire once then; a step never fires twice.
The only duplicate window is push's own (FCM answered, the record not yet written).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from backend.audit.service import AuditTrail
from backend.automation import audience, repository
from backend.automation.codes import StepStatus
from backend.automation.events import AutomationStepFired
from backend.automation.records import Step
from backend.core.clock import utcnow
from backend.core.events import emit
from backend.core.request import RequestMeta
from backend.db import STATEMENTS, Database
from backend.logging import get_logger
from backend.protocols.codes import Audience, AutomationRule
from backend.protocols.ladder import RULES
from backend.referrals import access as referral_access
from backend.referrals import repository as referrals
from backend.referrals import service as referral_service
from backend.referrals.lifecycle import Status
from backend.settings import AutomationSettings
from backend.surveys import service as surveys

logger = get_logger(__name__)


@dataclass(slots=True)
class RunCounters:
    claimed: int = 0
    fired: int = 0
    late: int = 0
    superseded: int = 0
    cancelled: int = 0


@dataclass(slots=True)
class Runner:
    database: Database
    settings: AutomationSettings = field(default_factory=AutomationSettings)
    counters: RunCounters = field(default_factory=RunCounters)

    async def run_once(self, now: datetime | None = None) -> int:
        """One tick: claim due steps and fire each. Returns how many it claimed."""
        now = now or utcnow()
        async with self.database.unit_of_work() as uow:
            claimed = await repository.claim_due(
                now=now,
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=self.settings.batch,
                is_sqlite=uow.is_sqlite,
            )
        self.counters.claimed += len(claimed)
        for step in claimed:
            try:
                await self.fire(step, now)
            except Exception as error:  # the lease brings it back; the others still fire
                logger.error("automation.step_failed", rule=step.rule, error_type=type(error).__name__)
        return len(claimed)

    async def fire(self, step: Step, now: datetime) -> None:
        async with self.database.unit_of_work() as uow:
            late = now - step.due_at > timedelta(seconds=self.settings.late_seconds)
            if late and await repository.later_step_due(step.referral, _track(step.rule), step.due_at, now):
                await repository.settle(step.id, StepStatus.SUPERSEDED)
                self.counters.superseded += 1
                return
            referral = await repository.fire(
                step.id, step.referral, now=now, late=late, is_sqlite=uow.is_sqlite
            )
            if referral is None:
                return
            rule = AutomationRule(step.rule)
            if Status(referral.status) not in RULES[rule].statuses:
                await repository.settle(step.id, StepStatus.CANCELLED)
                self.counters.cancelled += 1
                return
            meta = RequestMeta(client_address="system", request_id=f"automation-{secrets.token_hex(6)}")
            audit = AuditTrail(uow, meta)
            self.counters.fired += 1
            self.counters.late += late
            if rule == AutomationRule.EXPIRY:
                await referral_service.expire_referral(audit, referral, now=now)
                return
            if rule == AutomationRule.SURVEY_INVITATION:
                await surveys.invite(referral.id, now=now)
                return
            spec = RULES[rule]
            told = await audience.users_of(referral, Audience(step.audience))
            await referral_service.record_automated_step(
                audit,
                referral,
                action="ESCALATE" if spec.escalation else "REMIND",
                rule=rule.value,
                note=_note(rule, Audience(step.audience), step.deadline, late=late),
                now=now,
            )
            await emit(
                AutomationStepFired(
                    referral=referral,
                    rule=rule.value,
                    audience=step.audience,
                    deadline=step.deadline,
                    late=late,
                    escalation=spec.escalation,
                    told=told,
                    recipients=await referral_access.recipients_at_version(referral),
                )
            )

    async def run(self) -> None:
        """Tick until cancelled (one task per process)."""
        STATEMENTS.ignore_current_task()
        while True:
            try:
                while await self.run_once() >= self.settings.batch:
                    pass  # a full batch: more may be due
            except Exception as error:
                logger.error("automation.tick_failed", error_type=type(error).__name__)
            await asyncio.sleep(self.settings.tick_seconds)


def _track(rule: str) -> list[str]:
    """The rules that chase the same thing as ``rule`` (they apply in the same statuses): of a
    referral's late steps on one track only the latest fires."""
    statuses = RULES[AutomationRule(rule)].statuses
    return [other.value for other, spec in RULES.items() if spec.statuses == statuses]


LABELS = {
    Audience.RECEIVING_PROVIDER: "the receiving provider",
    Audience.RECEIVING_COORDINATORS: "the receiving organization's coordinators",
    Audience.RECEIVING_MANAGERS: "the receiving organization's referral managers",
    Audience.REFERRING_PROVIDER: "the referring provider",
    Audience.REFERRING_COORDINATORS: "the referring organization's coordinators",
    Audience.PATIENT: "the patient",
    Audience.NOBODY: "nobody",
}


def _note(rule: AutomationRule, told: Audience, deadline: datetime | None, *, late: bool) -> str:
    """What the timeline says (no PHI: the rule, the deadline and whom it told)."""
    parts = [f"{rule.value.replace('_', ' ').capitalize()} sent to {LABELS[told]}"]
    if deadline is not None:
        parts.append(f"deadline {deadline.strftime('%Y-%m-%d %H:%M UTC')}")
    if late:
        parts.append("sent late (the service was unavailable when it was due)")
    return "; ".join(parts) + "."


async def catch_up(database: Database, *, now: datetime | None = None, batch: int = 500) -> int:
    """Plan the steps of open referrals that never had any (written before automation existed,
    or by the demo seed's bulk path): the latest past rung of each rule is planned too, so an
    overdue referral escalates at the next tick; no survey is planned for past visits.
    Idempotent; one batch per unit of work, in id order."""
    from backend.automation import planner

    planned = 0
    statuses = sorted(
        {
            status.value
            for rule, spec in RULES.items()
            if rule != AutomationRule.SURVEY_INVITATION
            for status in spec.statuses
        }
    )
    after = None
    while True:
        async with database.unit_of_work() as uow:
            await repository.lock_catch_up(is_sqlite=uow.is_sqlite)
            ids = await repository.referrals_without_steps(statuses, after, batch)
            for referral in await referrals.referrals_by_ids(ids):
                await planner.replan(
                    referral, now=now or utcnow(), had_steps=False, catch_up=True, with_survey=False
                )
        planned += len(ids)
        if len(ids) < batch:
            return planned
        after = ids[-1]
