"""Assessment rounds (kỳ đánh giá): "<rule set id>:<assessment year>", e.g. "qd06-2019:2024".

A round is valid when its year is an assessment year of the rule set's rhythm and its assessment window opens while
the rule set is in force. Both QĐ 34/2014 and QĐ 06/QĐ-TTg were in force in November 2019, so both
"qd34-2014:2019" and "qd06-2019:2019" parse; the *canonical* round of an assessment window is the one of the rule
set in force when the window opens (the newer one where two overlap, see `rule_set_in_force`). The national
timeline of canonical rounds runs qd37-2010:2010..2013, qd34-2014:2014..2018, qd06-2019:2019, 2022, 2024, 2027, ...
and is what `previous_round` walks, so rounds of different rule sets chain in date order.

A round opens as live cases only while it lies ahead (`check_opening`): its rule set is the one in force today and it
is the current assessment (the first whose assessment has not ended) or one of the next `ahead` ones. Rounds already
assessed, and rounds of a repealed rule set, are history: they come in through an import, not as live cases.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.errors import NoRuleSetInForceError, RoundError, UnknownRuleSetError
from domain.rulesets import RuleSet, all_rule_sets, load_rule_set, rule_set_in_force

_LOOKBACK_YEARS = 6  # longer than any gap between two assessments of the shipped rhythms
_YEAR = re.compile(r"[0-9]{4}")  # ASCII digits only: "٢٠٢٧" is not a year of a round id


class Round(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    rule_set_id: str
    year: int
    period_start: date
    period_end: date
    assessment_start: date
    assessment_end: date
    sequence: int  # 0 for the rule set's first round; consecutive rounds of one rule set differ by 1

    def __str__(self) -> str:
        return self.id


def round_id(rule_set_id: str, year: int) -> str:
    return f"{rule_set_id}:{year}"


def _invalid_reason(rule_set: RuleSet, year: int) -> str | None:
    rhythm, in_force = rule_set.rhythm, rule_set.in_force
    if not rhythm.is_assessment_year(year):
        return f"{year} is not an assessment year of {rule_set.id} ({rhythm.describe()})"
    opens = rhythm.assessment_window(year)[0]
    if not in_force.covers(opens):
        until = in_force.until.isoformat() if in_force.until else "open-ended"
        return (
            f"its assessment opens on {opens.isoformat()}, outside the time {rule_set.id} is in force "
            f"({in_force.from_.isoformat()} to {until})"
        )
    return None


def _first_year(rule_set: RuleSet) -> int:
    year = rule_set.in_force.from_.year
    while _invalid_reason(rule_set, year) is not None:
        year += 1
    return year


def _build(rule_set: RuleSet, year: int) -> Round:
    rhythm = rule_set.rhythm
    period_start, period_end = rhythm.period(year)
    assessment_start, assessment_end = rhythm.assessment_window(year)
    return Round(
        id=round_id(rule_set.id, year),
        rule_set_id=rule_set.id,
        year=year,
        period_start=period_start,
        period_end=period_end,
        assessment_start=assessment_start,
        assessment_end=assessment_end,
        sequence=rhythm.ordinal(year) - rhythm.ordinal(_first_year(rule_set)),
    )


def parse_round(round_id: str) -> Round:
    """The round with this id; RoundError says why an id is not a round (form, rule set, year)."""
    rule_set_id, sep, year_text = round_id.partition(":")
    if not sep or not _YEAR.fullmatch(year_text):
        raise RoundError(round_id, "expected '<rule set id>:<year>', e.g. 'qd06-2019:2024'")
    try:
        rule_set = load_rule_set(rule_set_id)
    except UnknownRuleSetError as exc:
        raise RoundError(round_id, str(exc)) from None
    reason = _invalid_reason(rule_set, int(year_text))
    if reason is not None:
        raise RoundError(round_id, reason)
    return _build(rule_set, int(year_text))


def rounds_of(rule_set_id: str, from_year: int, to_year: int) -> list[Round]:
    """The valid rounds of a rule set assessed from `from_year` to `to_year` inclusive, in order."""
    rule_set = load_rule_set(rule_set_id)
    return [
        _build(rule_set, y)
        for y in rule_set.rhythm.assessment_years(from_year, to_year)
        if _invalid_reason(rule_set, y) is None
    ]


def is_canonical(round_: Round) -> bool:
    """True when the round's rule set is the one in force as its assessment opens."""
    return rule_set_in_force(round_.assessment_start).id == round_.rule_set_id


