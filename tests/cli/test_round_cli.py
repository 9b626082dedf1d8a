"""`xptt round open | progress | report` against a running stack: the opening shows its progress bar and ends with
a summary table; progress and report read the round that opened (Huế, 40 units), in Vietnamese."""

from __future__ import annotations

import json
import re

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.units import load_units
from services.seed import seed_units
from tests.cli.test_bulk_cli import _xptt
from tests.support import running_stack

# Its own round and province: opening a whole province starts a case per unit on the Temporal server the tests share.
PROVINCE = "46"  # Huế
ROUND_ID = "qd06-2019:2047"  # no other test opens or starts cases of this round


async def test_round_open_progress_and_report_from_the_command_line(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        async with sessions() as session, session.begin():
            await seed_units(session, PROVINCE)
        env = {
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
            "TEMPORAL_TASK_QUEUE": stack.task_queue,
            "XPTT_ROUNDS_OPEN_AHEAD": "10",  # its own round lies eight assessments after the current one
        }
        units = len(load_units(PROVINCE))
        code, out = await _xptt(env, "round", "open", ROUND_ID, "--province", PROVINCE)
        assert code == 0, out
        assert f"{units}/{units}" in out  # the progress bar reached every unit
        assert f"Đã mở kỳ đánh giá năm {ROUND_ID.rpartition(':')[2]}" in out
        assert re.search(rf"│\s*{PROVINCE}\s*│\s*{units}\s*│\s*{units}\s*│", out), out  # the summary table

        code, out = await _xptt(env, "round", "progress", ROUND_ID, "--province", PROVINCE)
        assert code == 0, out
        # Vietnamese, from the glossary: the stage, and the cases waiting for the period (it starts in 2045)
        assert re.search(rf"│\s*Đăng ký phấn đấu\s*│\s*{units}\s*│", out), out
        assert re.search(rf"│\s*Chờ mở đăng ký\s*│\s*{units}\s*│", out), out
        assert re.search(r"│\s*Đang phấn đấu\s*│\s*0\s*│", out), out
        assert "registration" not in out

        code, out = await _xptt(env, "round", "report", ROUND_ID, "--province", PROVINCE)
        assert code == 0, out
        assert f"Báo cáo kỳ đánh giá năm {ROUND_ID[-4:]} — Thành phố Huế (đang diễn ra)" in out, out
        assert "Tỷ lệ đạt chuẩn" in out, out

        code, out = await _xptt(env, "round", "report", ROUND_ID, "--province", PROVINCE, "--format", "json")
        assert code == 0, out
        report = json.loads(out[out.index("{") :])
        assert report["units"] == units

        code, out = await _xptt(env, "round", "open", "qd06-2019:2026", "--province", PROVINCE)
        assert code == 2 and "2026" in out  # not an assessment year of QĐ 06/2019
