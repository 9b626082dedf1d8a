"""Deadlines that act also speak: a unit that never registers is reminded, escalated up the ladder and told the
case closed, each once, by email through a real SMTP server (time-skipping Temporal server: weeks in moments)."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from tests.builders import stack_worker, start_input
from tests.notify.support import SmtpServer, delivery, notify_worker, wait_rows
from tests.support import PROVINCE, ROUND_ID, seed
from workflows.case import RecognitionCaseWorkflow


async def test_reminder_escalations_and_closure_are_each_mailed_once(
    time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    officer, commune_chairman = f"demo-officer-{unit}", f"demo-commune-chairman-{unit}"
    appraiser = f"demo-appraiser-{PROVINCE}"
    queue = f"deadline-notices-{uuid.uuid4()}"
    inp = start_input(unit, case_id=f"{ROUND_ID}-{unit}-{uuid.uuid4().hex[:6]}")
    async with (
        stack_worker(time_env.client, queue, sessions),
        notify_worker(time_env.client, queue, delivery(sessions, smtp)),
    ):
        result = await time_env.client.execute_workflow(
            RecognitionCaseWorkflow.run, inp, id=inp.case_id, task_queue=queue
        )
        assert result.outcome == "not_registered"
        sent = await wait_rows(
            sessions,
            lambda rs: len(rs) == 6 and {r.status for r in rs} == {"delivered"},
            case_id=inp.case_id,
            channel="email",
        )
    assert Counter((r.kind, r.official_id) for r in sent) == {
        ("task_assigned", officer): 1,
        ("task_reminder", officer): 1,
        ("task_escalated", commune_chairman): 1,
        ("task_escalated", appraiser): 1,
        ("decision_made", officer): 1,
        ("decision_made", commune_chairman): 1,
    }
    mails = smtp.messages()
    assert sorted(m["X-Xptt-Notification-Id"] for m in mails) == sorted(r.id for r in sent)
    subjects = {str(m["Subject"]).split(":")[0] for m in mails}
    assert subjects == {
        "[xptt] Nhiệm vụ mới",
        "[xptt] Nhắc việc",
        "[xptt] Chuyển cấp xử lý",
        "[xptt] Kết thúc lượt xét công nhận",
    }
    closed = next(m for m in mails if str(m["Subject"]).startswith("[xptt] Kết thúc lượt xét công nhận"))
    text = closed.get_body().get_content()  # type: ignore[union-attr]
    assert "đã kết thúc vì đơn vị không đăng ký phấn đấu trong thời hạn." in text
    assert "ladder" not in text and "not_registered" not in text
