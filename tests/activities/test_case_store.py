"""Each persistence activity, run twice with the same input, leaves the same rows (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.case_store import CaseStore
from activities.inputs import (
    CaseSnapshot,
    CompletedTask,
    NewTask,
    RecognitionHistoryInput,
    RecordTransitionInput,
)
from db.models import AuditEventRow, CaseRow, CriterionScoreRow, TaskRow
from domain.case import ScoreSheet, Transition
from domain.stages import LocalityType, Outcome, Role, Stage
from tests.support import ROUND_ID, seed

T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)


def _snapshot(unit: str, stage: Stage, seq: int, **kw: Any) -> CaseSnapshot:
    return CaseSnapshot(
        case_id=f"{ROUND_ID}-{unit}",
        unit_code=unit,
        province_code="33",
        round_id=ROUND_ID,
        rule_set_id="qd06-2019",
        profile_id="two-tier",
        locality_type=LocalityType.OTHER,
        stage=stage,
        status=kw.get("status", "open"),
        outcome=kw.get("outcome"),
        verdict=None,
        last_seq=seq,
    )


def _inputs(unit: str) -> list[RecordTransitionInput]:
    case_id = f"{ROUND_ID}-{unit}"
    common = {"workflow_id": case_id, "run_id": "run-1"}
    opened = RecordTransitionInput(
        case=_snapshot(unit, Stage.REGISTRATION, 1),
        transition=Transition(
            seq=1, action="case_opened", from_stage=None, to_stage=Stage.REGISTRATION, occurred_at=T0
        ),
        new_task=NewTask(
            task_id=f"{case_id}-t01",
            stage=Stage.REGISTRATION,
            role=Role.COMMUNE_OFFICER,
            due_at=T0 + timedelta(days=28),
        ),
        **common,
    )
    registered = RecordTransitionInput(
        case=_snapshot(unit, Stage.SELF_ASSESSMENT, 2),
        transition=Transition(
            seq=2,
            action="registration_completed",
            from_stage=Stage.REGISTRATION,
            to_stage=Stage.SELF_ASSESSMENT,
            occurred_at=T0 + timedelta(hours=1),
            details={"registered": True},
        ),
        actor_id="officer",
        actor_role=Role.COMMUNE_OFFICER,
        update_id="u-1",
        completed_task=CompletedTask(task_id=f"{case_id}-t01", completed_by="officer", completion={"registered": True}),
        new_task=NewTask(task_id=f"{case_id}-t02", stage=Stage.SELF_ASSESSMENT, role=Role.COMMUNE_OFFICER, due_at=None),
        **common,
    )
    assessed = RecordTransitionInput(
        case=_snapshot(unit, Stage.COUNCIL_ASSESSMENT, 3),
        transition=Transition(
            seq=3,
            action="self_assessment_completed",
            from_stage=Stage.SELF_ASSESSMENT,
            to_stage=Stage.COUNCIL_ASSESSMENT,
            occurred_at=T0 + timedelta(hours=2),
            score_sheet=ScoreSheet(kind="self", scores={c: 50 for c in range(1, 14)}, sources={2: "sổ hộ tịch"}),
        ),
        actor_id="officer",
        actor_role=Role.COMMUNE_OFFICER,
        update_id="u-2",
        completed_task=CompletedTask(task_id=f"{case_id}-t02", completed_by="officer", completion={}),
        new_task=NewTask(
            task_id=f"{case_id}-t03", stage=Stage.COUNCIL_ASSESSMENT, role=Role.COUNCIL_CHAIR, due_at=None
        ),
        **common,
    )
    return [opened, registered, assessed]


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    async with sessions() as session:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for model in (CaseRow, TaskRow, AuditEventRow, CriterionScoreRow):
            rows = (await session.execute(select(model))).scalars().all()
            cols = [c.key for c in model.__table__.columns]
            out[model.__tablename__] = sorted(tuple(str(getattr(r, c)) for c in cols) for r in rows)
        return out


async def test_record_transition_twice_leaves_the_same_rows(sessions: async_sessionmaker[AsyncSession]) -> None:
    unit, _ = await seed(sessions)
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
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    unit, _ = await seed(sessions)
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
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    unit, _ = await seed(sessions)
    store = CaseStore(sessions)
    env = ActivityEnvironment()
    from domain.rounds import parse_round
    from services.rounds import ensure_round

    async with sessions() as session, session.begin():
        for rid in ("qd06-2019:2022", "qd06-2019:2024"):
            await ensure_round(session, parse_round(rid), "district")
    for rid, outcome in (("qd06-2019:2024", Outcome.RECOGNISED), ("qd06-2019:2022", Outcome.NOT_RECOGNISED)):
        snap = _snapshot(unit, Stage.CLOSED, 1, status="closed", outcome=outcome).model_copy(
            update={"case_id": f"{rid}-{unit}", "round_id": rid}
        )
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
