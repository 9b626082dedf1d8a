"""The directory's journal: every change to a province's officials and role assignments, append-only and
hash-chained per province, with the same guarantees as a case's journal (audit/chain.py).

Row hash (format `xptt-directory-v1`), for an auditor to re-implement:

    hash = lower-case hex SHA-256 of JCS(object)        (JCS = RFC 8785: audit/canonical.py)

where `object` has exactly these members (absent values are `null`, never left out):

    format         "xptt-directory-v1"
    province_code  text                  seq            integer, 1, 2, 3, ... without gaps within a province
    action         text                  actor_id       text | null (null: the system)
    official_id    text | null           assignment_id  integer | null
    payload        object                before         object           after    object
    reason         text | null
    occurred_at    text: UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (as the case journal writes it)
    prev_hash      text: the `hash` of the province's row seq − 1; for seq 1 the genesis value (64 zeros)

Actions: official_created, official_changed, official_deactivated, role_assigned, role_changed, role_ended; also
absence_*, target_set, past_recognition_set and ministry_report_submitted (the hash of the report sent to the
ministry, services/ministry).
`before` and `after` hold the values a change touched (all of them for a creation, in `after`).

PostgreSQL refuses UPDATE, DELETE and TRUNCATE of the table (migration 0011). Appends of a province are serialised on
its `provinces` row (FOR NO KEY UPDATE, held to the end of the caller's transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.canonical import sha256_hex
from audit.chain import GENESIS, Break, Link, chain_breaks, timestamp_text
from db.models import DirectoryEventRow, ProvinceRow

FORMAT = "xptt-directory-v1"
HASHED_FIELDS: tuple[str, ...] = (
    "province_code",
    "seq",
    "action",
    "actor_id",
    "official_id",
    "assignment_id",
    "payload",
    "before",
    "after",
    "reason",
    "occurred_at",
)


def entry_hash(values: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of a row with these values (a mapping with HASHED_FIELDS) following the row hashed `prev_hash`."""
    obj: dict[str, Any] = {"format": FORMAT, **{name: values[name] for name in HASHED_FIELDS}, "prev_hash": prev_hash}
    when = obj["occurred_at"]
    obj["occurred_at"] = when if isinstance(when, str) else timestamp_text(when)
    return sha256_hex(obj)


