"""What the case page shows besides the timeline, assembled from the case's read model and journal: the unit and
its threshold, both score sheets criterion by criterion against the maxima (changes marked), the verdict and its
reasons, the decision and the commendation, each said in the page's language (glossary)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import glossary
from domain.rulesets import load_rule_set
from domain.stages import LocalityType
from glossary.streak import streak_lines
from services.cases.schemas import AuditOut, CaseOut, ScoreOut


@dataclass(frozen=True)
class ScoreLine:
    number: int
    name: str
    max_points: int
    self_points: int | None
    council_points: int | None

    @property
    def changed(self) -> bool:
        return None not in (self.self_points, self.council_points) and self.self_points != self.council_points


@dataclass(frozen=True)
class Settled:
    """A decision or a commendation as the journal holds it."""

    yes: bool
    number: str
    day: str
    reasons: list[str]
    by: str | None


@dataclass(frozen=True)
class CaseView:
    province_name: str
    locality: str
    threshold: int | None
    max_total: int
    round: str
    outcome: str
    scores: list[ScoreLine]
    self_total: int | None
    council_total: int | None
    verdict: dict[str, Any] | None
    verdict_reasons: list[str]
    decision: Settled | None
    commendation: Settled | None
    streak: list[str]  # why the commendation check found the streak it found (merged units: their predecessors)


def score_lines(rule_set_id: str, scores: Sequence[ScoreOut], lang: str) -> list[ScoreLine]:
    rules = load_rule_set(rule_set_id)
    given = {(s.kind, s.criterion): s.points for s in scores}
    return [
        ScoreLine(
            number=c.number,
            name=c.name_en if lang == "en" else c.name_vi,
            max_points=c.max_points,
            self_points=given.get(("self", c.number)),
            council_points=given.get(("council", c.number)),
        )
        for c in rules.criteria
    ]


def _settled(journal: Sequence[AuditOut], action: str, flag: str) -> Settled | None:
    row = next((r for r in reversed(journal) if r.action == action), None)
    if row is None:
        return None
    p = row.payload
    return Settled(
        yes=bool(p.get(flag)),
        number=str(p.get("decision_number") or ""),
        day=glossary.day(p.get("decision_date")) if p.get("decision_date") else "",
        reasons=[str(r) for r in p.get("reasons") or []],
        by=row.actor_id,
    )


def verdict_reasons(verdict: dict[str, Any] | None, lang: str) -> list[str]:
    """The verdict's blocking reasons (or that it meets the threshold) from their codes."""
    if not verdict:
        return []
    numbers = {"total": verdict.get("total"), "threshold": verdict.get("threshold")}
    reasons = verdict.get("reasons") or []
    blocking = [r for r in reasons if r.get("code") != "meets_threshold"]
    return [glossary.reason_text({**numbers, **r}, lang) for r in (blocking or reasons)]


def streak_of(journal: Sequence[AuditOut], lang: str) -> list[str]:
    row = next((r for r in reversed(journal) if r.action in ("commendation_checked", "commendation_due")), None)
    return streak_lines(row.payload.get("streak"), lang) if row is not None else []


def case_view(case: CaseOut, lang: str) -> CaseView:
    rules = load_rule_set(case.rule_set_id)
    locality = LocalityType(case.locality_type)
    threshold = rules.thresholds.get(locality)
    lines = score_lines(case.rule_set_id, case.scores, lang)

    def total(kind: str) -> int | None:
        found = [s.points for s in case.scores if s.kind == kind]
        return sum(found) if found else None

    return CaseView(
        province_name=glossary.province_name(case.province_code),
        locality=glossary.term("locality", case.locality_type, lang),
        threshold=threshold.points if threshold else None,
        max_total=rules.max_total,
        round=glossary.round_label(case.round_id, lang),
        outcome=glossary.term("outcome", case.outcome, lang) if case.outcome else "",
        scores=lines,
        self_total=total("self"),
        council_total=total("council"),
        verdict=case.verdict,
        verdict_reasons=verdict_reasons(case.verdict, lang),
        decision=_settled(case.journal, "decision_completed", "recognised"),
        commendation=_settled(case.journal, "commendation_completed", "awarded"),
        streak=streak_of(case.journal, lang),
    )
