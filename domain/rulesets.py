"""Legal rule sets, one per legal basis, held as YAML data under domain/rules/ and validated on load.

A rule set gives the criteria (number, names, maximum points, scoring bands where known), the threshold of each
locality type, the recognition conditions, the assessment rhythm and the dates it is in force. Every number in the
file carries its source or is marked as an assumed default with a note.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from domain.datafiles import Basis, Frozen, field_problem, load_yaml_model
from domain.errors import NoRuleSetInForceError, RuleSetFileError, UnknownCriterionError, UnknownRuleSetError
from domain.rhythm import Rhythm
from domain.stages import LocalityType

RULES_DIR = Path(__file__).parent / "rules"


class RuleSetId(StrEnum):
    QD37_2010 = "qd37-2010"  # Quyết định 37/2010/QĐ-TTg
    QD34_2014 = "qd34-2014"  # Quyết định 34/2014/QĐ-TTg
    QD06_2019 = "qd06-2019"  # Quyết định 06/QĐ-TTg (2019)


LOCALITY_LABELS: dict[LocalityType, tuple[str, str]] = {
    LocalityType.CENTRAL_CITY_WARD: ("phường thuộc thành phố trực thuộc trung ương", "ward of a centrally-run city"),
    LocalityType.MOUNTAIN_ISLAND_DISADVANTAGED: (
        "xã, thị trấn miền núi, hải đảo hoặc xã đặc biệt khó khăn",
        "mountain or island commune or town, or extremely disadvantaged commune",
    ),
    LocalityType.OTHER: ("xã, phường, thị trấn khác", "other commune, ward or town"),
}


class ScoringBand(Basis):
    """Points a criterion gives when a condition is met (bands of one criterion add up to at most its maximum)."""

    points: int = Field(gt=0)
    condition_vi: str = Field(min_length=1)
    condition_en: str = Field(min_length=1)


class Criterion(Basis):
    """A criterion (tiêu chí) or indicator (chỉ tiêu); the basis fields speak for `max_points`."""

    number: int = Field(ge=1)
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    max_points: int = Field(gt=0)
    bands: list[ScoringBand] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bands_fit(self) -> Self:
        banded = sum(b.points for b in self.bands)
        if banded > self.max_points:
            raise field_problem("bands", f"bands add up to {banded}, more than max_points {self.max_points}")
        return self


class Threshold(Basis):
    points: int = Field(gt=0)


class InForce(Basis):
    from_: date = Field(alias="from")
    until: date | None = Field(default=None, description="last day in force; null while in force")

    def covers(self, on: date) -> bool:
        return self.from_ <= on and (self.until is None or on <= self.until)


class Conditions(Basis):
    """What recognition requires besides the total reaching the threshold of the unit's locality type."""

    all_criteria_scored: bool
    no_criterion_zero: bool


class RuleSet(Frozen):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str = Field(min_length=1)
    title_vi: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    in_force: InForce
    max_total: int = Field(gt=0)
    max_total_basis: Basis
    thresholds: dict[LocalityType, Threshold]
    conditions: Conditions
    rhythm: Rhythm
    criteria: list[Criterion] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list, description="what the file assumes beyond its numbers")
    draft: bool = Field(
        default=False, description="a draft under discussion: read only by the what-if (domain/whatif.py), never a case"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        numbers = [c.number for c in self.criteria]
        if numbers != list(range(1, len(numbers) + 1)):
            raise field_problem("criteria", f"criteria must be numbered 1..{len(numbers)} in order, got {numbers}")
        total = sum(c.max_points for c in self.criteria)
        if total != self.max_total:
            raise field_problem("max_total", f"criteria maxima add up to {total}, not max_total {self.max_total}")
        for locality_type in LocalityType:
            if locality_type not in self.thresholds:
                raise field_problem(f"thresholds.{locality_type}", "missing threshold for this locality type")
            if self.thresholds[locality_type].points > self.max_total:
                raise field_problem(f"thresholds.{locality_type}", f"above max_total {self.max_total}")
        if self.in_force.until is not None and self.in_force.until < self.in_force.from_:
            raise field_problem("in_force.until", "ends before it starts")
        return self

    def threshold(self, locality_type: LocalityType) -> int:
        return self.thresholds[LocalityType(locality_type)].points

    def criterion(self, number: int) -> Criterion:
        if 1 <= number <= len(self.criteria):
            return self.criteria[number - 1]
        raise UnknownCriterionError(self.id, number)

    @property
    def criterion_numbers(self) -> list[int]:
        return [c.number for c in self.criteria]


def load_rule_set_file(path: Path | str) -> RuleSet:
    """Load and validate one rule file; any problem raises RuleSetFileError naming the file, field and reason."""
    return load_yaml_model(Path(path), RuleSet, RuleSetFileError)


@cache
def load_rule_set(rule_set_id: str) -> RuleSet:
    """The shipped rule set with this id (cached); an unknown id raises UnknownRuleSetError. The only way a case or a
    round gets its rule set: a file marked `draft: true` is refused (RuleSetFileError naming `draft`)."""
    try:
        known = RuleSetId(rule_set_id)
    except ValueError:
        raise UnknownRuleSetError(rule_set_id, [r.value for r in RuleSetId]) from None
    path = RULES_DIR / f"{known.value}.yaml"
    rule_set = load_rule_set_file(path)
    if rule_set.id != known.value:
        raise RuleSetFileError(path, "id", f"file declares {rule_set.id!r}, expected {known.value!r}")
    if rule_set.draft:
        raise RuleSetFileError(path, "draft", "a rule set marked `draft: true` never decides a case or a round")
    return rule_set


def all_rule_sets() -> list[RuleSet]:
    """Every shipped rule set, oldest first."""
    return sorted((load_rule_set(r.value) for r in RuleSetId), key=lambda r: r.in_force.from_)


def rule_set_in_force(on: date) -> RuleSet:
    """The rule set in force on a day. Where two overlap (QĐ 06/QĐ-TTg took effect on signing, 3 Jan 2019, while
    QĐ 34/2014 was repealed only from 3 Jan 2020) the newer one applies. QĐ 06/QĐ-TTg has no known replacement,
    so it stays in force for every later day."""
    in_force = [r for r in all_rule_sets() if r.in_force.covers(on)]
    if not in_force:
        raise NoRuleSetInForceError(f"no rule set is in force on {on.isoformat()}")
    return max(in_force, key=lambda r: r.in_force.from_)
