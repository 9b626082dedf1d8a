"""A round that opened, moved and closed after the backup: the restored database has no round, no case and no
report. `xptt reconcile --round` finds the round by its cases in Temporal, records again the round's opening and
report through the round's own activities, each case's opening as the round computed it and its later transitions;
the rows then equal the undisturbed database's."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts import OpenRoundInput
from domain.case import case_id_for
from infra.clock import today_vn
from tests.builders import seed_province
from tests.notify.support import SmtpServer
from tests.reconcile.support import (
    PROVINCE,
    backup,
    cli_env,
    drive,
    drop,
    restore,
    round_rows,
    seed_officials,
    settled,
    table_rows,
    workers,
)
from tests.reconcile.test_reconcile import round_opened
from tests.support import xptt
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

ROUND = "qd06-2019:2029"  # a round of its own: the other test's cases run on the same Temporal server


def unstamped(row: dict[str, Any]) -> dict[str, Any]:
    """A notification row without the moment the round's opening news was written: `notify.rounds` stamps it with
    the clock when its activity runs (the activity's input carries no time), so a recording again stamps it anew."""
    if row["kind"] != "round_opened":
        return row
    return {k: v for k, v in row.items() if k not in ("created_at", "deliver_after", "delivered_at")}


async def test_a_round_opened_and_closed_after_the_backup_is_recorded_again(
    temporal_env: WorkflowEnvironment,
    pg_server_url: str,
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
) -> None:
    client = temporal_env.client
    units = await seed_province(sessions, PROVINCE)
    await seed_officials(sessions, units[:1])
    queue = f"reconcile-{uuid.uuid4()}"
    name = str(make_url(database_url).database)
    copy, undisturbed = f"{name}_backup", f"{name}_undisturbed"
    try:
        await backup(pg_server_url, engine, name, copy)  # before the round opened
        async with workers(client, queue, sessions, smtp):
            handle = await client.start_workflow(
                AssessmentRoundWorkflow.run,
                # its end has come: it reports as soon as its cases are open
                OpenRoundInput(
                    round_id=ROUND, province_code=PROVINCE, rehearsal_opens_on=today_vn(), closes_at=datetime.now(UTC)
                ),
                id=round_workflow_id(ROUND, PROVINCE),
                task_queue=queue,
            )
            await round_opened(handle)
            await drive(client, case_id_for(ROUND, units[0]), units[0], 2)
            report = await handle.result()
            await settled(sessions)
        assert report.units == 38
        expected = await table_rows(sessions) | await round_rows(sessions)
        await restore(pg_server_url, engine, name, copy, undisturbed)
        env = cli_env(client, database_url, queue)
        async with workers(client, queue, sessions, smtp):
            mails = len(smtp.messages())
            code, out, err = await xptt(env, "reconcile", "--round", ROUND, "--format", "json")
            assert code == 1, out + err
            found = json.loads(out)
            assert (found["checked"], found["lacking"]) == (38, 38)
            assert [(r["opening_missing"], r["report_missing"]) for r in found["rounds"]] == [(True, True)]
            code, out, err = await xptt(env, "reconcile", "--round", ROUND, "--apply", "--format", "json")
            assert code == 0, out + err
            applied = json.loads(out)
            assert applied["rerecorded_cases"] == 38 and applied["rerecorded_transitions"] == 38 + 2
            assert [r["rerecorded"] for r in applied["rounds"]] == [True]
            after = await table_rows(sessions) | await round_rows(sessions)
            for held in (expected, after):  # the round's opening news is stamped when it is written (reconcile.md)
                held["notifications"] = [unstamped(r) for r in held["notifications"]]
            for table, rows in expected.items():
                assert after[table] == rows, table
            assert len(smtp.messages()) == mails
            code, out, err = await xptt(env, "reconcile", "--round", ROUND)
            assert code == 0 and "CSDL khớp với quy trình." in out, out + err
    finally:
        await drop(pg_server_url, engine, copy, undisturbed)
