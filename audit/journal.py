"""Appending to the audit journal: every activity that records a decision, transition or action appends here.

Each row carries `prev_hash` (the hash of the case's row with seq − 1, or the genesis value for seq 1) and `hash`
(SHA-256 over the canonical encoding of its content and `prev_hash`, format `xptt-audit-v1`: audit/chain.py says
exactly what is hashed, and hashes). PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the table, and the
application's role may only INSERT and SELECT (migration 0004).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import structlog
from pydantic import Field
from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import GENESIS, JournalFields, row_hash
from db.models import AuditEventRow, CaseRow

log = structlog.get_logger(__name__)

_JOURNAL = cast(Table, AuditEventRow.__table__)
# Built once and executed with each append's values: compiled once, not walked for a cache key per append.
ROW_AND_PREDECESSOR = select(_JOURNAL.c.seq, _JOURNAL.c.hash, _JOURNAL.c.prev_hash).where(
    _JOURNAL.c.case_id == bindparam("case"), _JOURNAL.c.seq.in_(bindparam("seqs", expanding=True))
)
APPEND = insert(_JOURNAL).on_conflict_do_nothing(index_elements=[_JOURNAL.c.case_id, _JOURNAL.c.seq])


class JournalGapError(RuntimeError):
    """The predecessor of a row is not in the journal yet: appends of a case must come in seq order (retryable)."""


class AuditEntry(JournalFields):
    """One journal row to append. (case_id, seq) is its business key: appending it twice stores it once. Every
    field is hashed (audit/chain.py, HASHED_FIELDS)."""

    seq: int = Field(ge=1)
    occurred_at: datetime

    def hash_after(self, prev_hash: str) -> str:
        """This row's hash when it follows the row hashed `prev_hash`."""
        return row_hash(self.model_dump(), prev_hash)


async def append_audit_event(session: AsyncSession, entry: AuditEntry, *, case_locked: bool = False) -> str:
    """Append inside the caller's transaction and return the row's hash.

    Appends of one case are serialised on its `cases` row (SELECT ... FOR NO KEY UPDATE, held to the end of the
    caller's transaction), so two appends never link to the same predecessor; `case_locked` says the caller's
    transaction holds that lock already (it wrote the row), and saves the round trip. A retried
    append of the same (case, seq) stores nothing and returns the stored hash; the chain is untouched.
    """
    if not case_locked:
        await session.execute(select(CaseRow.id).where(CaseRow.id == entry.case_id).with_for_update(key_share=True))
    # The row itself (a retry) and its predecessor, in one round trip.
    found = {
        row.seq: row
        for row in (
            await session.execute(ROW_AND_PREDECESSOR, {"case": entry.case_id, "seqs": [entry.seq - 1, entry.seq]})
        ).all()
    }
    stored = found.get(entry.seq)
    if stored is not None:
        if stored.hash != entry.hash_after(stored.prev_hash):
            # A different entry under a recorded (case, seq): the first one stays; say so.
            log.warning("audit_append_differs_from_stored", case_id=entry.case_id, seq=entry.seq, action=entry.action)
        return str(stored.hash)
    if entry.seq == 1:
        prev_hash = GENESIS
    else:
        prev = found.get(entry.seq - 1)
        if prev is None:
            raise JournalGapError(
                f"case {entry.case_id}: cannot append seq {entry.seq} ({entry.action}): seq {entry.seq - 1} "
                "is not in the journal yet"
            )
        prev_hash = prev.hash
    digest = entry.hash_after(prev_hash)
    await session.execute(APPEND, {**entry.model_dump(), "prev_hash": prev_hash, "hash": digest})
    return digest


async def append_first_audit_events(session: AsyncSession, entries: list[AuditEntry]) -> None:
    """Many cases' first rows (seq 1, linked to the genesis value) in one statement, inside the caller's
    transaction. A case whose first row is stored already keeps it. The first row of a case has no predecessor
    to race for, so no lock is taken."""
    if any(e.seq != 1 for e in entries):
        raise ValueError("append_first_audit_events takes only first rows (seq 1)")
    if not entries:
        return
    rows = [{**e.model_dump(), "prev_hash": GENESIS, "hash": e.hash_after(GENESIS)} for e in entries]
    await session.execute(
        insert(AuditEventRow)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[AuditEventRow.case_id, AuditEventRow.seq])
    )
