"""Opening and closing a round tells the province's overseers, once each, by email through a real SMTP server
(time-skipping Temporal server; the round closes at its end with cases still open)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts import OpenRoundInput
from infra.settings import get_settings
from services.seed import demo_officials, seed_officials, seed_units
from tests.builders import stack_worker
from tests.notify.support import SmtpServer, delivery, notify_worker, wait_rows
from tests.support import ROUND_ID
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

PROVINCE = "12"  # Lai Châu, 38 units


async def test_a_round_is_announced_when_it_opens_and_when_it_closes(
    time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    async with sessions() as session, session.begin():
        await seed_units(session, PROVINCE)
        overseers = [o for o in demo_officials(PROVINCE, "00000") if o.unit_code is None]
        await seed_officials(session, overseers, PROVINCE)
    queue = f"round-notices-{uuid.uuid4()}"
    closes_at = await time_env.get_current_time() + timedelta(days=1)
    async with (
        stack_worker(time_env.client, queue, sessions),
        notify_worker(time_env.client, queue, delivery(sessions, smtp)),
    ):
        report = await time_env.client.execute_workflow(
            AssessmentRoundWorkflow.run,
            OpenRoundInput(round_id=ROUND_ID, province_code=PROVINCE, concurrency=10, closes_at=closes_at),
            id=round_workflow_id(ROUND_ID, PROVINCE),
            task_queue=queue,
        )
        assert report.still_open == report.units == 38
        sent = await wait_rows(
            sessions, lambda rs: len(rs) == 6 and {r.status for r in rs} == {"delivered"}, channel="email"
        )
    # appraiser, chairman and admin of the province (the auditor oversees nothing here)
    assert Counter(r.kind for r in sent) == {"round_opened": 3, "round_closed": 3}
    assert {r.official_id for r in sent} == {f"demo-{role}-{PROVINCE}" for role in ("appraiser", "chairman", "admin")}
    subjects = sorted(str(m["Subject"]) for m in smtp.messages())
    year = ROUND_ID.rpartition(":")[2]
    assert subjects[0].startswith(f"[xptt] Kết thúc kỳ đánh giá năm {year} - ")
    assert subjects[-1].startswith(f"[xptt] Mở kỳ đánh giá năm {year} - ")
    assert all(ROUND_ID not in s for s in subjects)
    assert {r.link for r in sent} == {
        f"{get_settings().public_url.rstrip('/')}/web/rounds/{ROUND_ID}?province={PROVINCE}"
    }
    closed = next(m for m in smtp.messages() if str(m["Subject"]).startswith("[xptt] Kết thúc"))
    text = closed.get_body().get_content()  # type: ignore[union-attr]
    assert (
        "Kết quả: 0 đơn vị được công nhận / 0 đơn vị nộp hồ sơ đề nghị công nhận / 0 đơn vị đăng ký phấn đấu." in text
    )
    opened = next(m for m in smtp.messages() if str(m["Subject"]).startswith("[xptt] Mở"))
    text = opened.get_body().get_content()  # type: ignore[union-attr]
    # Opened on the law's calendar mid-period: registration gets the minimum, self-assessment opens 1 October 2027.
    assert re.search(r"Hạn đăng ký phấn đấu: \d{2}/\d{2}/\d{4} 17:00 \(giờ Việt Nam\)", text)
    assert "Tự đánh giá mở từ ngày 01/10/2027" in text
