"""The event log export on a larger round: seed N cases through the journal writer (tests/eventlog/seeding.py,
every tenth dossier returned once), then run `xptt audit export-log` in each format as its own process and print
its wall time, its peak resident memory and the file's size. Not part of `make bench`; a figure, not a test.

    .venv/bin/python -m bench.eventlog --server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
        --cases 200,2000

Each size gets a database of its own (`xptt_eventlog_bench_<n>`), dropped at the end. A flat peak memory across
sizes is what streaming buys; the export's time grows with the journal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from db.migrate import upgrade_async
from db.session import make_engine
from domain.units import load_units
from services.seed import seed_units
from tests.eventlog.seeding import record_many, seed_places
from tests.support import ROUND_ID

XPTT = str(Path(sys.executable).with_name("xptt"))
FORMATS = ("ocel", "ocel-sqlite", "xes")


async def _admin(server: str, sql: str) -> None:
    engine = create_async_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def prepare(server: str, cases: int) -> tuple[str, int, float]:
    """A migrated database with `cases` cases of the round: (its URL, journal rows, seconds to seed)."""
    name = f"xptt_eventlog_bench_{cases}"
    await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(server, f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    await upgrade_async(url)
    engine = make_engine(url, pool_size=2)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    started = time.monotonic()
    async with sessions() as session, session.begin():
        await seed_units(session, None, lineage=False)  # every province's units: no province has 2,000
    await seed_places(sessions, ROUND_ID, [])
    rows = await record_many(sessions, ROUND_ID, cases, datetime(2027, 10, 1, 1, 0, tzinfo=UTC))
    await engine.dispose()
    return url, rows, time.monotonic() - started


def export(url: str, fmt: str, out: Path) -> dict[str, Any]:
    """One export as its own process: wall seconds, peak RSS (MiB) of that process (os.wait4), file size (MiB)."""
    env = {**os.environ, "DATABASE_URL": url, "XPTT_LOG_LEVEL": "warning"}
    command = [XPTT, "audit", "export-log", "--format", fmt, "--round", ROUND_ID, "--out", str(out)]
    with tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"export {fmt} failed: {err.read()}")
    return {
        "format": fmt,
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "file_mib": round(out.stat().st_size / 2**20, 2),
    }


def startup_seconds() -> float:
    """The same command's start alone (`--help`: imports, no database), to read the export's own share."""
    started = time.monotonic()
    subprocess.run([XPTT, "audit", "export-log", "--help"], capture_output=True, check=True)
    return round(time.monotonic() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("TEST_DATABASE_URL", ""), help="a PostgreSQL server URL")
    parser.add_argument("--cases", default="200,2000", help="sizes of the round, comma-separated")
    args = parser.parse_args()
    if not args.server:
        parser.error("give --server (or TEST_DATABASE_URL)")
    results = []
    print(json.dumps({"cli_startup_seconds": startup_seconds()}), flush=True)
    sizes, most = [int(n) for n in args.cases.split(",")], len(load_units())
    if any(n > most for n in sizes):
        parser.error(f"--cases: at most {most}, one case per unit of the country")
    for cases in sizes:
        url, rows, seeded = asyncio.run(prepare(args.server, cases))
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in FORMATS:
                figures = export(url, fmt, Path(tmp) / f"log.{fmt}")
                results.append({"cases": cases, "journal_rows": rows, "seed_seconds": round(seeded, 1), **figures})
                print(json.dumps(results[-1]), flush=True)
        asyncio.run(_admin(args.server, f'DROP DATABASE IF EXISTS "xptt_eventlog_bench_{cases}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
