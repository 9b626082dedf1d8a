"""Where the time of a round goes, for those who oversee it (services/access.py):

- admins and auditors of a province read its figures and its slowest units (without a province: every province
  they oversee);
- the ministry reads the figures of every province (the national view, or one province's), as it reads the national
  totals of the round reports; it sees no unit: the slowest units are listed only from the provinces the reader
  oversees (`units_listed` false otherwise), since the ministry reads no case; and a group with cases from a
  province it does not oversee is withheld below 3 cases (domain/stage_times.py `withheld`: its number of cases,
  every figure None, `suppressed`), since one or two cases are one unit's timing;
- anyone else is refused (403), as for the board and the round's progress.

Bad input is refused before anything is read, naming its field: a locality type that is none of the three (422
`locality_type`), a province code that names no province (422 `province`); a round never opened is 404.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.stage_times import CaseStays, GroupFigures, StageTimes, slowest_units, stage_times, withheld
from domain.stages import LocalityType
from services.access import Principal, overseen_provinces, require_oversight
from services.errors import Refusal
from services.fields import PROVINCE_PATTERN
from services.officials.queries import unit_names
from services.rounds.queries import province_exists, round_row
from services.stage_times import queries
from services.stage_times.schemas import SlowUnitOut, StageTimesOut

TOP_DEFAULT = 10
TOP_MAX = 100


def parse_locality(value: str | None) -> LocalityType | None:
    """The locality type a filter names (None: all); Refusal 422 naming `locality_type` otherwise."""
    if value is None or value == "":
        return None
    try:
        return LocalityType(value)
    except ValueError:
        known = ", ".join(t.value for t in LocalityType)
        raise Refusal(
            422, "invalid_request", f"locality_type: {value!r} is not one of {known}", field="locality_type"
        ) from None


def check_top(top: int) -> None:
    if not 0 <= top <= TOP_MAX:
        raise Refusal(422, "invalid_request", f"top: {top} is not between 0 and {TOP_MAX}", field="top")


async def _check_province(session: AsyncSession, province: str | None) -> None:
    if province is None:
        return
    if not re.fullmatch(PROVINCE_PATTERN, province) or not await province_exists(session, province):
        raise Refusal(422, "invalid_request", f"province: no province has the code {province!r}", field="province")


def readable_scope(p: Principal, province: str | None) -> tuple[set[str] | None, set[str]]:
    """(the provinces whose figures `p` reads, None: every province; the provinces whose units `p` may see listed),
    for one province or for all; Refusal 403 when `p` may read none of them (module docstring)."""
    overseen = overseen_provinces(p)
    if province is not None:
        if province in overseen:
            return {province}, {province}
        if p.ministry:
            return {province}, set()
        require_oversight(p, province)  # refuses
    if p.ministry:
        return None, overseen
    return require_oversight(p), overseen


def shown(
    computed: StageTimes, cases: list[CaseStays], listed: set[str]
) -> tuple[GroupFigures, tuple[GroupFigures, ...], tuple[GroupFigures, ...]]:
    """(overall, by province, by locality type) as a reader who sees the units of `listed` only reads them: a group
    holding a case of another province withheld when small (module docstring); the others as they are."""
    outside = [c for c in cases if c.province_code not in listed]
    if not outside:
        return computed.overall, computed.by_province, computed.by_locality
    localities = {c.locality_type.value for c in outside}
    return (
        withheld(computed.overall),
        tuple(g if g.key in listed else withheld(g) for g in computed.by_province),
        tuple(withheld(g) if g.key in localities else g for g in computed.by_locality),
    )


async def figures(
    session: AsyncSession,
    principal: Principal,
    round_id: str,
    *,
    province: str | None = None,
    locality_type: str | None = None,
    top: int = TOP_DEFAULT,
    now: datetime,
) -> StageTimesOut:
    """The round's stage times in what `principal` may read, filtered by province and locality type."""
    locality = parse_locality(locality_type)
    check_top(top)
    await _check_province(session, province)
    provinces, listed = readable_scope(principal, province)
    if await round_row(session, round_id) is None:
        raise Refusal(404, "round_not_found", f"no round {round_id} has been opened", round_id=round_id)
    cases = await queries.case_stays(session, round_id, provinces=provinces, locality_type=locality)
    computed = stage_times(cases)
    slow = slowest_units([c for c in cases if c.province_code in listed], top)
    names = await unit_names(session, {s.unit_code for s in slow})
    overall, by_province, by_locality = shown(computed, cases, listed)
    return StageTimesOut(
        round_id=round_id,
        province=province,
        locality_type=locality,
        generated_at=now,
        overall=overall,
        by_province=by_province,
        by_locality=by_locality,
        slowest=tuple(SlowUnitOut(**s.model_dump(), unit_name=names.get(s.unit_code, s.unit_code)) for s in slow),
        units_listed=bool(listed),
    )
