"""Refusals of a scoring form said in the page's language.

`domain/` words a ScoreError in English and gives it a stable `kind` with its numbers; the Vietnamese wording lives
here, keyed by that kind. A refusal the case workflow's validator sends back names only its field (`scores.3`) and
an English detail, so the page checks the typed scores against the pinned rule set again to learn the kind.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.errors import ScoreError
from domain.form_fields import criterion_number, whole_number
from domain.rulesets import RuleSet
from domain.verdict import check_scores

SCORE_VI: dict[str, str] = {
    "above_maximum": "{points} điểm vượt quá mức tối đa {maximum} điểm của tiêu chí này",
    "negative": "số điểm không được âm (đã nhập {points})",
    "not_whole": "số điểm phải là số nguyên (đã nhập “{points}”)",
    "unknown_criterion": "bộ tiêu chí chỉ có các tiêu chí từ 1 đến {maximum}",
}
INVALID_VI = "số điểm của tiêu chí này không hợp lệ"
MISSING_VI = "chưa chấm điểm tiêu chí {numbers}: mọi tiêu chí đều phải được chấm"


def score_error_text(exc: ScoreError, lang: str) -> str:
    """The reason a score is refused, without the criterion's number (the page shows it next to its criterion)."""
    if lang != "vi":
        return exc.reason
    template = SCORE_VI.get(exc.kind, INVALID_VI)
    return template.format(points=exc.points, maximum=exc.maximum)


def typed_scores(form: Mapping[str, str]) -> dict[int, object]:
    """The scores as typed on the form (`score-3` → 3), whole numbers as ints and anything else as the raw text;
    inputs that name no criterion number are left out."""
    out: dict[int, object] = {}
    for name, value in form.items():
        number = criterion_number(name.removeprefix("score-")) if name.startswith("score-") else None
        if number is not None and value.strip():
            points = whole_number(value)
            out[number] = value.strip() if points is None else points
    return out


def score_refusal_text(field: str, detail: str, form: Mapping[str, str], rule_set: RuleSet, lang: str) -> str:
    """The validator's refusal of `scores` or `scores.N` in the page's language; `detail` (English) otherwise."""
    if lang != "vi":
        return detail
    scores = typed_scores(form)
    parts = field.split(".")
    if parts == ["scores"]:
        missing = [c.number for c in rule_set.criteria if c.number not in scores]
        return MISSING_VI.format(numbers=", ".join(map(str, missing))) if missing else INVALID_VI
    number = criterion_number(parts[1]) if len(parts) == 2 and parts[0] == "scores" else None
    if number is not None:
        if number not in scores:
            return MISSING_VI.format(numbers=number)
        try:
            check_scores(rule_set, {number: scores[number]})  # type: ignore[dict-item]
        except ScoreError as exc:
            return score_error_text(exc, lang)
        return INVALID_VI
    return detail
