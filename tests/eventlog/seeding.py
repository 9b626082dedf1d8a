"""A round's journal seeded through the real journal writer, without Temporal: each case driven through the pure
procedure (domain/case.py: open, complete every human stage with a valid form, the commendation check), every
transition recorded as the case workflow records it (RecordTransitionInput.of, then CaseStore.record_transition or,
for many cases in one transaction, apply_transition). Used by tests/eventlog and bench/eventlog.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.case_store import CaseStore, apply_transition
from contracts import CompletedTask, RecordTransitionInput
from domain.case import CaseState, case_id_for, commendation_checked, complete_stage, open_case
from domain.forms import parse_form
from domain.procedure import load_profile
from domain.rounds import parse_round
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Stage
from domain.units import load_units
from services.rounds.opening import ensure_round
from services.seed import seed_units
from tests.support import HUMAN_PATH, form_for

RETURN_FORM = {"outcome": "return", "findings": "Thiếu biên bản", "missing": ["council_minutes"]}


def actor_of(role: str, unit_code: str) -> str:
    """The official id that acts in `role` for the unit (commune roles) or its province (the others)."""
    return f"eventlog-{role}-{unit_code}" if role in ("commune_officer", "council_chair") else f"eventlog-{role}"


def case_transitions(
    unit_code: str, province_code: str, round_id: str, start: datetime, *, returns: int = 0
) -> Iterator[RecordTransitionInput]:
    """The recordings of one case that goes all the way: opened, each human stage completed an hour apart
    (the appraisal returning the dossier `returns` times first), recognised, the commendation check closing it."""
    profile = load_profile("two-tier")
    rule_set = load_rule_set(parse_round(round_id).rule_set_id)
    year = parse_round(round_id).year
    case_id = case_id_for(round_id, unit_code)
    state = CaseState(
        case_id=case_id,
        unit_code=unit_code,
        province_code=province_code,
        round_id=round_id,
        rule_set_id=rule_set.id,
        profile_id=profile.id,
        locality_type=LocalityType.OTHER,
    )
    now = start
    state, tr = open_case(state, profile=profile, year=year, now=now)
    yield RecordTransitionInput.of(state, tr, workflow_id=case_id, run_id="seeded")
    # ... dossier, appraisal (returned, `returns` times: the dossier again, the appraisal again), decision
    path = HUMAN_PATH[:6] + [HUMAN_PATH[4], HUMAN_PATH[5]] * returns + HUMAN_PATH[6:]
    returning = returns
    for stage, role in path:
        payload = form_for(stage)
        if stage is Stage.APPRAISAL and returning:
            payload, returning = RETURN_FORM, returning - 1
        form = parse_form(stage, payload, state.form_context(rule_set, profile))
        assert state.task is not None
        actor = actor_of(role.value, unit_code)
        done = CompletedTask(task_id=state.task.task_id, completed_by=actor, completion=payload)
        now += timedelta(hours=1)
        state, tr = complete_stage(state, form, rule_set=rule_set, profile=profile, year=year, now=now)
        yield RecordTransitionInput.of(
            state, tr, workflow_id=case_id, run_id="seeded", actor_id=done.completed_by, actor_role=role, completed=done
        )
    now += timedelta(minutes=5)
    state, tr = commendation_checked(state, None, profile=profile, year=year, now=now)
    yield RecordTransitionInput.of(state, tr, workflow_id=case_id, run_id="seeded")


async def seed_places(sessions: async_sessionmaker[AsyncSession], round_id: str, provinces: list[str]) -> None:
    async with sessions() as session, session.begin():
        for province in provinces:
            await seed_units(session, province, lineage=False)
        await ensure_round(session, parse_round(round_id), "two-tier")


async def record_cases(
    sessions: async_sessionmaker[AsyncSession],
    round_id: str,
    cases: list[tuple[str, str, int]],
    start: datetime,
) -> None:
    """Each (unit, province, returns) case recorded one transition at a time by the recording activity."""
    store = CaseStore(sessions)
    for n, (unit, province, returns) in enumerate(cases):
        for inp in case_transitions(unit, province, round_id, start + timedelta(minutes=n), returns=returns):
            await store.record_transition(inp)


async def record_many(sessions: async_sessionmaker[AsyncSession], round_id: str, count: int, start: datetime) -> int:
    """`count` cases of the country's units (seed_places with every province first), recorded 50 cases to a
    transaction; every tenth case has its dossier returned once. The journal rows written."""
    units = load_units()[:count]
    rows = 0
    for first in range(0, len(units), 50):
        async with sessions() as session, session.begin():
            for n, unit in enumerate(units[first : first + 50], start=first):
                at = start + timedelta(seconds=n)
                for inp in case_transitions(unit.code, unit.province_code, round_id, at, returns=int(n % 10 == 0)):
                    await apply_transition(session, inp)
                    rows += 1
    return rows
