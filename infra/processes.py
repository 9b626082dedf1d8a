"""The processes of the stack: a child started in its own process group that dies with its launcher
(PR_SET_PDEATHSIG), knows when it is ready (a port, a URL, a line in its log) and stops as a group; the Temporal dev
server as such a child. `infra.stack.Launcher` starts and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from infra.embedded import (
    dev_server_args,
    port_open,
    temporal_binary,
)

if TYPE_CHECKING:
    from temporalio.client import Client

log = structlog.get_logger(__name__)

HOST = "127.0.0.1"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class StackError(RuntimeError):
    """A part of the stack did not start, or exited on its own."""


class Stopped(BaseException):
    """A stop asked for by a signal. A BaseException, as KeyboardInterrupt is: no `except Exception` swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


# -- children -----------------------------------------------------------------------------------------------------
@cache
def _prctl() -> Any:
    """libc's prctl, looked up before any fork (the child between fork and exec should only call it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def child_setup(death_signal: int = signal.SIGTERM) -> Callable[[], None]:
    """A `preexec_fn`: the child gets `death_signal` when the process starting it dies (PR_SET_PDEATHSIG), and
    does not run at all if that process died before the request was in place."""
    prctl = _prctl()
    parent = os.getpid()

    def setup() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(128 + death_signal)

    return setup


Ready = Callable[["Child"], bool]


def logged(marker: bytes) -> Ready:
    """Ready once the child's log, since its last start, holds `marker`."""
    return lambda child: child.logged(marker)


def listens(port: int) -> Ready:
    return lambda child: port_open(HOST, port)


def answers(url: str) -> Ready:
    """Ready once `url` answers 200."""

    def check(child: Child) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    return check


class Child:
    """A process of the stack, in a process group (and session) of its own: signalled, stopped and killed as a
    group, so what it forks goes with it. Its output goes to `log_file`; `ready` says when it serves."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        log_file: Path,
        cwd: Path | None = None,
        ready: Ready | None = None,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.env = dict(env)
        self.log_file = log_file
        self.cwd = cwd
        self.ready = ready
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        # Around the start: the launcher defers its stop signals there, so a child is never started and lost.
        self.starting: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
        self._mark = 0
        self._stopped = False  # stopped or killed on purpose: not an exit to report

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise StackError(f"{self.name} was never started")
        return self.proc.pid

    def start(self) -> None:
        if self.alive():
            raise StackError(f"{self.name} is running already")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out, self.starting():
            self._mark = out.tell()
            self.proc = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=child_setup(),
            )
            self._stopped = False
        self.starts += 1
        log.info("process_started", name=self.name, pid=self.proc.pid)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check(self) -> None:
        """Raise StackError if the child exited when nobody asked it to."""
        if self.proc is not None and not self._stopped and self.proc.poll() is not None:
            raise StackError(f"{self.name} exited with code {self.proc.returncode}; see {self.log_file}")

    def logged(self, marker: bytes) -> bool:
        try:
            with open(self.log_file, "rb") as f:
                f.seek(self._mark)
                return marker in f.read()
        except OSError:
            return False

    def is_ready(self) -> bool:
        self.check()
        return self.ready is None or self.ready(self)

    def _not_ready(self, timeout: float) -> StackError:
        return StackError(f"{self.name} was not ready within {timeout:.0f} s; see {self.log_file}:\n{self.tail()}")

    def wait_ready_sync(self, timeout: float = 60) -> None:
        """Block until the child is ready (StackError if it exits first or `timeout` passes)."""
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if time.monotonic() > deadline:
                raise self._not_ready(timeout)
            time.sleep(0.1)

    async def wait_ready(self, within: float = 60) -> None:
        """`wait_ready_sync` for an event loop."""
        deadline = time.monotonic() + within
        while not self.is_ready():
            if time.monotonic() > deadline:
                raise self._not_ready(within)
            await asyncio.sleep(0.05)

    def send(self, sig: int) -> None:
        """`sig` to the child's process group, while the child runs."""
        if self.proc is not None and self.proc.poll() is None:
            self._killpg(sig)

    def _killpg(self, sig: int) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def finish(self, timeout: float) -> None:
        """Wait for the child, SIGKILL its group after `timeout`; once it has exited, kill what is left of its group
        (a process it forked). A child that had exited before is left alone: its group id may be another's now."""
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("process_killed", name=self.name, pid=self.proc.pid, after_seconds=timeout)
            self._killpg(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._killpg(signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """`sig` to the group, SIGKILL after `timeout`. The child can be started again."""
        self._stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.send(sig)
        self.finish(timeout)

    def kill(self) -> None:
        """SIGKILL to the group: no shutdown, no finally blocks; what it had in flight dies with it."""
        if not self.alive():
            raise StackError(f"{self.name} is not running:\n{self.tail()}")
        self._stopped = True
        self.send(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=10)
        self.kills += 1

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class TemporalServer(Child):
    """`temporal server start-dev` with the case search attributes; `start()` returns once its port is open. A file
    database (`db_file`) keeps its state across restarts (stop it, start it again: same port, same data); without
    one it is in memory. `ui_port` None runs it headless."""

    def __init__(
        self,
        *,
        port: int,
        ui_port: int | None,
        db_file: Path | None,
        env: Mapping[str, str],
        log_file: Path,
        name: str = "temporal",
    ) -> None:
        self.port = port
        self.ui_port = ui_port
        self.db_file = db_file
        args = [temporal_binary(), "server", "start-dev", "--ip", HOST, "--port", str(port), "--log-level", "warn"]
        if db_file is not None:
            db_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--db-filename", str(db_file)]
        args += ["--headless"] if ui_port is None else ["--ui-port", str(ui_port)]
        args += dev_server_args()
        super().__init__(name, args, env=env, log_file=log_file, ready=listens(port))

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self) -> None:
        super().start()
        self.wait_ready_sync(30)
        log.info("temporal_started", port=self.port, ui_port=self.ui_port, db_file=str(self.db_file))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Stop it (SIGTERM, or SIGKILL as a crash would) and wait until its port is free for the next start."""
        was_running = self.alive()
        super().stop(sig, timeout)
        deadline = time.monotonic() + 10
        while was_running and port_open(HOST, self.port):
            if time.monotonic() > deadline:
                raise StackError(f"port {self.port} still open after the Temporal server stopped")
            time.sleep(0.05)

    async def connect(self, within: float = 30) -> Client:
        """A client, once the frontend answers (its port opens before it is healthy)."""
        from temporalio.client import Client
        from temporalio.contrib.pydantic import pydantic_data_converter

        deadline = time.monotonic() + within
        while True:
            try:
                return await Client.connect(self.address, data_converter=pydantic_data_converter)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


# -- PostgreSQL ----------------------------------------------------------------------------------------------------
