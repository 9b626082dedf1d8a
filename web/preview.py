"""The live preview of a scoring form: the running total and the verdict the typed scores would give
(domain.verdict), or the score it cannot take, said in the page's language."""

from __future__ import annotations

from typing import Any

from domain.errors import ScoreError
from domain.form_fields import criterion_number, whole_number
from domain.rulesets import load_rule_set
from domain.stages import LocalityType
from domain.verdict import Verdict, evaluate
from services.inbox.schemas import TaskDetailOut
from web.refusals import score_error_text


def _score_values(form: dict[str, str]) -> dict[int, int]:
    """The typed scores that are numbers of a criterion; the rest is left to the validator, which names it."""
    out = {}
    for name, value in form.items():
        if not name.startswith("score-"):
            continue
        criterion, points = criterion_number(name.removeprefix("score-")), whole_number(value)
        if criterion is not None and points is not None:
            out[criterion] = points
    return out


def preview_of(detail: TaskDetailOut, form: dict[str, str], lang: str) -> dict[str, Any] | None:
    """The running total and the verdict of the form's scores (the earlier stage's, before any is typed), or the
    score it cannot take; None for a task without scores."""
    if detail.form is None or detail.form.scoring is None:
        return None
    scores = _score_values(form) if form else {int(k): v for k, v in detail.form.scoring.prefill.items()}
    rule_set = load_rule_set(detail.case.rule_set_id)
    total = sum(scores.values())
    try:
        verdict: Verdict | None = evaluate(rule_set, LocalityType(detail.case.locality_type), scores)
        error = None
    except ScoreError as exc:
        verdict, error = None, f"{exc.criterion}: {score_error_text(exc, lang)}"
    return {
        "total": total,
        "max_total": rule_set.max_total,
        "threshold": detail.form.scoring.threshold,
        "verdict": verdict,
        "error": error,
    }
