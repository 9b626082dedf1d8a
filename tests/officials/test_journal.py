"""The directory's journal has the case journal's guarantees: each province's rows chained by hash (the format
re-computed here by hand), verification naming a row altered, removed or relinked by someone who switched the
triggers off, and PostgreSQL refusing every change of a recorded row (the owner by the trigger, the application's
role by its privileges)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.chain import GENESIS
from db.models import DirectoryEventRow
from services.officials.importer import import_officials
from services.officials.journal import DirectoryJournal, verify_directory
from tests.officials.support import ADMIN, NOW, OTHER, PROVINCE, good_rows, principal, seed_directory, to_csv

Sessions = async_sessionmaker[AsyncSession]
CHANGES = [
    "UPDATE directory_journal SET reason = 'rewritten' WHERE province_code = '33'",
    "DELETE FROM directory_journal WHERE province_code = '33'",
    "TRUNCATE directory_journal",
]


async def _journalled(sessions: Sessions, rows: int = 6) -> None:
    """Officials imported into Hưng Yên: `rows` journal rows (an official and a role each two)."""
    await seed_directory(sessions)
    admin = await principal(sessions, ADMIN)
    async with sessions() as session:
        report = await import_officials(session, admin, PROVINCE, to_csv(good_rows()[: rows // 2]), apply=True, now=NOW)
    assert report.journal_rows == rows


async def _rows(sessions: Sessions) -> list[DirectoryEventRow]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(DirectoryEventRow)
                .where(DirectoryEventRow.province_code == PROVINCE)
                .order_by(DirectoryEventRow.seq)
            )
        )


async def _without_triggers(sessions: Sessions, sql: str, **params: Any) -> None:
    """As the database's owner with the triggers switched off for one transaction."""
    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text(sql), params)


async def test_rows_chain_per_province_and_hash_as_documented(sessions: Sessions) -> None:
    await _journalled(sessions)
    rows = await _rows(sessions)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r.prev_hash for r in rows] == [GENESIS, *(r.hash for r in rows[:-1])]
    first = rows[0]
    # xptt-directory-v1 by hand: JCS is sorted keys, no spaces, UTF-8 as is (no floats here)
    hashed = {
        "format": "xptt-directory-v1",
        "province_code": first.province_code,
        "seq": first.seq,
        "action": first.action,
        "actor_id": first.actor_id,
        "official_id": first.official_id,
        "assignment_id": first.assignment_id,
        "payload": first.payload,
        "before": first.before,
        "after": first.after,
        "reason": first.reason,
        "occurred_at": "2026-03-02T03:00:00.000000Z",
        "prev_hash": GENESIS,
    }
    text_form = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(text_form.encode()).hexdigest() == first.hash
    assert (first.action, first.after["full_name"]) == ("official_created", "Nguyễn Văn 0")

    # another province's chain starts at its own genesis
    async with sessions() as session, session.begin():
        journal = DirectoryJournal(session, actor_id=None, now=NOW)
        await journal.lock([OTHER])
        journal.add(OTHER, "official_changed", official_id="x", after={"phone": "0912000000"})
        await journal.flush()
    async with sessions() as session:
        other = await verify_directory(session, OTHER)
        here = await verify_directory(session, PROVINCE)
    assert (other.ok, other.rows, here.ok, here.rows, here.head_hash) == (True, 1, True, 6, rows[-1].hash)


async def test_a_row_altered_by_hand_is_named_by_verify(sessions: Sessions) -> None:
    await _journalled(sessions)
    await _without_triggers(
        sessions,
        "UPDATE directory_journal SET after = jsonb_set(after, '{email}', '\"ke-gian@example.com\"') "
        "WHERE province_code = :p AND seq = 3",
        p=PROVINCE,
    )
    async with sessions() as session:
        result = await verify_directory(session, PROVINCE)
    assert not result.ok and result.first_problem is not None
    assert (result.first_problem.seq, result.first_problem.kind) == (3, "altered")
    assert "BROKEN at seq 3 (altered)" in result.summary()
    assert [p.seq for p in result.problems] == [3]


async def test_a_row_removed_or_relinked_by_hand_is_named_by_verify(sessions: Sessions) -> None:
    await _journalled(sessions)
    rows = await _rows(sessions)
    await _without_triggers(sessions, "DELETE FROM directory_journal WHERE province_code = :p AND seq = 2", p=PROVINCE)
    async with sessions() as session:
        result = await verify_directory(session, PROVINCE)
    assert result.first_problem is not None
    assert (result.first_problem.seq, result.first_problem.kind) == (2, "missing")

    # a forged row 2 that hashes to itself, but row 3 points at the real one
    forged = {c: getattr(rows[1], c) for c in ("province_code", "action", "actor_id", "official_id", "assignment_id")}
    async with sessions() as session, session.begin():
        journal = DirectoryJournal(session, actor_id="intruder", now=NOW)
        journal._heads[PROVINCE] = (1, rows[0].hash)  # appending after row 1, as a forger would
        journal.add(PROVINCE, "role_assigned", official_id=forged["official_id"], after={"role": "admin"})
        await journal.flush()
    async with sessions() as session:
        relinked = await verify_directory(session, PROVINCE)
    assert [(p.seq, p.kind) for p in relinked.problems] == [(3, "broken_link")]


@pytest.mark.parametrize("statement", CHANGES)
@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        pytest.param(None, "directory_journal is append-only", id="even_the_owner_by_the_trigger"),
        pytest.param("xptt_app", "permission denied for table directory_journal", id="the_app_role_by_privileges"),
    ],
)
async def test_recorded_rows_may_not_be_updated_or_deleted(
    sessions: Sessions, statement: str, role: str | None, refusal: str
) -> None:
    await _journalled(sessions, rows=2)
    async with sessions() as session, session.begin():
        if role is not None:
            await session.execute(text(f"SET LOCAL ROLE {role}"))
        with pytest.raises(DBAPIError, match=refusal):
            await session.execute(text(statement))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DirectoryEventRow)) == 2


async def test_the_application_role_appends_to_the_directory(sessions: Sessions) -> None:
    await _journalled(sessions, rows=2)
    admin = await principal(sessions, ADMIN)
    async with sessions() as session:
        await session.execute(text("SET ROLE xptt_app"))
        report = await import_officials(session, admin, PROVINCE, to_csv(good_rows()[1:2]), apply=True, now=NOW)
        await session.execute(text("RESET ROLE"))
        await session.commit()
    assert report.journal_rows == 2
    async with sessions() as session:
        assert (await verify_directory(session, PROVINCE)).rows == 4
