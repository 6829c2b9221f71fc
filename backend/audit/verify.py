"""Verifying the audit chain: names the first row that was edited, or whose predecessor vanished."""

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
        return self.first_broken_row_id is None


async def verify_chain() -> ChainReport:
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
    return ChainReport(checked, None, None)
