"""A province's round on a real worker, real PostgreSQL and a real Temporal dev server; the database is backed up
mid-round, the round goes on, then the backup is restored. `xptt reconcile` names exactly the cases that moved since
the backup and what the database lacks of them; with --apply the read model becomes the one the undisturbed database
holds (the journal with the same hashes), each message of the recorded-again news having left once; a second run
finds agreement. Bad options are refused, naming the option, with nothing changed."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts import OpenRoundInput
from domain.case import case_id_for
from infra.clock import today_vn
from tests.builders import seed_province
from tests.notify.support import SmtpServer, delivery, notify_worker
from tests.reconcile.support import (
    PROVINCE,
    backup,
    cli_env,
    drive,
    drop,
    last_seqs,
    restore,
    seed_officials,
    settled,
    table_rows,
    workers,
)
from tests.support import ROUND_ID, xptt
from workflows.round import AssessmentRoundWorkflow, round_workflow_id


async def open_round(client: Client, queue: str) -> None:
    handle = await client.start_workflow(
        AssessmentRoundWorkflow.run,
        OpenRoundInput(round_id=ROUND_ID, province_code=PROVINCE, rehearsal_opens_on=today_vn()),
        id=round_workflow_id(ROUND_ID, PROVINCE),
        task_queue=queue,
    )
    await round_opened(handle)


async def round_opened(handle: WorkflowHandle[Any, Any]) -> None:
    for _ in range(600):
        if not await handle.query(AssessmentRoundWorkflow.opening):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the round did not open its cases within 30 s")


async def test_a_restored_database_is_reconciled_with_what_the_workflows_recorded(
    temporal_env: WorkflowEnvironment,
    pg_server_url: str,
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
) -> None:
    client = temporal_env.client
    units = await seed_province(sessions, PROVINCE)
    a, b, c, d, e = units[:5]
    case = {u: case_id_for(ROUND_ID, u) for u in units}
    await seed_officials(sessions, [a, b, c, d, e])
    queue = f"reconcile-{uuid.uuid4()}"
    name = str(make_url(database_url).database)
    copy, undisturbed = f"{name}_backup", f"{name}_undisturbed"
    try:
        async with workers(client, queue, sessions, smtp):
            await open_round(client, queue)
            await asyncio.gather(
                drive(client, case[a], a, 2), drive(client, case[b], b, 2), drive(client, case[d], d, 1)
            )
            await settled(sessions)
        # The backup, mid-round: a copy of the database while nothing is connected to it.
        await backup(pg_server_url, engine, name, copy)
        at_backup = await last_seqs(sessions)
        async with workers(client, queue, sessions, smtp):
            await asyncio.gather(
                drive(client, case[a], a, 2),
                drive(client, case[c], c, 7),  # to the decision: the case closes
                drive(client, case[d], d, 1),
                drive(client, case[e], e, 1, register=False),  # does not register: the case closes
            )
            for closing in (case[c], case[e]):  # each archives its history as it closes
                await asyncio.wait_for(client.get_workflow_handle(closing).result(), 60)
            await settled(sessions)
        expected = await table_rows(sessions)
        final = await last_seqs(sessions)
        mails = len(smtp.messages())
        # The restore: the undisturbed database is kept aside to compare with, the backup takes its place.
        await restore(pg_server_url, engine, name, copy, undisturbed)
        moved = {cid for cid, seq in final.items() if at_backup.get(cid) != seq}
        assert moved == {case[a], case[c], case[d], case[e]}
        env = cli_env(client, database_url, queue)
        # A delivery worker on the restored database: a message reconcile sent again would reach the SMTP server.
        async with notify_worker(client, queue, delivery(sessions, smtp)):
            restored = await table_rows(sessions)
            assert restored != expected
            await _bad_options_change_nothing(env, sessions, restored)
            await _report_names_what_moved(env, sessions, restored, moved, at_backup, final)
            applied = await _apply_gives_the_undisturbed_rows(env, sessions, smtp, expected, restored, mails)
            assert applied["rerecorded_cases"] == 4 and applied["remaining"] == 0
            assert applied["rerecorded_transitions"] == sum(final[cid] - at_backup[cid] for cid in moved)
            assert {g["case_id"] for g in applied["cases"] if g["history_archived"]} == {case[c], case[e]}
            code, out, err = await xptt(env, "reconcile", "--province", PROVINCE, "--round", ROUND_ID)
            assert code == 0, out + err
            assert "CSDL khớp với quy trình." in out
            assert await table_rows(sessions) == expected
    finally:
        await drop(pg_server_url, engine, copy, undisturbed)


Rows = dict[str, list[dict[str, Any]]]


async def _apply_gives_the_undisturbed_rows(
    env: dict[str, str],
    sessions: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    expected: Rows,
    restored: Rows,
    mails: int,
) -> dict[str, Any]:
    """With --apply: exit 0, every table as the undisturbed database holds it, the news recorded again settled from
    its deliveries (none sent again, none started); the JSON report."""
    code, out, err = await xptt(env, "reconcile", "--province", PROVINCE, "--apply", "--format", "json")
    assert code == 0, out + err
    applied: dict[str, Any] = json.loads(out)
    after = await table_rows(sessions)
    for table, rows in expected.items():
        assert after[table] == rows, table
    assert len(smtp.messages()) == mails  # nothing sent twice
    news = {r["id"] for r in expected["notifications"] if r["channel"] == "email"}
    news -= {r["id"] for r in restored["notifications"]}
    assert news  # the moved cases' news came back ...
    assert sum(g["notifications_settled"] for g in applied["cases"]) == len(news)  # ... as delivered
    assert sum(g["notifications_dispatched"] for g in applied["cases"]) == 0
    return applied


async def _bad_options_change_nothing(
    env: dict[str, str], sessions: async_sessionmaker[AsyncSession], restored: Rows
) -> None:
    for args, says in (
        (["--province", "99", "--apply"], "Lỗi: --province: Không có tỉnh, thành phố với mã này."),
        (["--round", "qd06-2019", "--apply"], "Lỗi: --round: Mã kỳ đánh giá không hợp lệ."),
        (["--round", "qd06-2019:2047", "--apply"], "Lỗi: --round: Kỳ đánh giá này chưa được mở tại đây."),
        (["--format", "xml", "--apply"], "--format: “xml” không phải một trong: table, json"),
    ):
        code, out, err = await xptt(env, "reconcile", *args)
        assert code == 2 and says in err, (args, out, err)
    assert await table_rows(sessions) == restored


async def _report_names_what_moved(
    env: dict[str, str],
    sessions: async_sessionmaker[AsyncSession],
    restored: Rows,
    moved: set[str],
    at_backup: dict[str, int],
    final: dict[str, int],
) -> None:
    """Without --apply: exit 1, each case that moved with the seqs it lacks, nothing written."""
    code, out, err = await xptt(env, "reconcile", "--province", PROVINCE, "--format", "json", "--every", "10")
    assert code == 1, out + err
    report = json.loads(out)
    assert (report["checked"], report["running"], report["lacking"]) == (38, 36, 4)
    assert {g["case_id"]: g["missing_seqs"] for g in report["cases"]} == {
        cid: list(range(at_backup[cid] + 1, final[cid] + 1)) for cid in moved
    }
    assert all(g["db_seq"] == at_backup[g["case_id"]] and g["wf_seq"] == final[g["case_id"]] for g in report["cases"])
    closed = {g["case_id"] for g in report["cases"] if g["wf_status"] == "closed"}
    assert closed == {g["case_id"] for g in report["cases"] if g["history_unarchived"]} and len(closed) == 2
    assert "đã đối chiếu 10/" in err  # progress on stderr
    code, out, err = await xptt(env, "reconcile", "--province", PROVINCE)
    assert code == 1, out + err
    assert "Đối chiếu cơ sở dữ liệu với quy trình — Lai Châu" in out and "chỉ đối chiếu, chưa ghi gì" in out
    assert "Tự đánh giá" in out  # stages by the glossary's names
    assert await table_rows(sessions) == restored
