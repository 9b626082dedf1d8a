"""The journal in real PostgreSQL: appends build the chain, retries store nothing new, hand edits are caught and
named, and the database itself refuses changes (trigger for everyone, privileges for the application's role)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.chain import GENESIS, row_hash
from audit.journal import AuditEntry, JournalGapError, append_audit_event
from audit.service import verify_case
from db.migrate import alembic_config, upgrade_async
from db.models import AuditEventRow, CaseRow
from db.session import make_engine, make_session_factory
from tests.builders import case_row, journal_values
from tests.conftest import _admin_engine, with_database
from tests.support import ROUND_ID, seed

T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)
# Every way to change recorded rows: the journal refuses each.
CHANGES = [
    "UPDATE audit_events SET reason = 'rewritten' WHERE case_id = :c",
    "DELETE FROM audit_events WHERE case_id = :c",
    "TRUNCATE audit_events",
]


def entry(case_id: str, unit: str, seq: int, **over: Any) -> AuditEntry:
    """Journal row `seq` of the case: a payload with a fraction and Vietnamese text, a time to the microsecond; the
    steps after the opening by the unit's commune officer (seeded by `new_case`)."""
    values = journal_values(seq, case_id=case_id, workflow_id=case_id, unit_code=unit)
    if seq > 1:
        values["actor_id"] = f"demo-officer-{unit}"
    values["payload"] = {"n": seq, "score": 12.5, "note": "Hưng Yên"}
    values["occurred_at"] = T0 + timedelta(minutes=seq, microseconds=seq)
    return AuditEntry(**(values | over))


async def new_case(sessions: async_sessionmaker[AsyncSession], rows: int = 0) -> tuple[str, str]:
    unit, _ = await seed(sessions)
    case_id = f"{ROUND_ID}-{unit}"
    async with sessions() as session, session.begin():
        columns = case_row(unit, stage="registration", status="open", last_seq=rows, opened_at=T0, updated_at=T0)
        await session.execute(insert(CaseRow).values(**columns))
    for seq in range(1, rows + 1):
        async with sessions() as session, session.begin():
            await append_audit_event(session, entry(case_id, unit, seq))
    return case_id, unit


async def test_appends_chain_each_row_to_its_predecessor(sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id, _ = await new_case(sessions, rows=4)
    async with sessions() as session:
        rows = (
            (await session.execute(select(AuditEventRow).where(AuditEventRow.case_id == case_id).order_by("seq")))
            .scalars()
            .all()
        )
    assert [r.prev_hash for r in rows] == [GENESIS, rows[0].hash, rows[1].hash, rows[2].hash]
    result = await verify_case(sessions, case_id)
    assert result.ok, result.problems
    assert (result.rows, result.head_seq, result.head_hash) == (4, 4, rows[3].hash)


async def test_a_retried_append_stores_nothing_new_and_keeps_the_chain(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id, unit = await new_case(sessions, rows=3)
    async with sessions() as session, session.begin():
        again = await append_audit_event(session, entry(case_id, unit, 2))
        other = await append_audit_event(session, entry(case_id, unit, 3, reason="a different retry"))
    async with sessions() as session:
        result = await session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash).where(AuditEventRow.case_id == case_id)
        )
        stored = {seq: digest for seq, digest in result}
    assert len(stored) == 3
    assert (again, other) == (stored[2], stored[3])
    assert (await verify_case(sessions, case_id)).ok


async def test_an_append_before_its_predecessor_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id, unit = await new_case(sessions, rows=2)
    async with sessions() as session, session.begin():
        with pytest.raises(JournalGapError, match=r"cannot append seq 4 .* seq 3 is not in the journal"):
            await append_audit_event(session, entry(case_id, unit, 4))


