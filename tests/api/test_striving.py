"""A registered unit striving (stage self-assessment, no task until self-assessment opens on 1 October) as the case
and the board read it: the case says when its stage opens and that it strives; the board counts it on a line of its
own among the open cases by stage and never as stuck or overdue. So too a case waiting for registration to open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from audit.journal import AuditEntry, append_audit_event
from db.models import CaseRow, TaskRow
from domain.calendar import TZ
from domain.case import case_id_for
from domain.rounds import parse_round
from services.rounds.opening import ensure_round
from tests.builders import case_row, journal_values
from tests.support import PROVINCE, ROUND_ID, Stack, fresh_unit

OPENS = datetime(2027, 10, 1, tzinfo=TZ)  # the 2027 round's self-assessment opens
PERIOD_START = datetime(2026, 11, 1, tzinfo=TZ)  # and its registration
REGISTERED = datetime(2026, 11, 10, 9, 30, tzinfo=TZ)
MOVED_ROUND = "qd06-2019:2024"  # a round whose appraisal moved from the district to the province on 1 July 2025


@dataclass
class Cases:
    striving: str  # registered on 10/11/2026, self-assessment opens on 01/10/2027
    opened: str  # its self-assessment task is open (and overdue)
    awaiting: str  # its round opened before registration does
    withdrawn: str  # withdrawn while striving: closed, `waiting_until` left as it was
    moved: str  # at appraisal, moved from the district labour office to the provincial appraising office


def entry(case_id: str, unit: str, seq: int, at: datetime, action: str, to_stage: str, **over: Any) -> AuditEntry:
    """Journal row `seq` of the case: `action` into `to_stage` at `at`, by nobody unless `over` says."""
    values = journal_values(seq, case_id=case_id, workflow_id=case_id, unit_code=unit, action=action, occurred_at=at)
    blank = {"actor_id": None, "actor_role": None, "from_stage": None, "payload": {}, "update_id": None}
    return AuditEntry(**(values | blank | {"to_stage": to_stage} | over))


def opened(at: datetime, **over: Any) -> dict[str, Any]:
    return {"at": at, "action": "case_opened", "to_stage": "registration"} | over


def registered(**over: Any) -> dict[str, Any]:
    return {
        "at": REGISTERED,
        "action": "registration_completed",
        "from_stage": "registration",
        "to_stage": "self_assessment",
        "actor_id": "demo-officer",
        "actor_role": "commune_officer",
        "payload": {"registered": True, "note": "UBND xã đăng ký phấn đấu", "waiting_until": OPENS.isoformat()},
    } | over


async def insert_case(
    stack: Stack,
    *,
    journal: list[dict[str, Any]],
    tasks: tuple[dict[str, Any], ...] = (),
    round_id: str = ROUND_ID,
    **columns: Any,
) -> str:
    """A case row of a fresh unit with its tasks and its journal (`journal`: each row's time, action, stages...)."""
    unit = fresh_unit()
    case_id = case_id_for(round_id, unit)
    first = journal[0]["at"]
    row = {"status": "open", "last_seq": len(journal), "opened_at": first, "updated_at": journal[-1]["at"]} | columns
    async with stack.sessions() as session, session.begin():
        await session.execute(insert(CaseRow).values(**case_row(unit, round_id=round_id, **row)))
        for n, task in enumerate(tasks, 1):
            values = {"id": f"{case_id}/{n}", "case_id": case_id, "unit_code": unit, "province_code": PROVINCE}
            await session.execute(insert(TaskRow).values(**values, **task))
        for seq, step in enumerate(journal, 1):
            await append_audit_event(session, entry(case_id, unit, seq, **step))
    return case_id


def registration_task(**over: Any) -> dict[str, Any]:
    """Done on 10/11/2026; it was due on 27/11/2026, a day now past: a task done is never late."""
    return {
        "stage": "registration",
        "role": "commune_officer",
        "status": "completed",
        "created_at": PERIOD_START,
        "due_at": datetime(2026, 11, 27, 17, tzinfo=TZ),
        "completed_at": REGISTERED,
        "completed_by": "demo-officer",
    } | over


async def striving_cases(stack: Stack) -> Cases:
    """The cases of the module in PROVINCE, straight in the read model (their workflows are not needed here)."""
    started = PERIOD_START + timedelta(hours=1)
    now = datetime.now(UTC)
    async with stack.sessions() as session, session.begin():
        await ensure_round(session, parse_round(MOVED_ROUND), "district")
    window = {"opens": "2027-10-01", "due": "2027-11-01", "anchor": "2027-11-01", "adjustment": "none"}
    stage_opened = {
        "at": OPENS,
        "action": "stage_opened",
        "from_stage": "self_assessment",
        "to_stage": "self_assessment",
    }
    withdrawal = {"action": "case_withdrawn", "from_stage": "self_assessment", "to_stage": "closed"}
    moved_on = datetime(2025, 7, 1, tzinfo=TZ)
    authority = {
        "from_profile": "district",
        "to_profile": "two-tier",
        "on": "2025-07-01",
        "task_id": "t-1",
        "from_role": "district_appraiser",
        "to_role": "appraiser",
        "new_task_id": "t-2",
    }
    return Cases(
        striving=await insert_case(
            stack,
            journal=[opened(started), registered()],
            tasks=(registration_task(),),
            stage="self_assessment",
            waiting_until=OPENS,
        ),
        opened=await insert_case(
            stack,
            journal=[opened(started), registered(), stage_opened | {"payload": {"window": window}}],
            tasks=(
                registration_task(),
                {"stage": "self_assessment", "role": "commune_officer", "status": "open"}
                | {"created_at": now - timedelta(days=20), "due_at": now - timedelta(days=3)},
            ),
            stage="self_assessment",
        ),
        awaiting=await insert_case(
            stack,
            journal=[opened(started - timedelta(days=20), payload={"waiting_until": PERIOD_START.isoformat()})],
            stage="registration",
            waiting_until=PERIOD_START,
        ),
        withdrawn=await insert_case(
            stack,
            journal=[opened(started), registered(), withdrawal | {"at": REGISTERED + timedelta(days=5)}],
            tasks=(registration_task(),),
            stage="closed",
            status="closed",
            outcome="withdrawn",
            waiting_until=OPENS,
            closed_at=REGISTERED + timedelta(days=5),
        ),
        moved=await insert_case(
            stack,
            journal=[
                opened(datetime(2024, 1, 2, tzinfo=TZ)),
                {"at": moved_on, "action": "authority_changed", "from_stage": "appraisal", "to_stage": "appraisal"}
                | {"payload": authority, "reason": "district → two-tier (2025-07-01)"},
            ],
            tasks=(
                {"stage": "appraisal", "role": "appraiser", "status": "open", "created_at": moved_on}
                | {"due_at": now + timedelta(days=5)},
            ),
            round_id=MOVED_ROUND,
            stage="appraisal",
        ),
    )


async def get(stack: Stack, path: str, **params: Any) -> Any:
    resp = await stack.http.get(path, params=params, headers=stack.headers("admin"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def test_a_striving_case_says_when_its_self_assessment_opens(stack: Stack) -> None:
    cases = await striving_cases(stack)
    striving = await get(stack, f"/v1/cases/{cases.striving}")
    assert (striving["stage"], striving["status"], striving["standing"]) == ("self_assessment", "open", "striving")
    assert when(striving["waiting_until"]) == OPENS
    assert [t["status"] for t in striving["tasks"]] == ["completed"]

    awaiting = await get(stack, f"/v1/cases/{cases.awaiting}")
    assert (awaiting["stage"], awaiting["standing"]) == ("registration", "awaiting_registration")
    assert when(awaiting["waiting_until"]) == PERIOD_START

    # its task open, a case no longer waits; a withdrawn case waits for nothing, whatever its row kept
    opened = await get(stack, f"/v1/cases/{cases.opened}")
    assert (opened["standing"], opened["waiting_until"]) == (None, None)
    withdrawn = await get(stack, f"/v1/cases/{cases.withdrawn}")
    assert (withdrawn["status"], withdrawn["standing"], withdrawn["waiting_until"]) == ("closed", None, None)

    actions = [e["action"] for e in (await get(stack, f"/v1/cases/{cases.opened}/timeline"))["events"]]
    assert actions == ["case_opened", "registration_completed", "stage_opened"]


async def test_the_board_counts_striving_cases_apart_and_never_as_stuck(stack: Stack) -> None:
    cases = await striving_cases(stack)
    for failing in ("false", "true"):
        board = await get(stack, "/v1/board", failing=failing)
        lines = [(line["line"], line["stage"], line["cases"]) for line in board["open_by_stage"]]
        assert lines == [
            ("awaiting_registration", "registration", 1),
            ("striving", "self_assessment", 1),
            ("self_assessment", "self_assessment", 1),
            ("appraisal", "appraisal", 1),
        ], failing
        listed = {i["case_id"] for i in board["items"]}
        assert listed == {cases.opened}, failing  # overdue; the waiting cases are not stuck
        assert board["totals"]["overdue"] == 1 and sum(board["totals"].values()) == 1
        assert {(g["unit_code"], g["stage"]) for g in board["groups"]} == {
            (cases.opened.rsplit("-", 1)[1], "self_assessment")
        }
