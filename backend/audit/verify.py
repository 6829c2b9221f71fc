"""Verifying the audit chain: names the first row that was edited, or whose predecessor vanished,
and notices a log that ends before the chain's head (rows deleted at its end)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.audit import repository
from backend.audit.chain import GENESIS_HASH, row_hash


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows_checked: int
    first_broken_row_id: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.reason is None


async def verify_chain() -> ChainReport:
    # the head is read first: rows appended while this runs come after it
    head = await repository.head_hash()
    if head is None:
        return ChainReport(0, None, "the chain has no head row")
    head_reached = head == GENESIS_HASH
    expected_previous = GENESIS_HASH
    checked = 0
    async for row in repository.iter_chain():
        checked += 1
        if row["prev_hash"] != expected_previous:
            return ChainReport(
                checked,
                row["id"],
                "previous-row hash mismatch: a row before it was deleted or edited",
            )
        if row_hash(row) != row["row_hash"]:
            return ChainReport(checked, row["id"], "row contents do not match its hash: row was edited")
        expected_previous = row["row_hash"]
        head_reached = head_reached or row["row_hash"] == head
    if not head_reached:
        return ChainReport(
            checked, None, "the log ends before the chain's head: rows at its end were deleted"
        )
    return ChainReport(checked, None, None)
