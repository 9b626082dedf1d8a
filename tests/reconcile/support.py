"""The parts of the restore scenario: officials who hear of their cases, a case driven through Updates, the
database's backup and restore (a copy made with CREATE DATABASE ... TEMPLATE while nothing is connected), the rows
of the read model as comparable values, and `xptt` run as a process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client, WorkflowHandle

from contracts import Actor, CompleteTaskInput
from db.models import OfficialRow, RoleAssignmentRow
from domain.access import RoleScope
from domain.stages import Role
from tests.builders import stack_worker
from tests.notify.support import SmtpServer, delivery, notify_worker
from tests.support import HUMAN_PATH, execute_signed, form_for
from workflows.case import RecognitionCaseWorkflow

PROVINCE = "12"  # Lai Châu, 38 units: the smallest province
UNIT_ROLES = (Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR)
PROVINCE_ROLES = (Role.APPRAISER, Role.CHAIRMAN)

# Every table the case's recordings write, ordered by its business key; the columns left out differ legitimately
# between a database that recorded as it went and one whose rows were recorded again (docs/reconcile.md):
# - audit_events.id: a serial, drawn in the order the rows arrived (the restored database drew again from the
#   backup's sequence, and re-recorded rows of several cases in case order, not in the order they happened);
# - notifications.sending_at / delivered_at / failed_at: the wall-clock moment a delivery activity claimed and sent
#   the message; a row recorded again takes the moment its delivery workflow closed;
# - workflow_histories: the history kept is the complete one (with the run's close) rather than the one fetched by
#   the run's last activity, so its events, hash and `archived_at` differ; what it is of and the journal head it
#   saw are compared.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cases": ("id", ()),
    "tasks": ("id", ()),
    "audit_events": ("case_id, seq", ("id",)),
    "criterion_scores": ("case_id, kind, criterion", ()),
    "notifications": ("id", ("sending_at", "delivered_at", "failed_at")),
}
ARCHIVE = "SELECT case_id, workflow_id, run_id, journal_head_seq, journal_head_hash FROM workflow_histories ORDER BY 1"


def official_id(role: Role, unit: str | None) -> str:
    return f"{role.value}-{unit or PROVINCE}"


async def seed_officials(sessions: async_sessionmaker[AsyncSession], units: Sequence[str]) -> None:
    """Active officials with an address: the unit roles of `units` and the province's appraiser and chairman."""
    holders = [(r, u) for u in units for r in UNIT_ROLES] + [(r, None) for r in PROVINCE_ROLES]
    async with sessions() as session, session.begin():
        for role, unit in holders:
            oid = official_id(role, unit)
            session.add(OfficialRow(id=oid, full_name=f"Cán bộ {oid}", email=f"{oid}@example.invalid"))
            await session.flush()
            session.add(RoleAssignmentRow(official_id=oid, role=role.value, province_code=PROVINCE, unit_code=unit))


async def drive(client: Client, case_id: str, unit: str, steps: int, *, register: bool = True) -> None:
    """Complete the case's next `steps` human stages (the first `steps` of HUMAN_PATH from where it stands), each
    by the official holding its role, once its task is open."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(case_id)
    for _ in range(steps):
        deadline = time.monotonic() + 20
        while True:
            status = await handle.query(RecognitionCaseWorkflow.status)
            if status.open_task is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert status.open_task is not None, f"{case_id}: no open task at {status.stage}"
        role = dict(HUMAN_PATH)[status.stage]
        holder = unit if role in UNIT_ROLES else None
        scope = RoleScope(role=role, province_code=PROVINCE, unit_code=unit)
        payload = form_for(status.stage) if register else {"registered": False, "note": "Chưa đủ điều kiện"}
        actor = Actor(official_id=official_id(role, holder), scopes=[scope])
        inp = CompleteTaskInput(task_id=status.open_task.task_id, actor=actor, payload=payload)
        await execute_signed(handle, RecognitionCaseWorkflow.complete_task, inp)


async def admin(server_url: str, *statements: str) -> None:
    """Statements on the server's `postgres` database, one by one, outside a transaction."""
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database="postgres")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def backup(server_url: str, engine: AsyncEngine, name: str, copy: str) -> None:
    """A backup of database `name` into `copy`: nothing may be connected to it (stop the workers first)."""
    await engine.dispose()
    await admin(server_url, f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')


async def restore(server_url: str, engine: AsyncEngine, name: str, copy: str, aside: str) -> None:
    """Database `name` set aside as `aside` (to compare with), and the backup `copy` restored in its place."""
    await engine.dispose()
    await admin(
        server_url, f'ALTER DATABASE "{name}" RENAME TO "{aside}"', f'CREATE DATABASE "{name}" TEMPLATE "{copy}"'
    )


async def drop(server_url: str, engine: AsyncEngine, *names: str) -> None:
    await engine.dispose()
    await admin(server_url, *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names))


@contextlib.asynccontextmanager
async def workers(
    client: Client, queue: str, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> AsyncIterator[None]:
    """The deployment's worker on `queue` (cases, rounds, archive) and its delivery worker, over `sessions`."""
    async with stack_worker(client, queue, sessions), notify_worker(client, queue, delivery(sessions, smtp)):
        yield


async def table_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[dict[str, Any]]]:
    """The read model's rows, table by table, as comparable values (see TABLES)."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with sessions() as session:
        for table, (order, left_out) in TABLES.items():
            rows = (await session.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))).mappings().all()
            out[table] = [{k: v for k, v in r.items() if k not in left_out} for r in rows]
        out["workflow_histories"] = [dict(r) for r in (await session.execute(text(ARCHIVE))).mappings().all()]
    return out


async def last_seqs(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {cid: seq for cid, seq in (await session.execute(text("SELECT id, last_seq FROM cases"))).all()}


async def settled(sessions: async_sessionmaker[AsyncSession], timeout: float = 60) -> None:
    """Until no notification waits to be sent or is being sent."""
    deadline = time.monotonic() + timeout
    while True:
        async with sessions() as session:
            waiting = (
                await session.execute(
                    text("SELECT id, status FROM notifications WHERE status IN ('pending', 'sending')")
                )
            ).all()
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"notifications still waiting after {timeout} s: {waiting}")
        await asyncio.sleep(0.1)


def cli_env(client: Client, database_url: str, queue: str) -> dict[str, str]:
    """What `xptt reconcile` needs: the database, the Temporal server, the case task queue (deliveries: its -notify)."""
    return {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "TEMPORAL_TASK_QUEUE": queue,
    }


async def round_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[dict[str, Any]]]:
    """The rounds' rows (without `rounds.created_at`, the moment the row was written) and their reports."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with sessions() as session:
        for table, query in (
            ("rounds", "SELECT id, rule_set_id, profile_id, year, period_start, period_end FROM rounds ORDER BY id"),
            ("round_reports", "SELECT * FROM round_reports ORDER BY round_id, province_code"),
        ):
            out[table] = [dict(r) for r in (await session.execute(text(query))).mappings().all()]
    return out
