"""The stack as separate processes, for fault scenarios: a Temporal dev server with a file database that can be
stopped and started again, the worker as `python -m worker` (so SIGKILL is real), a TCP proxy in front of
PostgreSQL that can be cut, a real SMTP receiver, and the HTTP API on a loopback port. The processes, the
databases and the API's server are infra/stack.py's.

`run_round` opens a round of a real province, drives every case through its stages over the HTTP API (retrying
with the same Idempotency-Key, as a client would), lets a fault plan run alongside, waits until everything has
settled (round closed, no workflow running, every email delivered) and returns the end state as counted in
PostgreSQL and at the SMTP receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from audit.service import verify_all
from contracts import OpenRoundInput
from db.models import AuditEventRow, CaseRow, RoundReportRow, TaskRow, UnitRow
from db.models_audit import WorkflowHistoryRow
from db.models_notify import NotificationRow
from db.session import make_engine, make_session_factory
from domain.stages import Role, Stage
from infra.clock import today_vn
from infra.databases import create_database, drop_database
from infra.processes import Child, TemporalServer
from infra.settings import Settings
from infra.stack import Launcher, serve_app
from services.seed import demo_officials, seed_officials, seed_units
from tests.faults.endstate import EndState, Plan
from tests.faults.proxy import TcpProxy
from tests.notify.support import SENDER, SmtpServer
from tests.support import ACTOR_KEYS, HUMAN_PATH, ROUND_ID, SECRET, form_for, token_for
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

ROOT = Path(__file__).resolve().parents[2]

PATH = HUMAN_PATH


def log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- databases --------------------------------------------------------------------------------------------------------
# Each run's database is a fresh copy of the migrated template on the test server (infra/stack.create_database).


# -- processes ---------------------------------------------------------------------------------------------------------
# The Temporal dev server (a file database: stop it, SIGTERM or SIGKILL, and start it again on the same port with the
# same data) and the worker (`python -m worker`, killed and started again) are infra/stack.py's processes.


@dataclass
class RoundRun:
    """One run of a round on its own Temporal server, worker process, database, SMTP receiver and API."""

    plan: Plan
    server_url: str
    template: str
    directory: Path
    proxy_postgres: bool = False
    temporal_file_database: bool = False
    workers: int = 1  # worker processes; `worker` is the first
    api_processes: int = 0  # the API as that many uvicorn processes (requests spread over them); 0: in this process
    launcher: Launcher = field(init=False)
    temporal: TemporalServer = field(init=False)
    worker: Child = field(init=False)
    worker_children: list[Child] = field(init=False)
    api_children: list[Child] = field(default_factory=list)
    apis: list[httpx.AsyncClient] = field(default_factory=list)  # one per API; `http` is the first
    requests_per_api: Counter[int] = field(default_factory=Counter)
    smtp: SmtpServer = field(init=False)
    proxy: TcpProxy | None = field(init=False, default=None)
    client: Client = field(init=False)
    database_url: str = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    http: httpx.AsyncClient = field(init=False)
    task_queue: str = field(init=False)
    http_retries: int = 0
    kill_times: list[float] = field(default_factory=list)  # time.monotonic() of each SIGKILL of the worker
    updates_not_delivered: int = 0
    not_found_transient: int = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RoundRun]:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.database_url = await create_database(self.server_url, prefix="xptt_faults", template=self.template)
        engine = make_engine(self.database_url, pool_size=4)
        self.sessions = make_session_factory(engine)
        await self._seed()
        app_url = self.database_url
        if self.proxy_postgres:
            self.proxy = TcpProxy.for_url(self.server_url)
            self.proxy.start()
            app_url = self.proxy.url(self.database_url)
        self.launcher = Launcher(self.directory)
        self.smtp = SmtpServer()
        self.task_queue = f"faults-{uuid.uuid4().hex[:8]}"
        try:
            db_file = self.directory / "temporal.db" if self.temporal_file_database else None
            self.temporal = self.launcher.temporal(db_file=db_file)
            self.smtp.start()
            self.launcher.env.update(
                DATABASE_URL=app_url,
                DB_POOL_SIZE="5",
                TEMPORAL_TASK_QUEUE=self.task_queue,
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=str(self.smtp.port),
                SMTP_TLS="none",
                SMTP_TIMEOUT="10",
                MAIL_FROM=SENDER,
                LOG_FORMAT="json",
                LOG_LEVEL="INFO",
                XPTT_ACTOR_KEYS=ACTOR_KEYS,  # the worker checks with the key the API here signs with
            )
            self.client = await self.temporal.connect()
            # Started together, not one after the other: they race for the schedules as a scaled deployment does.
            self.worker_children = [
                self.launcher.worker(cwd=ROOT, wait=False, name="worker" if i == 0 else f"worker-{i + 1}")
                for i in range(self.workers)
            ]
            self.worker = self.worker_children[0]
            async with contextlib.AsyncExitStack() as apis:
                for base_url in await self._serve_apis(apis, app_url):
                    self.apis.append(await apis.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=60)))
                for worker in self.worker_children:
                    await worker.wait_ready()
                self.http = self.apis[0]
                yield self
        finally:
            self.launcher.stop(timeout=20)
            self.smtp.stop()
            if self.proxy is not None:
                self.proxy.close()
            await engine.dispose()
            await drop_database(self.server_url, self.database_url)

    async def _serve_apis(self, stack: contextlib.AsyncExitStack, app_url: str) -> list[str]:
        """The API's base URLs: `api_processes` uvicorn processes (as the image runs it), or one in this process."""
        from api.main import create_app  # here: only these scenarios need the API

        if self.api_processes:
            urls = []
            for i in range(self.api_processes):
                env = {"XPTT_JWT_SECRET": SECRET}
                child, url = self.launcher.api(env=env, wait=False, name=f"api-{i + 1}", cwd=ROOT)
                self.api_children.append(child)
                urls.append(url)
            for child in self.api_children:
                await child.wait_ready()
            return urls
        settings = Settings.model_validate(
            {
                "DATABASE_URL": app_url,
                "DB_POOL_SIZE": 5,
                "XPTT_JWT_SECRET": SECRET,
                "TEMPORAL_ADDRESS": self.temporal.address,
                "TEMPORAL_TASK_QUEUE": self.task_queue,
            }
        )
        app = create_app(settings, temporal=self.client)
        return [await stack.enter_async_context(serve_app(app, log_level="error", stop_timeout=20))]

    def _next_api(self) -> httpx.AsyncClient:
        """The APIs in turn, request by request, as a load balancer spreads a client's requests."""
        index = sum(self.requests_per_api.values()) % len(self.apis)
        self.requests_per_api[index] += 1
        return self.apis[index]

    async def _seed(self) -> None:
        async with self.sessions() as session, session.begin():
            await seed_units(session, self.plan.province)
            # The round opens a case for every unit of the province in the database: only the plan's units.
            await session.execute(
                delete(UnitRow).where(UnitRow.province_code == self.plan.province, UnitRow.code.not_in(self.plan.units))
            )
            for unit in self.plan.units:
                await seed_officials(session, demo_officials(self.plan.province, unit), self.plan.province)

    def headers(self, official_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(official_id)}"}

    # -- driving ------------------------------------------------------------------------------------------------------
    async def open_round(self) -> None:
        await self.client.start_workflow(
            AssessmentRoundWorkflow.run,
            OpenRoundInput(
                round_id=ROUND_ID,
                province_code=self.plan.province,
                target_share=0.5,
                rehearsal_opens_on=today_vn(),
            ),
            id=round_workflow_id(ROUND_ID, self.plan.province),
            task_queue=self.task_queue,
        )

    def _official(self, role: Role, unit: str) -> str:
        p = self.plan.province
        return {
            Role.COMMUNE_OFFICER: f"demo-officer-{unit}",
            Role.COUNCIL_CHAIR: f"demo-council-chair-{unit}",
            Role.APPRAISER: f"demo-appraiser-{p}",
            Role.CHAIRMAN: f"demo-chairman-{p}",
        }[role]

    async def _stage_done(self, case_id: str, stage: Stage) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(
                select(TaskRow.id).where(
                    TaskRow.case_id == case_id, TaskRow.stage == stage.value, TaskRow.status == "completed"
                )
            )
        return found is not None

    async def _complete(self, case_id: str, unit: str, stage: Stage, role: Role, payload: dict[str, Any]) -> None:
        """Complete the case's task of `stage` over the API as a client would: find it in the official's inbox,
        submit it with an Idempotency-Key, and on a timeout, a 5xx or a 409 look again (same key)."""
        official = self._official(role, unit)
        key = f"drive-{case_id}-{stage.value}"
        while True:
            if await self._stage_done(case_id, stage):
                return
            try:
                resp = await self._next_api().get(
                    "/v1/tasks",
                    params={"mine": "true", "unit": unit, "stage": stage.value},
                    headers=self.headers(official),
                )
                if resp.status_code != 200:
                    raise httpx.HTTPStatusError("inbox", request=resp.request, response=resp)
                open_tasks = [t for t in resp.json() if t["case_id"] == case_id and t["status"] == "open"]
                if not open_tasks:
                    await asyncio.sleep(0.1)
                    continue
                resp = await self._next_api().post(
                    f"/v1/tasks/{open_tasks[0]['id']}/complete",
                    json=payload,
                    headers={**self.headers(official), "Idempotency-Key": key},
                )
                if resp.status_code == 200:
                    return
                code = resp.json().get("code")
                if code == "update_not_delivered":
                    self.updates_not_delivered += 1
                    if self.updates_not_delivered == 1:
                        log(f"{case_id} {stage.value}: {resp.json()['detail']}")
                if code == "case_not_running":
                    # Seen on the dev server with a file database (SQLite): a running child workflow briefly
                    # "not found" for updates and describe alike. The case is open in the read model: ask again.
                    self.not_found_transient += 1
                    await asyncio.sleep(0.5)
                    continue
                if resp.status_code < 500 and code != "task_not_open":
                    raise AssertionError(f"{case_id} {stage}: {resp.status_code} {resp.text}")
            except (httpx.TransportError, httpx.HTTPStatusError):
                pass
            self.http_retries += 1
            await asyncio.sleep(0.5)

    async def drive(self, concurrency: int = 8) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, unit: str) -> None:
            case_id = f"{ROUND_ID}-{unit}"
            async with gate:
                if self.plan.registers(index):
                    for stage, role in PATH:
                        await self._complete(case_id, unit, stage, role, form_for(stage))
                else:
                    await self._complete(
                        case_id,
                        unit,
                        Stage.REGISTRATION,
                        Role.COMMUNE_OFFICER,
                        {"registered": False, "note": "Chưa đủ điều kiện"},
                    )

        await asyncio.gather(*(one(i, u) for i, u in enumerate(self.plan.units)))

    async def transitions(self) -> int:
        """Audit rows so far (read directly, not through the proxy): the round's progress."""
        async with self.sessions() as session:
            return int(await session.scalar(select(text("count(*)")).select_from(AuditEventRow)) or 0)

    async def settle(self, timeout: float, *, every_workflow: bool) -> int:
        """Until the round has recorded its report, no case runs, every email row is delivered and received,
        and (`every_workflow`) no delivery workflow runs either. Returns the workflows still running: a delivery
        whose attempt died with a killed worker waits out its start-to-close timeout before it finds its row
        delivered and ends without sending."""
        deadline = time.monotonic() + timeout
        handle = self.client.get_workflow_handle(round_workflow_id(ROUND_ID, self.plan.province))
        state = "the round"
        while True:
            try:
                await asyncio.wait_for(handle.result(), timeout=max(1.0, deadline - time.monotonic()))
                break
            except TimeoutError as exc:
                raise AssertionError(f"the round did not close within {timeout} s") from exc
            except Exception:  # the server restarting under the long poll: ask again
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        while True:
            try:
                query = 'ExecutionStatus="Running"'
                if not every_workflow:
                    query += ' AND WorkflowType="RecognitionCaseWorkflow"'
                running = (await self.client.count_workflows(query)).count
            except Exception:
                running = -1
            async with self.sessions() as session:
                pending = (
                    await session.execute(
                        select(NotificationRow.id, NotificationRow.status).where(
                            NotificationRow.channel == "email", NotificationRow.status != "delivered"
                        )
                    )
                ).all()
                emails = set(
                    (
                        await session.execute(select(NotificationRow.id).where(NotificationRow.channel == "email"))
                    ).scalars()
                )
            received = {_outbox_of(m["Message-ID"]) for m in self.smtp.messages()}
            if running == 0 and not pending and emails <= received:
                return (await self.client.count_workflows('ExecutionStatus="Running"')).count
            state = f"running={running} undelivered={pending[:5]} not received={sorted(emails - received)[:5]}"
            if time.monotonic() > deadline:
                raise AssertionError(f"not settled within {timeout} s: {state}\nworker log:\n{self.worker.tail()}")
            await asyncio.sleep(0.25)

    async def end_state(self) -> EndState:
        async with self.sessions() as session:
            cases = {c.id: (c.stage, c.status, c.outcome) for c in (await session.execute(select(CaseRow))).scalars()}
            tasks: Counter[tuple[str, str, str]] = Counter(
                (r.case_id, r.stage, r.status)
                for r in (await session.execute(select(TaskRow.case_id, TaskRow.stage, TaskRow.status))).all()
            )
            journal: dict[str, list[str]] = {}
            for case_id, action in (
                await session.execute(
                    select(AuditEventRow.case_id, AuditEventRow.action).order_by(
                        AuditEventRow.case_id, AuditEventRow.seq
                    )
                )
            ).all():
                journal.setdefault(case_id, []).append(action)
            outbox = {
                r.id: (r.kind, r.channel, r.status)
                for r in (
                    await session.execute(
                        select(
                            NotificationRow.id, NotificationRow.kind, NotificationRow.channel, NotificationRow.status
                        )
                    )
                ).all()
            }
            histories: Counter[str] = Counter((await session.execute(select(WorkflowHistoryRow.case_id))).scalars())
            stored = await session.get(RoundReportRow, (ROUND_ID, self.plan.province))
            report = dict(stored.report) if stored else {}
        report.pop("closed_at", None)
        emails = Counter(_outbox_of(m["Message-ID"]) for m in self.smtp.messages())
        broken = [f"{r.case_id}: {r}" for r in await verify_all(self.sessions) if not r.ok]
        return EndState(cases, tasks, journal, outbox, histories, report, emails, broken)


