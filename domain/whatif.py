"""Policy what-if: the recorded council scores of a closed round evaluated under a draft rule set.

- A draft is a rule file in the schema of domain/rules/*.yaml (domain/rulesets.py RuleSet) marked `draft: true`;
  `load_rule_set`, the only way a case or a round gets a rule set, refuses such a file, and the loaders here refuse a
  file that is not so marked. A draft is read, never pinned to anything.
- A criteria mapping (YAML: `criteria: {official number: draft number | dropped}`) says where each official
  criterion's points go. Several official criteria may merge into one draft criterion: their points add up, capped at
  the draft criterion's maximum (the cap is reported). An official criterion neither mapped nor dropped is reported as
  unmapped and its points count nowhere (never guessed). Without a mapping the numbering must fit (the same numbers in
  both), and each criterion maps to its own number.
- Each unit's verdict under the draft comes from domain/verdict.evaluate; the official verdict is the one recorded.
  Shares count verdicts over the province's units (the round report's denominator).
- Threshold search, per province and locality type, holding the other types at the draft's thresholds: the HIGHEST
  threshold at which the province still reaches its target, i.e. how far that type's threshold must come down (or may
  go up). "The lowest threshold at which a province would reach its target" is read this way: every threshold below
  the one found reaches the target too, so the useful figure is the highest. `unreachable` when even 1 point does not
  reach it (units barred by a zero or a missing criterion never count); `no_target` when no target is in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.datafiles import Frozen, parse_yaml_model, read_data_file
from domain.errors import DataFileError, DomainError, RuleSetFileError
from domain.rulesets import RuleSet
from domain.stages import LocalityType
from domain.targets import Target
from domain.verdict import Reason, ReasonCode, Verdict, evaluate

DROPPED = "dropped"


class DraftFileError(RuleSetFileError):
    code = "draft_rule_set_invalid"


class MappingFileError(DataFileError):
    code = "criteria_mapping_invalid"


class MappingCriterionError(DomainError, ValueError):
    """A mapping naming a criterion the official rule set (as a key) or the draft (as a value) lacks."""

    code = "mapping_unknown_criterion"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = problems
        self.field = problems[0][0]


class MappingNeededError(DomainError, ValueError):
    """No mapping was given and the draft's numbering does not fit the official one."""

    code = "mapping_needed"

    def __init__(self, official_only: list[int], draft_only: list[int]) -> None:
        ours, theirs = ", ".join(map(str, official_only)) or "none", ", ".join(map(str, draft_only)) or "none"
        super().__init__(
            f"the draft's numbering does not fit: a criteria mapping is needed (official criteria with no draft "
            f"criterion of that number: {ours}; draft criteria with no official one: {theirs})"
        )
        self.official_only = official_only
        self.draft_only = draft_only


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- the files -------------------------------------------------------------------------------------------------------
def _checked_draft(rule_set: RuleSet, name: Path | str) -> RuleSet:
    if not rule_set.draft:
        raise DraftFileError(name, "draft", "not marked `draft: true`: a what-if reads only a draft rule set")
    return rule_set


def parse_draft(text: str, name: Path | str) -> RuleSet:
    """A draft rule set from its YAML text (`name`: the file it came from); DraftFileError names field and reason."""
    return _checked_draft(parse_yaml_model(text, name, RuleSet, DraftFileError), name)


def load_draft(path: Path | str) -> RuleSet:
    return parse_draft(read_data_file(Path(path), DraftFileError), path)


class CriteriaMapping(Frozen):
    """For each official criterion number: the draft criterion its points go to, or `dropped`."""

    criteria: dict[int, int | Literal["dropped"]] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)


def parse_mapping(text: str, name: Path | str) -> CriteriaMapping:
    return parse_yaml_model(text, name, CriteriaMapping, MappingFileError)


def load_mapping(path: Path | str) -> CriteriaMapping:
    return parse_mapping(read_data_file(Path(path), MappingFileError), path)


# -- the mapping -----------------------------------------------------------------------------------------------------
class CriterionRef(_Out):
    number: int
    name_vi: str
    name_en: str


class ResolvedMapping(_Out):
    identity: bool
    targets: dict[int, int]  # official criterion -> draft criterion
    dropped: list[CriterionRef]
    unmapped: list[CriterionRef]  # official criteria neither mapped nor dropped: their points count nowhere
    unscored: list[CriterionRef]  # draft criteria no official criterion maps to: no unit has a score for them


def _refs(rule_set: RuleSet, numbers: Iterable[int]) -> list[CriterionRef]:
    found = [rule_set.criterion(n) for n in sorted(numbers)]
    return [CriterionRef(number=c.number, name_vi=c.name_vi, name_en=c.name_en) for c in found]


