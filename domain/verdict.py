"""The recognition verdict: from a unit's locality type and its criterion scores, recognised or not, with every reason.

Reason codes (stable, shown to officials and kept in the audit journal):
- `missing_criterion`  a criterion has no score while the rule set requires all to be scored (one per criterion)
- `zero_criterion`     a criterion scored 0 while the rule set forbids it (one per criterion)
- `below_threshold`    the total is under the threshold of the unit's locality type
- `meets_threshold`    the total reaches the threshold (present even when another condition fails)
The verdict is `recognised` only when no blocking reason (the first three) is present.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.errors import ScoreError
from domain.rulesets import LOCALITY_LABELS, RuleSet
from domain.stages import LocalityType


class ReasonCode(StrEnum):
    MISSING_CRITERION = "missing_criterion"
    ZERO_CRITERION = "zero_criterion"
    BELOW_THRESHOLD = "below_threshold"
    MEETS_THRESHOLD = "meets_threshold"

    @property
    def blocks(self) -> bool:
        return self is not ReasonCode.MEETS_THRESHOLD


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ReasonCode
    criterion: int | None = None
    message: str
    message_vi: str

    @property
    def blocks(self) -> bool:
        return self.code.blocks


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    recognised: bool
    total: int
    threshold: int
    max_total: int
    rule_set_id: str
    locality_type: LocalityType
    scores: dict[int, int]
    reasons: list[Reason]

    @property
    def blocking_reasons(self) -> list[Reason]:
        return [r for r in self.reasons if r.blocks]


def check_scores(rule_set: RuleSet, scores: Mapping[int, int]) -> None:
    """Refuse a score for a criterion the rule set lacks, a negative score or one above the criterion's maximum."""
    for number, points in sorted(scores.items()):
        if number not in rule_set.criterion_numbers:
            raise ScoreError(
                number,
                f"rule set {rule_set.id} has criteria 1..{len(rule_set.criteria)} only",
                kind="unknown_criterion",
                maximum=len(rule_set.criteria),
            )
        if isinstance(points, bool) or not isinstance(points, int):
            raise ScoreError(number, f"points must be a whole number, got {points!r}", kind="not_whole", points=points)
        if points < 0:
            raise ScoreError(number, f"{points} points is negative", kind="negative", points=points)
        maximum = rule_set.criterion(number).max_points
        if points > maximum:
            raise ScoreError(
                number,
                f"{points} points is above the maximum of {maximum} for this criterion",
                kind="above_maximum",
                points=points,
                maximum=maximum,
            )


def evaluate(rule_set: RuleSet, locality_type: LocalityType, scores: Mapping[int, int]) -> Verdict:
    """Recognised or not under `rule_set`, with every reason. Raises ScoreError for scores it cannot accept."""
    locality_type = LocalityType(locality_type)
    check_scores(rule_set, scores)
    threshold = rule_set.threshold(locality_type)
    total = sum(scores.values())
    reasons: list[Reason] = []
    for criterion in rule_set.criteria:
        n, name, name_vi = criterion.number, criterion.name_en, criterion.name_vi
        if criterion.number not in scores:
            if rule_set.conditions.all_criteria_scored:
                reasons.append(
                    Reason(
                        code=ReasonCode.MISSING_CRITERION,
                        criterion=n,
                        message=f"criterion {n} ({name}) has no score; all {len(rule_set.criteria)} must be scored",
                        message_vi=f"Tiêu chí {n} ({name_vi}) chưa được chấm điểm; "
                        f"phải chấm đủ {len(rule_set.criteria)} tiêu chí",
                    )
                )
        elif scores[n] == 0 and rule_set.conditions.no_criterion_zero:
            reasons.append(
                Reason(
                    code=ReasonCode.ZERO_CRITERION,
                    criterion=n,
                    message=f"criterion {n} ({name}) scored 0 of {criterion.max_points}; no criterion may score 0",
                    message_vi=f"Tiêu chí {n} ({name_vi}) đạt 0/{criterion.max_points} điểm; "
                    "không tiêu chí nào được 0 điểm",
                )
            )
    label_vi, label_en = LOCALITY_LABELS[locality_type]
    if total < threshold:
        reasons.append(
            Reason(
                code=ReasonCode.BELOW_THRESHOLD,
                message=f"total {total} of {rule_set.max_total} is below the threshold {threshold} "
                f"for a {label_en} ({threshold - total} short)",
                message_vi=f"Tổng điểm {total}/{rule_set.max_total} thấp hơn mức {threshold} điểm "
                f"đối với {label_vi} (thiếu {threshold - total} điểm)",
            )
        )
    else:
        reasons.append(
            Reason(
                code=ReasonCode.MEETS_THRESHOLD,
                message=f"total {total} of {rule_set.max_total} meets the threshold {threshold} for a {label_en}",
                message_vi=f"Tổng điểm {total}/{rule_set.max_total} đạt mức {threshold} điểm đối với {label_vi}",
            )
        )
    return Verdict(
        recognised=not any(r.blocks for r in reasons),
        total=total,
        threshold=threshold,
        max_total=rule_set.max_total,
        rule_set_id=rule_set.id,
        locality_type=locality_type,
        scores=dict(sorted(scores.items())),
        reasons=reasons,
    )
