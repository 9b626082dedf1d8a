"""`xptt round open` refuses a round that does not lie ahead, as `POST /v1/rounds` does (services/rounds
`live_round`), before it reaches the database or Temporal: exit code 2 and the reason. `--rehearsal-opens-on` opens
a rehearsal, its calendar moved to the present; a bad day is refused the same way, naming the option, and opens
nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from db.models import CaseRow, TaskRow
from infra.clock import today_vn
from services.seed import seed_units
from tests.cli.test_bulk_cli import _xptt
from tests.support import running_stack
from workflows.round import round_workflow_id

NOWHERE = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "TEMPORAL_ADDRESS": "127.0.0.1:9"}
PROVINCE = "46"  # Huế, 40 units
REHEARSAL = "qd06-2019:2032"  # opened in Huế only here


@pytest.mark.parametrize(
    ("round_id", "fragment"),
    [
        ("qd06-2019:2099", "after the current assessment"),
        ("qd37-2010:2012", "no longer in force"),
        ("qd06-2019:2022", "assessment ended on 2022-11-30"),
    ],
)
async def test_a_round_that_does_not_lie_ahead_is_refused_before_anything_opens(round_id: str, fragment: str) -> None:
    code, out = await _xptt(NOWHERE, "round", "open", round_id, "--province", "46")
    assert code == 2, out
    assert "round_id" in out and fragment in " ".join(out.split()), out


@pytest.mark.parametrize(
    ("day", "fragment"),
    [
        ("01/10/2027", "a day is written YYYY-MM-DD"),
        ("20271001", "a day is written YYYY-MM-DD"),
        ("2027-02-30", "2027-02-30 is not a day of the calendar"),
        ("2099-10-01", "2099-10-01 is more than a year from today"),
        ("[bold]", "a day is written YYYY-MM-DD"),  # printed as given, not read as markup
    ],
)
async def test_a_bad_rehearsal_day_is_refused_naming_the_option_before_anything_opens(day: str, fragment: str) -> None:
    code, out = await _xptt(NOWHERE, "round", "open", "qd06-2019:2027", "--province", "46", "--rehearsal-opens-on", day)
    assert code == 2, out
    flat = " ".join(out.split())
    assert "--rehearsal-opens-on" in flat and fragment in flat, out


async def test_a_rehearsal_round_opens_from_the_command_line_with_its_registration_open_today(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        async with sessions() as session, session.begin():
            await seed_units(session, PROVINCE)
        env = {
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
            "TEMPORAL_TASK_QUEUE": stack.task_queue,
            "XPTT_ROUNDS_OPEN_AHEAD": "10",  # 2032 lies three assessments after the current one
        }
        opens_on = today_vn() + timedelta(weeks=2)
        open_args = ("round", "open", REHEARSAL, "--province", PROVINCE, "--rehearsal-opens-on")

        code, out = await _xptt(env, *open_args, "2032-13-01")
        assert code == 2 and "--rehearsal-opens-on" in out, out
        async with sessions() as session:
            assert not await session.scalar(select(func.count()).select_from(CaseRow))
        with pytest.raises(RPCError):  # nothing opened: no round workflow either
            await temporal_env.client.get_workflow_handle(round_workflow_id(REHEARSAL, PROVINCE)).describe()

        code, out = await _xptt(env, *open_args, opens_on.isoformat())
        assert code == 0, out
        assert f"Đã mở kỳ đánh giá năm {REHEARSAL.rpartition(':')[2]}" in out, out
        assert re.search(rf"│\s*{PROVINCE}\s*│\s*40\s*│\s*40\s*│", out), out
        # Without the rehearsal the 2032 round's period starts on 1 November 2029 and its cases would wait for it;
        # moved to the present, every unit has its registration task today.
        async with sessions() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(CaseRow).where(CaseRow.waiting_until.is_not(None))
            )
            tasks = await session.scalar(
                select(func.count())
                .select_from(TaskRow)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(CaseRow.round_id == REHEARSAL, TaskRow.status == "open", TaskRow.stage == "registration")
            )
        assert (waiting, tasks) == (0, 40)

        code, out = await _xptt(env, "round", "progress", REHEARSAL, "--province", PROVINCE)
        assert code == 0, out
        assert re.search(r"│\s*Đăng ký phấn đấu\s*│\s*40\s*│", out), out
        assert re.search(r"│\s*Chờ mở đăng ký\s*│\s*0\s*│", out), out
