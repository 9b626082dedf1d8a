"""Why units of a round were not recognised, counted from the council's verdicts: units with a zero per criterion
(QĐ 06 bars recognition on a zero in some criteria — An Giang names criteria 03 and 05 as the hardest, Gia Lai saw
110 of 115 failures on a zero in 3 or 5), units below their threshold with the points they missed by, and the
assessed and recognised per locality type. Pure: the verdicts come in as the read model keeps them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict


class Assessed(BaseModel):
    """A unit of the round whose council approved scores: its verdict as recorded."""

    model_config = ConfigDict(frozen=True)

    unit_code: str
    locality_type: str
    verdict: Mapping[str, Any]


class BelowThreshold(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_code: str
    total: int
    threshold: int
    margin: int  # points missing to reach the threshold


class LocalityCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    locality_type: str
    assessed: int
    recognised: int


class Failures(BaseModel):
    model_config = ConfigDict(frozen=True)

    zero_by_criterion: dict[int, int]  # criterion → units with 0 points in it (a blocking zero), by number
    below_threshold: list[BelowThreshold]  # by margin, largest first
    by_locality: list[LocalityCount]


def zero_criteria(verdict: Mapping[str, Any]) -> list[int]:
    """The criteria a verdict scored 0 where that bars recognition, in the verdict's order."""
    reasons = verdict.get("reasons") or []
    return [int(r["criterion"]) for r in reasons if r.get("code") == "zero_criterion" and r.get("criterion")]


def failures_of(assessed: Iterable[Assessed]) -> Failures:
    zeros: Counter[int] = Counter()
    below: list[BelowThreshold] = []
    localities: dict[str, list[int]] = {}
    for unit in assessed:
        verdict = unit.verdict
        zeros.update(zero_criteria(verdict))
        total, threshold = verdict.get("total"), verdict.get("threshold")
        if isinstance(total, int) and isinstance(threshold, int) and total < threshold:
            below.append(
                BelowThreshold(unit_code=unit.unit_code, total=total, threshold=threshold, margin=threshold - total)
            )
        counts = localities.setdefault(unit.locality_type, [0, 0])
        counts[0] += 1
        counts[1] += bool(verdict.get("recognised"))
    return Failures(
        zero_by_criterion=dict(sorted(zeros.items())),
        below_threshold=sorted(below, key=lambda b: (-b.margin, b.unit_code)),
        by_locality=[
            LocalityCount(locality_type=k, assessed=a, recognised=r) for k, (a, r) in sorted(localities.items())
        ],
    )