async def test_concurrent_appends_of_one_case_are_serialised(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Two transactions appending the same seq at once: the second waits, then finds the first's row."""
    case_id, unit = await new_case(sessions, rows=1)
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def slow_first() -> str:
        async with sessions() as session, session.begin():
            digest = await append_audit_event(session, entry(case_id, unit, 2, reason="first"))
            first_in.set()
            await release.wait()  # hold the case's lock, row not yet committed
            return digest

    async def second() -> str:
        await first_in.wait()
        async with sessions() as session, session.begin():
            return await append_audit_event(session, entry(case_id, unit, 2, reason="second"))

    task_a = asyncio.create_task(slow_first())
    task_b = asyncio.create_task(second())
    await first_in.wait()
    await asyncio.sleep(0.3)
    assert not task_b.done(), "the second append must wait for the first transaction"
    release.set()
    a, b = await asyncio.gather(task_a, task_b)
    assert a == b
    assert (await verify_case(sessions, case_id)).ok


async def _as_superuser_without_triggers(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text(sql), params)


async def test_a_row_altered_by_hand_is_named_by_verify(sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id, _ = await new_case(sessions, rows=5)
    await _as_superuser_without_triggers(
        sessions,
        "UPDATE audit_events SET payload = jsonb_set(payload, '{n}', '99') WHERE case_id = :c AND seq = 3",
        c=case_id,
    )
    result = await verify_case(sessions, case_id)
    assert not result.ok
    assert result.first_problem is not None
    assert (result.first_problem.case_id, result.first_problem.seq, result.first_problem.kind) == (
        case_id,
        3,
        "altered",
    )
    assert f"case {case_id}: BROKEN at seq 3" in result.summary()


async def test_a_row_deleted_by_hand_is_named_by_verify(sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id, _ = await new_case(sessions, rows=5)
    await _as_superuser_without_triggers(sessions, "DELETE FROM audit_events WHERE case_id = :c AND seq = 2", c=case_id)
    result = await verify_case(sessions, case_id)
    assert result.first_problem is not None
    assert (result.first_problem.seq, result.first_problem.kind) == (2, "missing")


async def test_the_last_row_deleted_by_hand_is_caught_by_the_case_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id, _ = await new_case(sessions, rows=5)
    await _as_superuser_without_triggers(sessions, "DELETE FROM audit_events WHERE case_id = :c AND seq = 5", c=case_id)
    result = await verify_case(sessions, case_id)
    assert result.first_problem is not None
    assert (result.first_problem.seq, result.first_problem.kind) == (5, "missing")
    assert "up to seq 5" in result.first_problem.detail


async def test_a_row_inserted_by_hand_is_named_by_verify(sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id, unit = await new_case(sessions, rows=4)
    # Room at seq 3 (rows 3, 4 renumbered to 4, 5), then a well-linked forged row at seq 3.
    await _as_superuser_without_triggers(
        sessions, "UPDATE audit_events SET seq = seq + 10 WHERE case_id = :c AND seq >= 3", c=case_id
    )
    await _as_superuser_without_triggers(
        sessions, "UPDATE audit_events SET seq = seq - 9 WHERE case_id = :c AND seq >= 13", c=case_id
    )
    async with sessions() as session:
        prev = await session.scalar(
            select(AuditEventRow.hash).where(AuditEventRow.case_id == case_id, AuditEventRow.seq == 2)
        )
    assert prev is not None
    forged = entry(case_id, unit, 3, action="forged_approval", actor_id="intruder")
    async with sessions() as session, session.begin():
        await session.execute(
            insert(AuditEventRow).values(
                **forged.model_dump(), prev_hash=prev, hash=row_hash(forged.model_dump(), prev)
            )
        )
    result = await verify_case(sessions, case_id)
    assert result.first_problem is not None
    # the forged row names an official who does not exist; the row it displaced no longer hashes to itself
    assert [(p.seq, p.kind) for p in result.problems[:2]] == [(3, "unknown_actor"), (4, "altered")]
    assert "official intruder" in result.problems[0].detail
    assert "row seq 4 was altered" in result.problems[1].detail

    # A forged row appended after the head with a fresh seq and a junk hash is named too.
    case_b, unit_b = await new_case(sessions, rows=2)
    junk = entry(case_b, unit_b, 3, action="forged")
    async with sessions() as session, session.begin():
        await session.execute(insert(AuditEventRow).values(**junk.model_dump(), prev_hash=GENESIS, hash="f" * 64))
    result_b = await verify_case(sessions, case_b)
    assert result_b.first_problem is not None
    assert (result_b.first_problem.seq, result_b.first_problem.kind) == (3, "altered")


@pytest.mark.parametrize("statement", CHANGES)
@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        pytest.param(None, "audit_events is append-only", id="even_the_owner_by_the_trigger"),
        pytest.param("xptt_app", "permission denied for table audit_events", id="the_app_role_by_its_privileges"),
    ],
)
async def test_recorded_journal_rows_may_not_be_updated_or_deleted(
    sessions: async_sessionmaker[AsyncSession], statement: str, role: str | None, refusal: str
) -> None:
    """A trigger refuses everyone, the table's owner too; the application's role lacks the privileges as well."""
    case_id, _ = await new_case(sessions, rows=2)
    async with sessions() as session, session.begin():
        if role is not None:
            await session.execute(text(f"SET LOCAL ROLE {role}"))
        with pytest.raises(DBAPIError, match=refusal):
            await session.execute(text(statement), {"c": case_id} if ":c" in statement else {})
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEventRow)) == 2