def _outbox_of(message_id: Any) -> str:
    return str(message_id).strip("<> ").rpartition("@")[0]


async def run_round(
    run: RoundRun,
    faults: Callable[[RoundRun, asyncio.Event], Coroutine[Any, Any, dict[str, Any]]] | None,
    *,
    timeout: float,
    every_workflow: bool = True,
) -> tuple[EndState, dict[str, Any], float]:
    """Open the round, drive it while `faults` runs (it gets the run and an event set when driving is over), settle,
    and return the end state, the figures `faults` returned and the seconds it took."""
    started = time.monotonic()
    async with run.running():
        await run.open_round()
        driven = asyncio.Event()
        fault_task = asyncio.create_task(faults(run, driven)) if faults else None

        async def drive() -> None:
            try:
                await run.drive()
            finally:
                driven.set()

        driving = asyncio.create_task(drive())
        try:
            await asyncio.wait_for(driving, timeout=timeout)
            figures = await asyncio.wait_for(fault_task, timeout=timeout) if fault_task else {}
            if not any(w.alive() for w in run.worker_children):
                run.worker.start()
            figures["deliveries_still_running"] = await run.settle(timeout, every_workflow=every_workflow)
            state = await run.end_state()
        finally:
            for t in (driving, fault_task):
                if t is not None and not t.done():
                    t.cancel()
                    with contextlib.suppress(BaseException):
                        await t
    figures["http_retries"] = run.http_retries
    figures["updates_not_delivered"] = run.updates_not_delivered
    if run.not_found_transient:
        figures["not_found_transient"] = run.not_found_transient
    return state, figures, time.monotonic() - started
