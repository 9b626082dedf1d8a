"""Targets: the share of a province's commune-level units to be recognised, per plan period (years inclusive), with
the plan that set it ("KH 226/KH-UBND"). The round report compares the share recognised with the target in force for
the province and the round's year; a year no plan covers has no target (the report says so, it does not invent one).

Shares are fractions (0 < share ≤ 1) everywhere in data and code; people read them as percentages. Pure: the seeds'
examples are read from domain/data/targets.yaml, the administrators' own come from the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from domain.datafiles import Frozen, field_problem, load_yaml_model
from domain.errors import TargetsFileError

TARGETS_FILE = Path(__file__).parent / "data" / "targets.yaml"
FIRST_YEAR, LAST_YEAR = 2010, 2100  # the standard exists since QĐ 37/2010; no plan reaches past 2100


class Target(Frozen):
    province_code: str = Field(pattern=r"^\d{2}$")
    first_year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    last_year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    share: float = Field(description="fraction of the province's units to recognise: over 0, at most 1")
    plan: str = Field(min_length=1, max_length=300, description="the plan that set it, e.g. KH 226/KH-UBND")
    source: str | None = Field(default=None, max_length=1000)

    @field_validator("share")
    @classmethod
    def _a_share(cls, share: float) -> float:
        if not 0 < share <= 1:
            raise ValueError(f"a share is over 0 and at most 1 (100 %), not {share}")
        return share

    @model_validator(mode="after")
    def _years_in_order(self) -> Self:
        if self.last_year < self.first_year:
            raise field_problem("last_year", f"{self.last_year} is before the first year {self.first_year}")
        return self

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


class TargetsFile(Frozen):
    version: int = Field(ge=1, le=1)
    targets: list[Target]

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        for i, a in enumerate(self.targets):
            for b in self.targets[:i]:
                if a.province_code == b.province_code and overlap(a, b):
                    raise field_problem(f"targets[{i}]", f"overlaps {b.first_year}–{b.last_year} of the same province")
        return self


def overlap(a: Target, b: Target) -> bool:
    return a.first_year <= b.last_year and b.first_year <= a.last_year


def target_for(targets: Iterable[Target], province_code: str, year: int) -> Target | None:
    """The target in force for the province in `year`, or None when no plan covers it."""
    return next((t for t in targets if t.province_code == province_code and t.covers(year)), None)


def load_targets(path: Path | str = TARGETS_FILE) -> TargetsFile:
    return load_yaml_model(Path(path), TargetsFile, TargetsFileError)


@cache
def seed_targets() -> tuple[Target, ...]:
    """The examples the sources give (domain/data/targets.yaml)."""
    return tuple(load_targets().targets)
