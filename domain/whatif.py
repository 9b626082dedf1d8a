"""Policy what-if: the recorded council scores of a closed round evaluated under a draft rule set.

- The draft and the criteria mapping, their files and how the mapping moves a unit's points: domain/whatif_files.py.
- The records are a round's decided cases (an outcome, the case open or closed). The official result is the case's
  outcome (recognised or not), as the round report counts it; the council's recorded verdict says why. The draft
  result is the draft's verdict (domain/verdict.evaluate) on the council scores, except for a unit the council passed
  and that was not recognised all the same (refused at appraisal or decision, withdrawn, no dossier): it was refused
  for reasons outside the criteria, stays not recognised under the draft and is no flip (`refused_after_council`).
  Shares count those results over the province's units (the round report's denominator).
- Threshold search, per province and locality type, holding the other types at the draft's thresholds: the HIGHEST
  threshold at which the province still reaches its target, i.e. how far that type's threshold must come down (or may
  go up). "The lowest threshold at which a province would reach its target" is read this way: every threshold below
  the one found reaches the target too, so the useful figure is the highest. `unreachable` when even 1 point does not
  reach it (units barred by a zero or a missing criterion, or refused after the council, never count); `no_target`
  when no target is in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from pydantic import Field

from domain.rulesets import RuleSet
from domain.shares import share
from domain.stages import LocalityType, Outcome
from domain.targets import Target
from domain.verdict import Reason, ReasonCode, Verdict, evaluate
from domain.whatif_files import Cap, Out, ResolvedMapping, draft_scores


# -- the evaluation --------------------------------------------------------------------------------------------------
class UnitRecord(Out):
    """A decided case's unit as the round recorded it: its outcome, its council scores (empty when it never reached
    the council) and the verdict recorded on them (None likewise)."""

    unit_code: str
    unit_name: str
    province_code: str
    locality_type: LocalityType
    outcome: Outcome
    scores: dict[int, int] = Field(default_factory=dict)
    verdict: Verdict | None = None


class Side(Out):
    """A verdict as the what-if shows it: recognised or not, its total against its threshold, its blocking reasons."""

    recognised: bool
    total: int
    threshold: int
    reasons: list[Reason]


def side_of(verdict: Verdict) -> Side:
    return Side(
        recognised=verdict.recognised,
        total=verdict.total,
        threshold=verdict.threshold,
        reasons=verdict.blocking_reasons,
    )


class Flip(StrEnum):
    GAINED = "gained"  # not recognised officially, recognised under the draft
    LOST = "lost"  # recognised officially, not under the draft


class UnitWhatIf(Out):
    """`official`, `draft`: the council's verdict and the draft's, the why (None: the case ended before the council
    scored it); `official_recognised`: the outcome; `draft_recognised`: the draft's verdict, unless the unit was
    refused after the council (`refused_after_council`: then not recognised under either, and no flip)."""

    unit_code: str
    unit_name: str
    province_code: str
    locality_type: LocalityType
    outcome: Outcome
    official: Side | None
    draft: Side | None
    official_recognised: bool
    draft_recognised: bool
    refused_after_council: bool
    caps: list[Cap]
    flip: Flip | None
    flipped: bool


class ProvinceScope(Out):
    """A province in scope: its units (the share's denominator, as the round report counts) and its target."""

    code: str
    name: str
    units: int = Field(ge=0)
    target: Target | None = None
    undecided: int = Field(default=0, ge=0)  # the round's cases there with no outcome yet: not counted


class Shares(Out):
    """Recognised shares under both rule sets; `code` None for the nation (no target)."""

    code: str | None
    name: str
    units: int
    assessed: int  # decided units with a council verdict
    undecided: int  # cases with no outcome yet, not counted
    refused_after_council: int
    official_recognised: int
    draft_recognised: int
    official_share: float | None
    draft_share: float | None
    target: Target | None
    official_meets: bool | None
    draft_meets: bool | None


class SearchStatus(StrEnum):
    FOUND = "found"
    UNREACHABLE = "unreachable"
    NO_TARGET = "no_target"


class ThresholdFinding(Out):
    province_code: str
    locality_type: LocalityType
    draft_threshold: int
    units_of_type: int
    status: SearchStatus
    threshold: int | None = None  # the highest threshold at which the province reaches its target
    lower_by: int | None = None  # draft threshold minus the one found (negative: it could go up)


class WhatIfResult(Out):
    official_rule_set: str
    draft_rule_set: str
    draft_title: str
    mapping: ResolvedMapping
    units: list[UnitWhatIf]
    provinces: list[Shares]
    national: Shares
    thresholds: list[ThresholdFinding]


def evaluate_unit(record: UnitRecord, draft: RuleSet, mapping: ResolvedMapping) -> UnitWhatIf:
    """One unit under the draft (domain/verdict.evaluate), beside its recorded verdict."""
    official = side_of(record.verdict) if record.verdict is not None else None
    drafted: Side | None = None
    caps: list[Cap] = []
    if record.verdict is not None:
        scores, caps = draft_scores(record.scores, mapping, draft)
        drafted = side_of(evaluate(draft, record.locality_type, scores))
    recognised = record.outcome is Outcome.RECOGNISED
    refused = official is not None and official.recognised and not recognised
    draft_recognised = drafted is not None and drafted.recognised and not refused
    flip = None
    if official is not None and recognised != draft_recognised:
        flip = Flip.GAINED if draft_recognised else Flip.LOST
    return UnitWhatIf(
        unit_code=record.unit_code,
        unit_name=record.unit_name,
        province_code=record.province_code,
        locality_type=record.locality_type,
        outcome=record.outcome,
        official=official,
        draft=drafted,
        official_recognised=recognised,
        draft_recognised=draft_recognised,
        refused_after_council=refused,
        caps=caps,
        flip=flip,
        flipped=flip is not None,
    )


def meets(recognised: int, units: int, target: Target | None) -> bool | None:
    """As the round report compares: recognised / units at or above the target's share."""
    return recognised / units >= target.share if target is not None and units else None


def shares_of(scope: ProvinceScope, rows: Sequence[UnitWhatIf], *, national: bool = False) -> Shares:
    """The shares of a province (or, `national`, of the nation: no code, no name, no target)."""
    official = sum(1 for u in rows if u.official_recognised)
    drafted = sum(1 for u in rows if u.draft_recognised)
    units, target = scope.units, None if national else scope.target
    return Shares(
        code=None if national else scope.code,
        name="" if national else scope.name,
        units=units,
        assessed=sum(1 for u in rows if u.official is not None),
        undecided=scope.undecided,
        refused_after_council=sum(1 for u in rows if u.refused_after_council),
        official_recognised=official,
        draft_recognised=drafted,
        official_share=share(official, units, places=4),
        draft_share=share(drafted, units, places=4),
        target=target,
        official_meets=meets(official, units, target),
        draft_meets=meets(drafted, units, target),
    )


def needed(units: int, target: Target) -> int:
    """The fewest units recognised for the province to reach its target (as `meets` compares)."""
    return next(k for k in range(units + 1) if k / units >= target.share)


def _held_back_only_by_threshold(side: Side) -> bool:
    return all(r.code is ReasonCode.BELOW_THRESHOLD for r in side.reasons)


def search_threshold(
    province: ProvinceScope, rows: Sequence[UnitWhatIf], draft: RuleSet, locality_type: LocalityType
) -> ThresholdFinding:
    """The highest threshold of `locality_type` (the other types at the draft's) at which the province reaches its
    target; the draft's maximum total when the province reaches it whatever that type's threshold."""
    of_type = [u for u in rows if u.locality_type == locality_type]
    found = ThresholdFinding(
        province_code=province.code,
        locality_type=locality_type,
        draft_threshold=draft.threshold(locality_type),
        units_of_type=len(of_type),
        status=SearchStatus.NO_TARGET,
    )
    if province.target is None:
        return found
    fixed = sum(1 for u in rows if u.locality_type != locality_type and u.draft_recognised)
    totals = sorted(
        (
            u.draft.total
            for u in of_type
            if u.draft is not None and not u.refused_after_council and _held_back_only_by_threshold(u.draft)
        ),
        reverse=True,
    )
    short = needed(province.units, province.target) - fixed if province.units else len(totals) + 1
    if short <= 0:
        threshold = draft.max_total
    elif short > len(totals) or totals[short - 1] < 1:
        return found.model_copy(update={"status": SearchStatus.UNREACHABLE})
    else:
        threshold = min(totals[short - 1], draft.max_total)
    lower_by = found.draft_threshold - threshold
    return found.model_copy(update={"status": SearchStatus.FOUND, "threshold": threshold, "lower_by": lower_by})


def what_if(
    official: RuleSet,
    draft: RuleSet,
    mapping: ResolvedMapping,
    records: Iterable[UnitRecord],
    provinces: Sequence[ProvinceScope],
) -> WhatIfResult:
    """Every unit under the draft, the shares of each province and of the nation under both, and the threshold
    search per province and locality type."""
    units = [evaluate_unit(r, draft, mapping) for r in sorted(records, key=lambda r: (r.province_code, r.unit_code))]
    by_province = {p.code: [u for u in units if u.province_code == p.code] for p in provinces}
    nation = ProvinceScope(
        code="", name="", units=sum(p.units for p in provinces), undecided=sum(p.undecided for p in provinces)
    )
    return WhatIfResult(
        official_rule_set=official.id,
        draft_rule_set=draft.id,
        draft_title=draft.title_vi,
        mapping=mapping,
        units=units,
        provinces=[shares_of(p, by_province[p.code]) for p in provinces],
        national=shares_of(nation, units, national=True),
        thresholds=[search_threshold(p, by_province[p.code], draft, kind) for p in provinces for kind in LocalityType],
    )
