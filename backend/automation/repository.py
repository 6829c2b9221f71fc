"""Every automation query: planning, claiming and firing steps, the next step of a referral."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from backend.automation import records
from backend.automation.codes import StepStatus
from backend.automation.tables import AutomationStep
from backend.core import leases
from backend.db import fetch, placeholders
from backend.referrals import repository as referrals
from backend.referrals.records import Referral

CATCH_UP_LOCK = 0x0A17_0000_CA7C  # pg_advisory_xact_lock key of the catch-up pass
COLUMNS = ", ".join(f'"{column._meta.db_column_name}"' for column in AutomationStep._meta.columns)


async def insert_steps(referral_id: UUID, steps: Sequence[records.PlannedStep], now: datetime) -> None:
    if not steps:
        return
    await AutomationStep.insert(
        *[
            AutomationStep(
                id=uuid.uuid4(),
                referral=referral_id,
                rule=step.rule,
                rung=step.rung,
                audience=step.audience,
                due_at=step.due_at,
                deadline=step.deadline,
                status=StepStatus.PENDING.value,
                created_at=now,
            )
            for step in steps
        ]
    )


async def cancel_pending(referral_id: UUID, *, keep_rule: str | None = None) -> None:
    """The referral moved on: its pending steps (but ``keep_rule``'s) no longer apply."""
    await fetch(
        AutomationStep,
        "UPDATE automation_step SET status = {} WHERE referral = {} AND status = {} AND rule <> {}",
        StepStatus.CANCELLED.value,
        referral_id,
        StepStatus.PENDING.value,
        keep_rule or "",
    )


async def claim_due(*, now: datetime, lease: timedelta, limit: int, is_sqlite: bool) -> list[records.Step]:
    rows = await leases.claim_due(
        AutomationStep,
        due_column="due_at",
        pending=StepStatus.PENDING.value,
        columns=COLUMNS,
        now=now,
        lease=lease,
        limit=limit,
        is_sqlite=is_sqlite,
    )
    return [records.Step(**row) for row in rows]


async def fire(
    step_id: UUID, referral_id: UUID, *, now: datetime, late: bool, is_sqlite: bool
) -> Referral | None:
    """Mark the step FIRED if it is still PENDING (the guard that makes it fire once: a second
    runner holding the same claimed row, or a change that cancelled it, gets nothing back) and
    read its referral, in one statement on PostgreSQL (SQLite has no UPDATE inside WITH)."""
    if is_sqlite:
        if await mark_fired(step_id, now=now, late=late) is None:
            return None
        return await referrals.referral_by_id(referral_id)
    rows = await fetch(
        AutomationStep,
        "WITH fired AS (UPDATE automation_step SET status = {}, fired_at = {}, late = {}, "  # noqa: S608
        "claimed_until = NULL WHERE id = {} AND status = {} RETURNING referral) "
        f"SELECT {referrals.REFERRAL_COLUMNS} FROM referral JOIN fired ON referral.id = fired.referral",
        StepStatus.FIRED.value,
        now,
        late,
        step_id,
        StepStatus.PENDING.value,
    )
    return referrals.referral_of_row(rows[0]) if rows else None


async def mark_fired(step_id: UUID, *, now: datetime, late: bool) -> records.Step | None:
    """FIRED, if it is still PENDING (the guard that makes a step fire once: a second runner
    holding the same claimed row, or a change that cancelled it, gets nothing back)."""
    rows = await fetch(
        AutomationStep,
        "UPDATE automation_step SET status = {}, fired_at = {}, late = {}, claimed_until = NULL "  # noqa: S608
        f"WHERE id = {{}} AND status = {{}} RETURNING {COLUMNS}",
        StepStatus.FIRED.value,
        now,
        late,
        step_id,
        StepStatus.PENDING.value,
    )
    return records.Step(**rows[0]) if rows else None


async def settle(step_id: UUID, status: StepStatus) -> None:
    """A claimed step that will not fire after all (CANCELLED, SUPERSEDED)."""
    await fetch(
        AutomationStep,
        "UPDATE automation_step SET status = {}, claimed_until = NULL WHERE id = {} AND status IN ({}, {})",
        status.value,
        step_id,
        StepStatus.PENDING.value,
        StepStatus.FIRED.value,
    )


async def later_step_due(referral_id: UUID, rules: Sequence[str], after: datetime, now: datetime) -> bool:
    """Whether another pending step of the referral, of one of ``rules``, came due after ``after``
    (and by ``now``)."""
    rows = await fetch(
        AutomationStep,
        "SELECT id FROM automation_step WHERE referral = {} AND status = {} "  # noqa: S608 - constants only
        f"AND rule IN ({placeholders(len(rules))}) AND due_at > {{}} AND due_at <= {{}} LIMIT 1",
        referral_id,
        StepStatus.PENDING.value,
        *rules,
        after,
        now,
    )
    return bool(rows)


async def pending_of_referrals(referral_ids: Sequence[UUID]) -> dict[UUID, list[records.Step]]:
    """Each referral's pending steps, soonest first (one statement for a page of referrals)."""
    if not referral_ids:
        return {}
    rows = await fetch(
        AutomationStep,
        f"SELECT {COLUMNS} FROM automation_step "  # noqa: S608 - constants only
        f"WHERE referral IN ({placeholders(len(referral_ids))}) AND status = {{}} ORDER BY due_at, rung",
        *referral_ids,
        StepStatus.PENDING.value,
    )
    found: dict[UUID, list[records.Step]] = {referral_id: [] for referral_id in referral_ids}
    for row in rows:
        found[row["referral"]].append(records.Step(**row))
    return found


async def lock_catch_up(*, is_sqlite: bool) -> None:
    """Serialize catch-up passes of several processes starting at once (PostgreSQL: a
    transaction-scoped advisory lock; SQLite: the writer lock already does), so no referral is
    planned twice."""
    if not is_sqlite:
        await fetch(AutomationStep, "SELECT pg_advisory_xact_lock({})", CATCH_UP_LOCK)


async def referrals_without_steps(statuses: Sequence[str], after: UUID | None, limit: int) -> list[UUID]:
    """Referrals in these statuses that have never had a step, in id order after ``after``
    (the planner's catch-up pass pages through them, whether or not it plans anything)."""
    rows = await fetch(
        AutomationStep,
        f"SELECT referral.id FROM referral WHERE referral.status IN ({placeholders(len(statuses))}) "  # noqa: S608
        "AND referral.id > {} "
        "AND NOT EXISTS (SELECT 1 FROM automation_step WHERE automation_step.referral = referral.id) "
        "ORDER BY referral.id LIMIT {}",
        *statuses,
        after or UUID(int=0),
        limit,
    )
    return [row["id"] for row in rows]