def canonical_rounds(from_year: int, to_year: int) -> list[Round]:
    """The national timeline: one round per assessment window, of the rule set in force when it opens."""
    rounds = [r for rs in all_rule_sets() for r in rounds_of(rs.id, from_year, to_year) if is_canonical(r)]
    return sorted(rounds, key=lambda r: r.assessment_start)


def previous_round(round_: Round) -> Round | None:
    """The canonical round assessed last before this one, whatever its rule set; None before the first."""
    earlier = [
        r
        for r in canonical_rounds(round_.year - _LOOKBACK_YEARS, round_.year)
        if r.assessment_start < round_.assessment_start
    ]
    return earlier[-1] if earlier else None


def round_assessed_on(on: date) -> Round | None:
    """The canonical round whose assessment window contains `on`, if any."""
    for r in canonical_rounds(on.year, on.year):
        if r.assessment_start <= on <= r.assessment_end:
            return r
    return None


def round_starting_on(on: date) -> Round | None:
    """The canonical round whose period starts on `on` (the day after the previous period ended), if any: the
    round the Schedule opens that day, so that units register to strive at the start of the period."""
    for r in canonical_rounds(on.year, on.year + _LOOKBACK_YEARS):
        if r.period_start == on:
            return r
    return None


def round_open_on(on: date) -> Round | None:
    """The round units work towards on `on`: the canonical round whose period contains the day, preferring the
    rule set in force on that day (so on 1 Jun 2018 it is qd34-2014:2018, not qd06-2019:2019, whose period
    also contains the day but whose rule set did not yet exist); None before the first period."""
    candidates = [
        r for r in canonical_rounds(on.year, on.year + _LOOKBACK_YEARS) if r.period_start <= on <= r.period_end
    ]
    if not candidates:
        return None
    try:
        current = rule_set_in_force(on).id
    except LookupError:
        current = None
    return min(candidates, key=lambda r: (r.rule_set_id != current, r.assessment_start))


def live_rounds(today: date, *, ahead: int = 1) -> list[Round]:
    """The rounds that may open as live cases on `today`: of the rule set in force today, the current assessment
    (the first whose assessment has not ended) and the `ahead` after it; none before the first rule set."""
    if ahead < 0:
        raise ValueError(f"ahead must be 0 or more, got {ahead}")
    try:
        rule_set = rule_set_in_force(today)
    except NoRuleSetInForceError:
        return []
    upcoming = rounds_of(rule_set.id, today.year, today.year + _LOOKBACK_YEARS * (ahead + 1))
    return [r for r in upcoming if r.assessment_end >= today][: ahead + 1]


def check_opening(round_: Round, today: date, *, ahead: int = 1) -> None:
    """Refuse (RoundError) a round that may not open as live cases on `today` (see `live_rounds`), saying why."""
    live = live_rounds(today, ahead=ahead)
    if any(r.id == round_.id for r in live):
        return
    names = ", ".join(r.id for r in live) or "none"
    rule_set = load_rule_set(round_.rule_set_id)
    until = rule_set.in_force.until
    if until is not None and until < today:
        reason = f"{rule_set.id} is no longer in force (it was until {until.isoformat()})"
    elif all(r.rule_set_id != round_.rule_set_id for r in live):
        reason = f"{rule_set.id} is not the rule set in force on {today.isoformat()}"
    elif round_.assessment_end < today:
        reason = f"its assessment ended on {round_.assessment_end.isoformat()}"
    else:
        reason = f"it is assessed in {round_.year}, after the current assessment and the next {ahead}"
    raise RoundError(round_.id, f"{reason}; rounds that open now: {names} (past rounds are not opened as live cases)")