async def test_the_application_role_appends_and_reads_the_journal_and_updates_cases(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id, unit = await new_case(sessions, rows=2)
    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL ROLE xptt_app"))
        await append_audit_event(session, entry(case_id, unit, 3))
        await session.execute(text("UPDATE cases SET last_seq = 3 WHERE id = :c"), {"c": case_id})
        assert await session.scalar(select(func.count()).select_from(AuditEventRow)) == 3
    assert (await verify_case(sessions, case_id)).ok


async def test_the_migration_chains_rows_recorded_before_it(pg_server_url: str) -> None:
    name = f"xptt_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_engine(pg_server_url)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = with_database(pg_server_url, name)
    before = ScriptDirectory.from_config(alembic_config(url)).get_revision("0004").down_revision
    assert isinstance(before, str)
    engine = make_engine(url, pool_size=1)
    try:
        await upgrade_async(url, before)
        sessions = make_session_factory(engine)
        unit, _ = await seed(sessions, lineage=False)  # the schema before 0004 has no lineage table (0014)
        case_id = f"{ROUND_ID}-{unit}"
        async with sessions() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO cases (id, unit_code, province_code, round_id, rule_set_id, profile_id, locality_type,"
                    " stage, status, last_seq, opened_at, updated_at) VALUES (:c, :u, '33', :r, 'qd06-2019',"
                    " 'two-tier', 'other', 'registration', 'open', 3, now(), now())"
                ),
                {"c": case_id, "u": unit, "r": ROUND_ID},
            )
            for seq in (1, 2, 3):
                await session.execute(
                    text(
                        "INSERT INTO audit_events (case_id, seq, action, unit_code, to_stage, payload, rule_set_id,"
                        " workflow_id, occurred_at) VALUES (:c, :s, 'step', :u, 'registration',"
                        " CAST(:p AS jsonb), 'qd06-2019', :c, :t)"
                    ),
                    {"c": case_id, "s": seq, "u": unit, "p": '{"x": 1.50, "y": [1e2]}', "t": T0},
                )
        await engine.dispose()
        await upgrade_async(url)
        result = await verify_case(make_session_factory(engine), case_id)
        assert result.ok and result.rows == 3, result.problems
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def test_the_verify_command_names_the_broken_row_and_fails(database_url: str) -> None:
    """`xptt audit verify CASE` and `--all`, as an operator runs them, against a journal edited by hand."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    async def prepare() -> str:
        engine = make_engine(database_url, pool_size=1)
        try:
            sessions = make_session_factory(engine)
            case_id, _ = await new_case(sessions, rows=4)
            await new_case(sessions, rows=3)  # a second, intact case
            return case_id
        finally:
            await engine.dispose()

    async def tamper(case_id: str) -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            await _as_superuser_without_triggers(
                make_session_factory(engine),
                "UPDATE audit_events SET actor_id = 'someone-else' WHERE case_id = :c AND seq = 2",
                c=case_id,
            )
        finally:
            await engine.dispose()

    case_id = asyncio.run(prepare())
    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": "400"}

    def xptt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "audit", *args],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    held = xptt("verify", case_id)
    assert held.returncode == 0, held.stdout + held.stderr
    assert "the chain holds (4 rows, head seq 4)" in held.stdout
    asyncio.run(tamper(case_id))
    broken = xptt("verify", case_id)
    assert broken.returncode == 1
    assert f"case {case_id}: BROKEN at seq 2 (altered)" in broken.stderr
    everything = xptt("verify", "--all")
    assert everything.returncode == 1
    assert "2 cases, 7 rows verified" in everything.stdout and "1 broken" in everything.stdout
    assert f"case {case_id}: BROKEN at seq 2" in everything.stderr
    unknown = xptt("verify", "no-such-case")
    assert (unknown.returncode, "no case no-such-case" in unknown.stderr) == (2, True)
