"""The round page: progress of an opened round with the recognised share drawn against the target (inline SVG) and
the cases waiting with no task (units striving, cases waiting for registration to open), for the province's
administrator; refused to a commune officer."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from services.rounds.opening import open_round
from tests.support import PROVINCE, running_stack
from tests.web.test_pages import sign_in

# Its own round: opening a whole province starts a case per unit, and the tests share one Temporal server where the
# other tests' cases of qd06-2019:2027 run.
ROUND_ID = "qd06-2019:2049"  # no other test opens or starts cases of this round


async def test_the_round_page_shows_progress_and_the_share_against_the_target(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        opened = await open_round(
            temporal_env.client, sessions, round_id=ROUND_ID, province_code=PROVINCE, task_queue=stack.task_queue
        )
        assert len(opened.cases) == 104
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            await sign_in(web, stack, "admin")
            page = await web.get(f"/web/rounds/{ROUND_ID}", params={"province": PROVINCE})
            assert page.status_code == 200, page.text
            html = page.text
            assert "<svg" in html and "104" in html  # the chart, and the province's 104 units
            assert "Hưng Yên" in html or "33" in html
            # the round's period starts in 2047: every case waits, with no task, for registration to open
            assert "Chờ mở đăng ký" in html and '<span id="waiting-registration">104</span>' in html, html
            assert "Đang phấn đấu" in html and '<span id="striving">0</span>' in html
            english = (await web.get(f"/web/rounds/{ROUND_ID}", params={"province": PROVINCE, "lang": "en"})).text
            assert "Striving" in english and "Waiting for registration to open" in english
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            await sign_in(web, stack, "commune_officer")
            page = await web.get(f"/web/rounds/{ROUND_ID}", params={"province": PROVINCE})
            assert page.status_code in (403, 404), page.status_code
