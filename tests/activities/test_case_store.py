"""Each persistence activity, run twice with the same input, leaves the same rows (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.case_store import CASE_KEPT, CASE_MOVED, CaseStore, _case_values
from contracts import (
    CompletedTask,
    NewTask,
    RecognitionHistoryInput,
    RecordTransitionInput,
)
from db.models import AuditEventRow, CaseRow, CriterionScoreRow, TaskRow
from domain.case import ScoreSheet, Transition
from domain.procedure import load_profile
from domain.stages import Outcome, Role, Stage
from tests.builders import case_opened, snapshot
from tests.support import HUMAN_PATH, ROUND_ID, seed

T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)


def _completed(
    unit: str, seq: int, done: Stage, completion: dict[str, Any], **transition: Any
) -> RecordTransitionInput:
    """The commune officer completes the task of `done` (transition `seq`); the next stage's task opens."""
    case_id = f"{ROUND_ID}-{unit}"
    to = load_profile("two-tier").next_stage(done)
    return RecordTransitionInput(
        case=snapshot(unit, to, seq),
        transition=Transition(
            seq=seq,
            action=f"{done.value}_completed",
            from_stage=done,
            to_stage=to,
            occurred_at=T0 + timedelta(hours=seq - 1),
            **transition,
        ),
        actor_id=f"demo-officer-{unit}",  # the unit's commune officer (services/seed.py demo_officials)
        actor_role=Role.COMMUNE_OFFICER,
        update_id=f"u-{seq - 1}",
        completed_task=CompletedTask(
            task_id=f"{case_id}-t{seq - 1:02d}", completed_by=f"demo-officer-{unit}", completion=completion
        ),
        new_task=NewTask(task_id=f"{case_id}-t{seq:02d}", stage=to, role=dict(HUMAN_PATH)[to], due_at=None),
        workflow_id=case_id,
        run_id="run-1",
    )


def _inputs(unit: str) -> list[RecordTransitionInput]:
    """Opened, registered, self-assessed."""
    sheet = ScoreSheet(kind="self", scores={c: 50 for c in range(1, 14)}, sources={2: "sổ hộ tịch"})
    return [
        case_opened(unit, T0, due_at=T0 + timedelta(days=28)),
        _completed(unit, 2, Stage.REGISTRATION, {"registered": True}, details={"registered": True}),
        _completed(unit, 3, Stage.SELF_ASSESSMENT, {}, score_sheet=sheet),
    ]


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    async with sessions() as session:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for model in (CaseRow, TaskRow, AuditEventRow, CriterionScoreRow):
            rows = (await session.execute(select(model))).scalars().all()
            cols = [c.key for c in model.__table__.columns]
            out[model.__tablename__] = sorted(tuple(str(getattr(r, c)) for c in cols) for r in rows)
        return out


@pytest.fixture
async def unit(sessions: async_sessionmaker[AsyncSession]) -> str:
    """A unit of PROVINCE with its demo officials, and the round of its cases."""
    code, _ = await seed(sessions)
    return code


def test_a_transition_writes_every_column_of_the_case_row_and_moves_all_but_its_identity_and_opening() -> None:
    """The upsert is built once from CASE_MOVED: a column the values give and the upsert does not move (or the
    other way round) would be silently kept, or silently cleared, by every later transition."""
    values = _case_values(_inputs("01001")[1])
    assert sorted(values) == sorted((*CASE_KEPT, *CASE_MOVED))
    assert sorted(values) == sorted(c.name for c in CaseRow.__table__.columns)


async def test_record_transition_twice_leaves_the_same_rows(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    store = CaseStore(sessions)
    env = ActivityEnvironment()
    for inp in _inputs(unit):
        await env.run(store.record_transition, inp)
        once = await _rows(sessions)
        await env.run(store.record_transition, inp)
        assert await _rows(sessions) == once
    rows = await _rows(sessions)
    assert len(rows["audit_events"]) == 3
    assert len(rows["tasks"]) == 3
    assert len(rows["criterion_scores"]) == 13


async def test_a_late_retry_of_an_older_transition_does_not_move_the_case_back(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    store = CaseStore(sessions)
    env = ActivityEnvironment()
    inputs = _inputs(unit)
    for inp in inputs:
        await env.run(store.record_transition, inp)
    settled = await _rows(sessions)
    await env.run(store.record_transition, inputs[1])
    assert await _rows(sessions) == settled
    async with sessions() as session:
        case = await session.get(CaseRow, inputs[0].case.case_id)
        assert case is not None and (case.stage, case.last_seq) == ("council_assessment", 3)


async def test_recognition_history_lists_the_units_closed_rounds_oldest_first(
    sessions: async_sessionmaker[AsyncSession], unit: str
) -> None:
    store = CaseStore(sessions)
    env = ActivityEnvironment()
    from domain.rounds import parse_round
    from services.rounds.opening import ensure_round

    async with sessions() as session, session.begin():
        for rid in ("qd06-2019:2022", "qd06-2019:2024"):
            await ensure_round(session, parse_round(rid), "district")
    for rid, outcome in (("qd06-2019:2024", Outcome.RECOGNISED), ("qd06-2019:2022", Outcome.NOT_RECOGNISED)):
        snap = snapshot(unit, Stage.CLOSED, 1, round_id=rid, status="closed", outcome=outcome)
        await env.run(
            store.record_transition,
            RecordTransitionInput(
                case=snap,
                transition=Transition(
                    seq=1, action="decision_completed", from_stage=Stage.DECISION, to_stage=Stage.CLOSED, occurred_at=T0
                ),
                workflow_id=snap.case_id,
                run_id="r",
            ),
        )
    history = await env.run(store.load_recognition_history, RecognitionHistoryInput(unit_code=unit, round_id=ROUND_ID))
    assert [(r.round_id, r.recognised) for r in history.rounds] == [("qd06-2019:2022", False), ("qd06-2019:2024", True)]
