"""A decided round seeded straight into PostgreSQL for the what-if tests: the cases, their council scores, the
verdicts QĐ 06/QĐ-TTg gave them and their outcomes, chosen so that the test draft (data/draft-ward-950.yaml: the ward
threshold at 950, criterion 7 dropped, criteria 8-13 renumbered) flips several units each way. Besides the cases
closed as their council verdict went: a unit the council passed and appraisal refused (closed, not recognised), a
recognised unit still waiting at commendation (open), and a case at appraisal with a council verdict and no outcome
yet (not counted). Every figure below is worked by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditEventRow, CaseRow, CriterionScoreRow, DirectoryEventRow, ProvinceTargetRow, RoundRow
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Outcome
from domain.units import load_units
from domain.verdict import Verdict, evaluate
from tests.builders import case_row
from tests.support import PROVINCE, ROUND_ID

DATA = Path(__file__).resolve().parent / "data"
DRAFT = DATA / "draft-ward-950.yaml"
MAPPING = DATA / "mapping-drop-7.yaml"
OFFICIAL = load_rule_set("qd06-2019")
FULL = {c.number: c.max_points for c in OFFICIAL.criteria}
AT = datetime(2027, 12, 20, 3, 0, tzinfo=UTC)
WARD, OTHER = LocalityType.CENTRAL_CITY_WARD, LocalityType.OTHER


@dataclass(frozen=True)
class Seeded:
    key: str
    locality: LocalityType
    scores: dict[int, int] | None  # None: the case closed before the council (not registered)
    official_total: int | None
    draft_total: int | None
    after: str | None = None  # "appraisal": refused there (closed); "commendation": recognised, waiting there (open)


def _sheet(**points: int) -> dict[int, int]:
    return FULL | {int(k[1:]): v for k, v in points.items()}


# official: QĐ 06 (ward 900, other 850, no zero); draft: the total less criterion 7, ward 950, other 850
UNITS = [
    Seeded("W920", WARD, _sheet(c1=35, c3=35), 920, 870),  # recognised -> not: 870 < 950
    Seeded("W960", WARD, _sheet(c3=35), 960, 910),  # recognised -> not: 910 < 950
    Seeded("W1000", WARD, FULL, 1000, 950),  # recognised under both
    Seeded("Z7", OTHER, _sheet(c7=0), 950, 950),  # not (a zero in 7) -> recognised
    Seeded("Z7B", OTHER, _sheet(c7=0, c2=35), 910, 910),  # not (a zero in 7) -> recognised
    Seeded("Z3", OTHER, _sheet(c3=0), 925, 875),  # not under both: a zero in 3
    Seeded("O880", OTHER, _sheet(c1=5, c2=25), 880, 830),  # recognised -> not: 830 < 850
    Seeded("NR", OTHER, None, None, None),  # did not register: no verdict under either
    # the council passed it (1000), appraisal refused it: not recognised, and not under the draft (950) either
    Seeded("APR", OTHER, FULL, 1000, 950, after="appraisal"),
    Seeded("COM", WARD, _sheet(c3=35), 960, 910, after="commendation"),  # recognised, open -> not: 910 < 950
]
LOST = {"W920", "W960", "O880", "COM"}
GAINED = {"Z7", "Z7B"}
AFTER_COUNCIL = {"APR"}
TARGET_SHARE = 0.03  # of Hưng Yên's 104 units: 4 needed (3/104 = 2.88 % misses, 4/104 = 3.85 % meets)


def unit_codes() -> dict[str, str]:
    """The seeded key of each unit -> a unit of PROVINCE (the last ones: the stack's fresh units come first)."""
    codes = [u.code for u in load_units(PROVINCE)][-len(UNITS) :]
    return {s.key: code for s, code in zip(UNITS, codes, strict=True)}


async def seed_closed_round(sessions: async_sessionmaker[AsyncSession], *, target: bool = True) -> dict[str, str]:
    """The decided cases of ROUND_ID in PROVINCE (and one case at appraisal with no outcome yet, which the what-if
    leaves out), with the province's target for 2026-2030. The units, the provinces and the round must be seeded
    already."""
    codes = unit_codes()
    async with sessions() as session, session.begin():
        for s in UNITS:
            verdict = evaluate(OFFICIAL, s.locality, s.scores) if s.scores is not None else None
            assert verdict is None or verdict.total == s.official_total
            await _case(session, codes[s.key], s, verdict)
        undecided = Seeded("OPEN", OTHER, FULL, 1000, 950)
        still_open = [u.code for u in load_units(PROVINCE)][-len(UNITS) - 1]
        await _case(session, still_open, undecided, evaluate(OFFICIAL, OTHER, FULL), stage="appraisal")
        if target:
            await session.execute(
                insert(ProvinceTargetRow).values(
                    province_code=PROVINCE,
                    first_year=2026,
                    last_year=2030,
                    share=TARGET_SHARE,
                    plan="KH 7/KH-UBND",
                    updated_at=AT,
                )
            )
    return codes


def _outcome(s: Seeded, verdict: Verdict | None) -> Outcome:
    if verdict is None:
        return Outcome.NOT_REGISTERED
    if s.after == "appraisal":
        return Outcome.NOT_RECOGNISED
    return Outcome.RECOGNISED if verdict.recognised else Outcome.NOT_RECOGNISED


async def _case(
    session: AsyncSession, unit_code: str, s: Seeded, verdict: Verdict | None, *, stage: str | None = None
) -> None:
    """The case of `s` with its council scores; `stage`: open there with no outcome, else as `s.after` says."""
    stage = stage or ("commendation" if s.after == "commendation" else "closed")
    decided = stage in ("closed", "commendation")
    row = case_row(
        unit_code,
        stage=stage,
        status="closed" if stage == "closed" else "open",
        outcome=_outcome(s, verdict).value if decided else None,
        locality_type=s.locality.value,
        verdict=verdict.model_dump(mode="json") if verdict else None,
        last_seq=0,
        opened_at=AT,
        updated_at=AT,
        closed_at=AT if stage == "closed" else None,
    )
    await session.execute(insert(CaseRow).values(**row))
    for criterion, points in (s.scores or {}).items():
        score = {"case_id": row["id"], "kind": "council", "criterion": criterion, "points": points}
        await session.execute(insert(CriterionScoreRow).values(**score))


async def row_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Rows of every table a what-if could be suspected of writing."""
    tables = (CaseRow, CriterionScoreRow, AuditEventRow, DirectoryEventRow, ProvinceTargetRow, RoundRow)
    async with sessions() as session:
        return {t.__tablename__: await session.scalar(select(func.count()).select_from(t)) or 0 for t in tables}


__all__ = [
    "AFTER_COUNCIL",
    "DRAFT",
    "GAINED",
    "LOST",
    "MAPPING",
    "ROUND_ID",
    "UNITS",
    "row_counts",
    "seed_closed_round",
]