class DirectoryJournal:
    """The rows one transaction appends: `lock` the provinces first, `add` rows, `flush` them with the transaction."""

    def __init__(self, session: AsyncSession, *, actor_id: str | None, now: datetime) -> None:
        self.session = session
        self.actor_id = actor_id
        self.now = now
        self._heads: dict[str, tuple[int, str]] = {}
        self._rows: list[dict[str, Any]] = []

    async def lock(self, provinces: Iterable[str]) -> None:
        """Hold the provinces' rows (in code order: no deadlock between two writers) and read their heads."""
        codes = sorted(set(provinces) - set(self._heads))
        if not codes:
            return
        await self.session.execute(
            select(ProvinceRow.code)
            .where(ProvinceRow.code.in_(codes))
            .order_by(ProvinceRow.code)
            .with_for_update(key_share=True)
        )
        row = DirectoryEventRow
        last = (
            select(row.province_code, func.max(row.seq).label("seq"))
            .where(row.province_code.in_(codes))
            .group_by(row.province_code)
            .subquery()
        )
        heads = await self.session.execute(
            select(row.province_code, row.seq, row.hash).join(
                last, and_(row.province_code == last.c.province_code, row.seq == last.c.seq)
            )
        )
        found = {row.province_code: (row.seq, row.hash) for row in heads}
        for code in codes:
            self._heads[code] = found.get(code, (0, GENESIS))

    def add(
        self,
        province_code: str,
        action: str,
        *,
        official_id: str | None,
        assignment_id: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        reason: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        head = self._heads.get(province_code)
        if head is None:
            raise RuntimeError(f"the directory of province {province_code} is not locked by this transaction")
        values: dict[str, Any] = {
            "province_code": province_code,
            "seq": head[0] + 1,
            "action": action,
            "actor_id": self.actor_id,
            "official_id": official_id,
            "assignment_id": assignment_id,
            "payload": payload or {},
            "before": before or {},
            "after": after or {},
            "reason": reason,
            "occurred_at": self.now,
        }
        digest = entry_hash(values, head[1])
        self._rows.append({**values, "prev_hash": head[1], "hash": digest})
        self._heads[province_code] = (head[0] + 1, digest)

    async def flush(self) -> int:
        """Insert the rows added so far; the number inserted."""
        rows, self._rows = self._rows, []
        if rows:
            await self.session.execute(insert(DirectoryEventRow), rows)
        return len(rows)


# -- verifying -------------------------------------------------------------------------------------------------------
class DirectoryFinding(BaseModel):
    """A break in a province's chain: `missing` (a seq absent), `altered` (a row no longer hashes to its hash),
    `bad_genesis` / `broken_link` (a row hashes to itself but points elsewhere than its predecessor)."""

    model_config = ConfigDict(frozen=True)

    province_code: str
    seq: int
    kind: str
    detail: str


class DirectoryVerification(BaseModel):
    model_config = ConfigDict(frozen=True)

    province_code: str
    rows: int
    head_seq: int | None
    head_hash: str | None
    ok: bool
    first_problem: DirectoryFinding | None
    problems: list[DirectoryFinding]

    def summary(self) -> str:
        if self.first_problem is None:
            return f"directory of province {self.province_code}: the chain holds ({self.rows} rows)"
        first = self.first_problem
        return f"directory of province {self.province_code}: BROKEN at seq {first.seq} ({first.kind}): {first.detail}"


def check_directory_chain(province_code: str, rows: Sequence[Mapping[str, Any]]) -> list[DirectoryFinding]:
    """Every break in a province's chain (audit.chain.chain_breaks), in seq order (empty: the chain holds); a
    `broken_link` is reported at the row that points elsewhere."""
    links = [Link(r["seq"], r["prev_hash"], r["hash"], entry_hash(r, r["prev_hash"]), row=r) for r in rows]
    return [
        DirectoryFinding(province_code=province_code, seq=seq, kind=b.kind, detail=detail)
        for b in chain_breaks(links)
        for seq, detail in [_wording(b)]
    ]


def _wording(b: Break) -> tuple[int, str]:
    """The seq a break is reported at, and what it says."""
    at, seq = b.at, b.at.seq
    if b.kind == "missing":
        return b.first_missing, f"rows seq {b.first_missing}..{seq - 1} are missing (the next row present is seq {seq})"
    if b.kind == "altered":
        row = at.row
        return seq, (
            f"row seq {seq} ({row['action']}, official {row['official_id']}) was altered: its content hashes to "
            f"{at.computed[:16]}…, the stored hash is {at.hash[:16]}…"
        )
    if b.kind == "bad_genesis":
        return seq, f"row seq 1 points at {at.prev_hash[:16]}…, not at the genesis value"
    if b.kind == "broken_link":
        return seq, f"row seq {seq} points at {at.prev_hash[:16]}…, not at row seq {seq - 1}"
    return seq, "seq repeated"


async def read_rows(session: AsyncSession, province_code: str) -> list[dict[str, Any]]:
    result = await session.execute(
        select(DirectoryEventRow)
        .where(DirectoryEventRow.province_code == province_code)
        .order_by(DirectoryEventRow.seq)
    )
    columns = (*HASHED_FIELDS, "prev_hash", "hash")
    return [{name: getattr(row, name) for name in columns} for row in result.scalars()]


async def verify_directory(session: AsyncSession, province_code: str) -> DirectoryVerification:
    rows = await read_rows(session, province_code)
    problems = check_directory_chain(province_code, rows)
    head = rows[-1] if rows else None
    return DirectoryVerification(
        province_code=province_code,
        rows=len(rows),
        head_seq=head["seq"] if head else None,
        head_hash=head["hash"] if head else None,
        ok=not problems,
        first_problem=problems[0] if problems else None,
        problems=problems,
    )


async def journal_count(session: AsyncSession, province_code: str) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(DirectoryEventRow).where(DirectoryEventRow.province_code == province_code)
        )
        or 0
    )
