"""From an HTML form to the JSON a stage's Update takes, and from a refusal's field back to the form's input.

Values are passed on as typed (a number that is not one stays a string): the case workflow's validator is the one
judge, and its refusal names the field, which `input_for` maps to the input shown next to it. A score becomes a number
only when it is written in ASCII digits (with a minus, at most nine): "7_4", "٧٤" or a number of thousands of digits
stay text, which the validator refuses by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.form_fields import whole_number
from domain.forms import REQUIRED_DOSSIER
from domain.stages import Stage


def _int_or_raw(value: str) -> int | str:
    number = whole_number(value)
    return value.strip() if number is None else number


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _pairs(value: str, key: str, text: str) -> list[dict[str, str]]:
    out = []
    for line in _lines(value):
        ident, _, rest = line.partition(":")
        out.append({key: ident.strip(), text: rest.strip()})
    return out


def _scores(form: Mapping[str, str]) -> tuple[dict[str, int | str], dict[str, str]]:
    scores: dict[str, int | str] = {}
    sources: dict[str, str] = {}
    for name, value in form.items():
        if name.startswith("score-") and value.strip():
            scores[name.removeprefix("score-")] = _int_or_raw(value)
        elif name.startswith("source-") and value.strip():
            sources[name.removeprefix("source-")] = value.strip()
    return scores, sources


def _opt(value: str | None) -> str | None:
    return value.strip() or None if value else None


def payload_for(stage: Stage, form: Mapping[str, str]) -> dict[str, Any]:
    g = form.get
    match stage:
        case Stage.REGISTRATION:
            return {"registered": g("registered") == "yes", "note": _opt(g("note"))}
        case Stage.SELF_ASSESSMENT:
            scores, sources = _scores(form)
            return {"scores": scores, "sources": sources}
        case Stage.COUNCIL_ASSESSMENT:
            scores, _ = _scores(form)
            return {
                "scores": scores,
                "meeting_date": g("meeting_date", ""),
                "minutes_ref": g("minutes_ref", ""),
                "members": _lines(g("members", "")),
                "objection_answers": _pairs(g("objection_answers", ""), "objection_id", "answer"),
            }
        case Stage.PUBLIC_POSTING:
            return {
                "posted_from": g("posted_from", ""),
                "posted_to": g("posted_to", ""),
                "place": g("place", ""),
                "objections": _pairs(g("objections", ""), "id", "text"),
            }
        case Stage.DOSSIER_SUBMISSION:
            return {
                "documents": [
                    {"kind": k, "reference": g(f"doc-{k}", "").strip()} for k in REQUIRED_DOSSIER if g(f"doc-{k}")
                ]
            }
        case Stage.APPRAISAL:
            return {
                "outcome": g("outcome", ""),
                "findings": g("findings", ""),
                "missing": _lines(g("missing", "")),
            }
        case Stage.DECISION:
            return {
                "recognised": g("recognised") == "yes",
                "decision_number": g("decision_number", ""),
                "decision_date": g("decision_date", ""),
                "reasons": _lines(g("reasons", "")),
            }
        case Stage.COMMENDATION:
            return {
                "awarded": g("awarded") == "yes",
                "decision_number": g("decision_number", ""),
                "decision_date": g("decision_date") or None,
                "reasons": _lines(g("reasons", "")),
            }
    return {}


def input_for(field: str | None) -> str:
    """The form input a refusal's field names: `scores.5` → `score-5`, `documents.2.reference` → `documents`;
    `_form` when no input is named (shown at the top of the form)."""
    if not field:
        return "_form"
    parts = field.split(".")
    head = parts[0]
    if head == "scores":
        return f"score-{parts[1]}" if len(parts) > 1 else "scores"
    if head == "sources" and len(parts) > 1:
        return f"source-{parts[1]}"
    if head == "objection_answers":
        return "objection_answers"
    return head