def resolve_mapping(official: RuleSet, draft: RuleSet, mapping: CriteriaMapping | None) -> ResolvedMapping:
    """The mapping checked against both rule sets, or the identity when none is given and the numbering fits."""
    ours, theirs = set(official.criterion_numbers), set(draft.criterion_numbers)
    if mapping is None:
        if ours != theirs:
            raise MappingNeededError(sorted(ours - theirs), sorted(theirs - ours))
        targets = {n: n for n in sorted(ours)}
        return ResolvedMapping(identity=True, targets=targets, dropped=[], unmapped=[], unscored=[])
    problems: list[tuple[str, str]] = []
    for key, value in sorted(mapping.criteria.items()):
        if key not in ours:
            problems.append((f"criteria.{key}", _absent("criterion", key, official)))
        if value != DROPPED and value not in theirs:
            problems.append((f"criteria.{key}", _absent("draft criterion", value, draft)))
    if problems:
        raise MappingCriterionError(problems)
    targets = {k: v for k, v in sorted(mapping.criteria.items()) if isinstance(v, int)}
    dropped = [k for k, v in mapping.criteria.items() if v == DROPPED]
    return ResolvedMapping(
        identity=False,
        targets=targets,
        dropped=_refs(official, dropped),
        unmapped=_refs(official, ours - set(mapping.criteria)),
        unscored=_refs(draft, theirs - set(targets.values())),
    )


def _absent(what: str, number: int | str, rule_set: RuleSet) -> str:
    return f"{what} {number} is not a criterion of {rule_set.id} (criteria 1..{len(rule_set.criteria)})"


class Cap(_Out):
    """Points that merged into one draft criterion above its maximum, and were cut to it."""

    criterion: int
    official_criteria: list[int]
    points: int
    maximum: int


def draft_scores(
    scores: Mapping[int, int], mapping: ResolvedMapping, draft: RuleSet
) -> tuple[dict[int, int], list[Cap]]:
    """A unit's official scores as the draft's: moved along the mapping, merged criteria added up and capped."""
    merged: dict[int, int] = {}
    sources: dict[int, list[int]] = {}
    for number, points in sorted(scores.items()):
        target = mapping.targets.get(number)
        if target is not None:
            merged[target] = merged.get(target, 0) + points
            sources.setdefault(target, []).append(number)
    caps = []
    for target, points in sorted(merged.items()):
        maximum = draft.criterion(target).max_points
        if points > maximum:
            caps.append(Cap(criterion=target, official_criteria=sources[target], points=points, maximum=maximum))
            merged[target] = maximum
    return merged, caps


# -- the evaluation --------------------------------------------------------------------------------------------------
class UnitRecord(_Out):
    """A closed case's unit as the round recorded it: its council scores (empty when it never reached the council)
    and the verdict recorded on them (None likewise)."""

    unit_code: str
    unit_name: str
    province_code: str
    locality_type: LocalityType
    scores: dict[int, int] = Field(default_factory=dict)
    verdict: Verdict | None = None


class Side(_Out):
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


class UnitWhatIf(_Out):
    unit_code: str
    unit_name: str
    province_code: str
    locality_type: LocalityType
    official: Side | None  # None: the case closed before the council scored it
    draft: Side | None
    caps: list[Cap]
    flip: Flip | None
    flipped: bool


class ProvinceScope(_Out):
    """A province in scope: its units (the share's denominator, as the round report counts) and its target."""

    code: str
    name: str
    units: int = Field(ge=0)
    target: Target | None = None


class Shares(_Out):
    """Recognised shares under both rule sets; `code` None for the nation (no target)."""

    code: str | None
    name: str
    units: int
    assessed: int  # units whose closed case has a council verdict
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


class ThresholdFinding(_Out):
    province_code: str
    locality_type: LocalityType
    draft_threshold: int
    units_of_type: int
    status: SearchStatus
    threshold: int | None = None  # the highest threshold at which the province reaches its target
    lower_by: int | None = None  # draft threshold minus the one found (negative: it could go up)


class WhatIfResult(_Out):
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
    flip = None
    if official is not None and drafted is not None and official.recognised != drafted.recognised:
        flip = Flip.GAINED if drafted.recognised else Flip.LOST
    return UnitWhatIf(
        unit_code=record.unit_code,
        unit_name=record.unit_name,
        province_code=record.province_code,
        locality_type=record.locality_type,
        official=official,
        draft=drafted,
        caps=caps,
        flip=flip,
        flipped=flip is not None,
    )


def share(recognised: int, units: int) -> float | None:
    return round(recognised / units, 4) if units else None


def meets(recognised: int, units: int, target: Target | None) -> bool | None:
    """As the round report compares: recognised / units at or above the target's share."""
    return recognised / units >= target.share if target is not None and units else None


def shares_of(code: str | None, name: str, units: int, rows: Sequence[UnitWhatIf], target: Target | None) -> Shares:
    official = sum(1 for u in rows if u.official is not None and u.official.recognised)
    drafted = sum(1 for u in rows if u.draft is not None and u.draft.recognised)
    return Shares(
        code=code,
        name=name,
        units=units,
        assessed=sum(1 for u in rows if u.official is not None),
        official_recognised=official,
        draft_recognised=drafted,
        official_share=share(official, units),
        draft_share=share(drafted, units),
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
    fixed = sum(1 for u in rows if u.locality_type != locality_type and u.draft is not None and u.draft.recognised)
    totals = sorted(
        (u.draft.total for u in of_type if u.draft is not None and _held_back_only_by_threshold(u.draft)), reverse=True
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
    return WhatIfResult(
        official_rule_set=official.id,
        draft_rule_set=draft.id,
        draft_title=draft.title_vi,
        mapping=mapping,
        units=units,
        provinces=[shares_of(p.code, p.name, p.units, by_province[p.code], p.target) for p in provinces],
        national=shares_of(None, "", sum(p.units for p in provinces), units, None),
        thresholds=[search_threshold(p, by_province[p.code], draft, kind) for p in provinces for kind in LocalityType],
    )
