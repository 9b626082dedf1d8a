"""The figures of a seeded round (tests/stage_times/journal.py) equal those counted by hand: time in stage in
working days (p50, p90, max), open stays, escalated shares, returns and objections per case, on-time rates, by
province and by locality type, and the slowest units; computed from the journal in PostgreSQL. Who reads what:
an admin of the province, the ministry (figures, no units), an admin of another province (refused)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import RoleScope
from domain.stage_times import GroupFigures, StageFigures
from domain.stages import Role, Stage
from services.access import Principal
from services.errors import Refusal
from services.stage_times.service import figures
from tests.stage_times.journal import A_STAYS, OTHER_PROVINCE, UNIT_A, UNIT_B, seed_round
from tests.support import PROVINCE, ROUND_ID

NOW = datetime(2027, 12, 20, tzinfo=UTC)


def admin(province: str) -> Principal:
    return Principal("adm", "Quản trị", (RoleScope(role=Role.ADMIN, province_code=province, unit_code=None),))


MINISTRY = Principal("bo", "Bộ", (), ministry=True)


def row(g: GroupFigures, stage: Stage) -> tuple[object, ...]:
    f = g.stage(stage)
    assert isinstance(f, StageFigures)
    return (f.cases, f.stays, f.open_stays, f.p50, f.p90, f.max, f.escalated_cases, f.on_time, f.counted_for_on_time)


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    await seed_round(sessions)
    return sessions


async def test_the_national_figures_equal_those_counted_by_hand(seeded: async_sessionmaker[AsyncSession]) -> None:
    async with seeded() as session:
        out = await figures(session, MINISTRY, ROUND_ID, now=NOW)
    g = out.overall
    # (cases, stays, open, p50, p90, max, escalated cases, on time, counted for on time)
    assert row(g, Stage.REGISTRATION) == (3, 3, 0, 3, 5, 5, 0, 2, 3)  # A 2, B 5 (late), C 3
    assert row(g, Stage.SELF_ASSESSMENT) == (3, 3, 1, 3, 6, 6, 0, 2, 2)  # A 3, C 6, B still there
    assert row(g, Stage.COUNCIL_ASSESSMENT) == (2, 3, 1, 2, 2, 2, 0, 2, 2)  # A 2 and 2, C still there
    assert row(g, Stage.PUBLIC_POSTING) == (1, 2, 0, 2, 4, 4, 0, 2, 2)
    assert row(g, Stage.DOSSIER_SUBMISSION) == (1, 3, 0, 1, 2, 2, 0, 3, 3)
    assert row(g, Stage.APPRAISAL) == (1, 3, 0, 3, 3, 3, 1, 2, 3)  # 1, 3 (late, escalated), 3
    assert row(g, Stage.DECISION) == (1, 1, 0, 3, 3, 3, 0, 1, 1)
    assert row(g, Stage.COMMENDATION) == (1, 1, 0, 0, 0, 0, 0, 0, 0)  # no task: not judged
    by_stage = {f.stage: f for f in g.stages}
    assert by_stage[Stage.APPRAISAL].escalated_share == 1.0 and by_stage[Stage.APPRAISAL].on_time_rate == 2 / 3
    assert by_stage[Stage.REGISTRATION].on_time_rate == 2 / 3 and by_stage[Stage.COMMENDATION].on_time_rate is None
    assert (g.cases, g.returns, g.objections) == (3, 2, 1)
    assert (g.returns_per_case, g.objections_per_case) == (2 / 3, 1 / 3)
    assert [p.key for p in out.by_province] == [OTHER_PROVINCE, PROVINCE]
    assert [x.key for x in out.by_locality] == ["mountain-island-disadvantaged", "other"]
    assert out.slowest == () and not out.units_listed  # the ministry reads no unit
    assert not g.suppressed
    async with seeded() as session:
        one = await figures(session, MINISTRY, ROUND_ID, province=OTHER_PROVINCE, now=NOW)
    assert [p.key for p in one.by_province] == [OTHER_PROVINCE] and one.overall.cases == 1 and not one.units_listed


def shown(g: GroupFigures) -> tuple[str, int, bool, int | None, float | None]:
    registration = g.stage(Stage.REGISTRATION)
    assert registration is not None
    return g.key, g.cases, g.suppressed, registration.p90, g.returns_per_case


async def test_the_ministry_is_not_shown_groups_of_fewer_than_three_cases(
    seeded: async_sessionmaker[AsyncSession],
) -> None:
    """Every group of the seeded round but the national one holds one or two cases: the ministry reads their numbers
    of cases only; a province's admin reads them all; a ministry official who is also Hưng Yên's admin reads
    Hưng Yên's figures, not Lai Châu's nor those of a locality type with a Lai Châu case."""
    async with seeded() as session:
        national = await figures(session, MINISTRY, ROUND_ID, now=NOW)
        one = await figures(session, MINISTRY, ROUND_ID, province=PROVINCE, now=NOW)
        mountain = await figures(session, MINISTRY, ROUND_ID, locality_type="mountain-island-disadvantaged", now=NOW)
        own = await figures(session, admin(PROVINCE), ROUND_ID, now=NOW)
        both = await figures(
            session, Principal("bh", "Bộ và Hưng Yên", admin(PROVINCE).scopes, ministry=True), ROUND_ID, now=NOW
        )
    assert shown(national.overall) == ("all", 3, False, 5, 2 / 3)
    assert [shown(p) for p in national.by_province] == [
        (OTHER_PROVINCE, 1, True, None, None),
        (PROVINCE, 2, True, None, None),
    ]
    assert [shown(x) for x in national.by_locality] == [
        ("mountain-island-disadvantaged", 1, True, None, None),
        ("other", 2, True, None, None),
    ]
    hidden = national.by_province[1]
    assert hidden.returns is None and all(f.suppressed and f.stays is None for f in hidden.stages)
    assert [f.cases for f in hidden.stages][:2] == [2, 2]  # the numbers of cases stay
    assert shown(one.overall) == ("all", 2, True, None, None) and one.by_province[0].suppressed
    assert shown(mountain.overall) == ("all", 1, True, None, None)
    assert [shown(p) for p in own.by_province] == [(PROVINCE, 2, False, 5, 1.0)]
    assert [shown(x) for x in own.by_locality] == [
        ("mountain-island-disadvantaged", 1, False, 5, 0.0),
        ("other", 1, False, 2, 2.0),
    ]
    assert [shown(p)[2] for p in both.by_province] == [True, False]  # Lai Châu withheld, Hưng Yên not
    assert [shown(x)[2] for x in both.by_locality] == [False, True]  # "other" holds Lai Châu's case


async def test_a_provinces_admin_reads_its_figures_and_slowest_units(seeded: async_sessionmaker[AsyncSession]) -> None:
    async with seeded() as session:
        out = await figures(session, admin(PROVINCE), ROUND_ID, now=NOW)
        mountain = await figures(
            session,
            admin(PROVINCE),
            ROUND_ID,
            province=PROVINCE,
            locality_type="mountain-island-disadvantaged",
            now=NOW,
        )
    (hy,) = out.by_province
    assert hy.key == PROVINCE and hy == out.overall.model_copy(update={"key": PROVINCE})
    assert row(hy, Stage.REGISTRATION) == (2, 2, 0, 2, 5, 5, 0, 1, 2)
    assert (hy.returns_per_case, hy.objections_per_case) == (1.0, 0.5)
    a_total = sum(days for _, days, _ in A_STAYS)
    assert a_total == 29
    assert [(s.unit_code, s.working_days, s.slowest_stage, s.slowest_stage_days) for s in out.slowest] == [
        (UNIT_A, 29, Stage.APPRAISAL, 7),  # 1 + 3 + 3
        (UNIT_B, 5, Stage.REGISTRATION, 5),
    ]
    assert out.units_listed and out.slowest[0].unit_name
    assert mountain.overall.cases == 1 and row(mountain.overall, Stage.SELF_ASSESSMENT)[:3] == (1, 1, 1)
    assert [s.unit_code for s in mountain.slowest] == [UNIT_B]


@pytest.mark.parametrize(
    ("who", "kw", "status", "field"),
    [
        (admin(OTHER_PROVINCE), {"province": PROVINCE}, 403, None),
        (Principal("x", "x", ()), {}, 403, None),
        (admin(PROVINCE), {"province": "99"}, 422, "province"),
        (admin(PROVINCE), {"locality_type": "ward"}, 422, "locality_type"),
        (admin(PROVINCE), {"round_id": "qd06-2019:2029"}, 404, None),
    ],
)
async def test_refusals_name_the_field_or_the_scope(
    seeded: async_sessionmaker[AsyncSession], who: Principal, kw: dict[str, str], status: int, field: str | None
) -> None:
    round_id = kw.pop("round_id", ROUND_ID)
    async with seeded() as session:
        with pytest.raises(Refusal) as refused:
            await figures(
                session, who, round_id, province=kw.get("province"), locality_type=kw.get("locality_type"), now=NOW
            )
    assert refused.value.status == status and refused.value.extra.get("field") == field
