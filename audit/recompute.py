"""The decisions of a case, in order, with each recorded verdict recomputed under the case's pinned rule set.

A council assessment row carries the council's scores and the verdict the workflow computed from them; recomputing
`domain.verdict.evaluate` over those scores under the rule set pinned at the case's start must give the same verdict
(recognised, total, threshold, maximum, and the same reason codes per criterion). A recognition decision must rest
on a recognising verdict. Wording of messages is not compared: it may be improved without changing a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from audit.chain import JournalRecord
from domain.errors import DomainError
from domain.rulesets import RuleSet, load_rule_set
from domain.stages import LocalityType
from domain.verdict import evaluate


class VerdictCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["council_scores", "decision", "rule_set"]
    recorded: dict[str, Any] | None
    recomputed: dict[str, Any] | None
    matches: bool
    detail: str


class DecisionLine(BaseModel):
    """One journal row as an auditor reads it: who, in which role, did what, when — and the verdict check."""

    model_config = ConfigDict(frozen=True)

    seq: int
    action: str
    actor_id: str | None
    actor_role: str | None
    unit_code: str
    occurred_at: str
    from_stage: str | None
    to_stage: str
    reason: str | None
    verdict: VerdictCheck | None = None


class Recomputation(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_set_id: str
    locality_type: str
    decisions: list[DecisionLine]
    verdicts_checked: int
    case_verdict_matches: bool | None  # the verdict on the case row against the last recomputed one (None: no verdict)
    verdicts_match: bool


def verdict_substance(verdict: dict[str, Any]) -> dict[str, Any]:
    """What a verdict decides, without its wording."""
    return {
        "recognised": verdict.get("recognised"),
        "total": verdict.get("total"),
        "threshold": verdict.get("threshold"),
        "max_total": verdict.get("max_total"),
        "rule_set_id": verdict.get("rule_set_id"),
        "locality_type": verdict.get("locality_type"),
        "reasons": sorted(
            ([str(r.get("code")), r.get("criterion") or 0] for r in verdict.get("reasons", [])),
        ),
    }


def recompute(
    records: Iterable[JournalRecord],
    *,
    rule_set_id: str,
    locality_type: str,
    case_verdict: dict[str, Any] | None = None,
) -> Recomputation:
    rule_set = load_rule_set(rule_set_id)
    locality = LocalityType(locality_type)
    lines: list[DecisionLine] = []
    latest: dict[str, Any] | None = None  # the substance of the last recomputed council verdict
    for rec in sorted(records, key=lambda r: r.seq):
        check: VerdictCheck | None = None
        if rec.rule_set_id != rule_set_id:
            check = VerdictCheck(
                kind="rule_set",
                recorded=None,
                recomputed=None,
                matches=False,
                detail=f"row names rule set {rec.rule_set_id}, the case is pinned to {rule_set_id}",
            )
        elif "scores" in rec.payload and "verdict" in rec.payload:
            check, latest = _council_check(rec, rule_set, locality)
        elif rec.action == "decision_completed" and rec.payload.get("recognised") is True:
            ok = latest is not None and latest["recognised"] is True
            check = VerdictCheck(
                kind="decision",
                recorded={"recognised": True},
                recomputed=latest,
                matches=ok,
                detail="recognition rests on a recognising verdict"
                if ok
                else "recognised although the recomputed council verdict does not recognise the unit",
            )
        lines.append(
            DecisionLine(
                seq=rec.seq,
                action=rec.action,
                actor_id=rec.actor_id,
                actor_role=rec.actor_role,
                unit_code=rec.unit_code,
                occurred_at=rec.occurred_at,
                from_stage=rec.from_stage,
                to_stage=rec.to_stage,
                reason=rec.reason,
                verdict=check,
            )
        )
    checks = [line.verdict for line in lines if line.verdict is not None]
    case_matches = None if case_verdict is None else verdict_substance(case_verdict) == latest
    return Recomputation(
        rule_set_id=rule_set_id,
        locality_type=locality.value,
        decisions=lines,
        verdicts_checked=len(checks),
        case_verdict_matches=case_matches,
        verdicts_match=all(c.matches for c in checks) and case_matches is not False,
    )


def _council_check(
    rec: JournalRecord, rule_set: RuleSet, locality: LocalityType
) -> tuple[VerdictCheck, dict[str, Any] | None]:
    """A council assessment row: its verdict against the one its scores give now, and the substance of that one
    (None when the scores cannot be evaluated)."""
    recorded = verdict_substance(rec.payload["verdict"] or {})
    try:
        scores = {int(k): v for k, v in rec.payload["scores"].items()}
        latest = verdict_substance(evaluate(rule_set, locality, scores).model_dump(mode="json"))
    except (DomainError, ValueError, TypeError, AttributeError) as exc:
        return VerdictCheck(
            kind="council_scores",
            recorded=recorded,
            recomputed=None,
            matches=False,
            detail=f"the recorded scores cannot be evaluated under {rule_set.id}: {exc}",
        ), None
    same = latest == recorded
    return VerdictCheck(
        kind="council_scores",
        recorded=recorded,
        recomputed=latest,
        matches=same,
        detail=(
            f"{'recognised' if latest['recognised'] else 'not recognised'}, "
            f"{latest['total']}/{latest['max_total']} against {latest['threshold']}"
            + ("" if same else f"; recorded {recorded['recognised']}, total {recorded['total']}")
        ),
    ), latest
