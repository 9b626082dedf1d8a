"""`xptt rules`: check a verdict by hand, show a rule set and a round's calendar, for officials and auditors.

Bad input exits with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from cli import whatif_cmd
from domain.calendar_overrides import calendar_for, check_province
from domain.errors import DomainError, RoundError
from domain.round_calendar import RoundCalendar
from domain.rulesets import LOCALITY_LABELS, RuleSet, RuleSetId, load_rule_set
from domain.stages import LocalityType
from domain.verdict import evaluate

app = typer.Typer(help="Legal rule sets: check a verdict, show criteria and thresholds, print a round's calendar.")

BAD_INPUT = 2
app.command("what-if")(whatif_cmd.what_if)  # a round's closed cases under a draft rule set (cli/whatif_cmd.py)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(BAD_INPUT)


def _rule_set(rule_set_id: str) -> RuleSet:
    try:
        return load_rule_set(rule_set_id)
    except DomainError as exc:
        _fail(str(exc))


def _locality_type(value: str) -> LocalityType:
    try:
        return LocalityType(value)
    except ValueError:
        _fail(f"unknown locality type {value!r}; one of: {', '.join(t.value for t in LocalityType)}")


def _read_scores(path: Path) -> dict[int, int]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read: {exc}")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    if not isinstance(data, dict):
        _fail(f"{path}: expected a JSON object from criterion number to points, got {type(data).__name__}")
    scores: dict[int, int] = {}
    for key, points in data.items():
        if not key.strip().isdigit():
            _fail(f"{path}: key {key!r} is not a criterion number")
        if isinstance(points, bool) or not isinstance(points, int):
            _fail(f"{path}: criterion {key}: points must be a whole number, got {json.dumps(points)}")
        scores[int(key)] = points
    return scores


@app.command()
def verdict(
    rule_set: Annotated[str, typer.Option("--rule-set", help=f"one of {', '.join(RuleSetId)}")],
    locality_type: Annotated[
        str, typer.Option("--locality-type", help=f"one of {', '.join(t.value for t in LocalityType)}")
    ],
    scores: Annotated[Path, typer.Option("--scores", help='JSON object, e.g. {"1": 75, "2": 70}')],
) -> None:
    """Print the verdict as JSON: recognised, total, threshold and every reason."""
    rules = _rule_set(rule_set)
    kind = _locality_type(locality_type)
    points = _read_scores(scores)
    try:
        result = evaluate(rules, kind, points)
    except DomainError as exc:
        _fail(str(exc))
    out = {
        "recognised": result.recognised,
        "total": result.total,
        "threshold": result.threshold,
        "max_total": result.max_total,
        "rule_set": result.rule_set_id,
        "locality_type": result.locality_type.value,
        "reasons": [r.model_dump(mode="json") for r in result.reasons],
    }
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def _basis(source: str | None, assumed: bool) -> str:
    return "assumed" if assumed else (source or "")


@app.command()
def show(rule_set_id: Annotated[str, typer.Argument(help=f"one of {', '.join(RuleSetId)}")]) -> None:
    """Print a rule set's criteria, thresholds, conditions and rhythm."""
    rules = _rule_set(rule_set_id)
    console = Console(width=160)
    console.print(f"[bold]{rules.id}[/bold] — {rules.title}")
    console.print(f"{rules.legal_basis}")
    until = rules.in_force.until.isoformat() if rules.in_force.until else "no end known"
    console.print(f"In force {rules.in_force.from_.isoformat()} – {until}; rhythm: {rules.rhythm.describe()}")
    criteria = Table(title=f"Criteria (max total {rules.max_total})")
    for column in ("#", "Tiêu chí", "Criterion", "Max", "Basis"):
        criteria.add_column(column)
    for c in rules.criteria:
        criteria.add_row(str(c.number), c.name_vi, c.name_en, str(c.max_points), _basis(c.source, c.assumed))
    console.print(criteria)
    thresholds = Table(title="Thresholds")
    for column in ("Locality type", "Description", "Points", "Basis"):
        thresholds.add_column(column)
    for kind, threshold in rules.thresholds.items():
        label = LOCALITY_LABELS[kind][1]
        thresholds.add_row(kind.value, label, str(threshold.points), _basis(threshold.source, threshold.assumed))
    console.print(thresholds)
    conditions = rules.conditions
    console.print(
        "Recognised when: total ≥ threshold"
        + (f"; all {len(rules.criteria)} criteria scored" if conditions.all_criteria_scored else "")
        + ("; no criterion at 0" if conditions.no_criterion_zero else "")
    )


def _year(value: str) -> int:
    text = value.strip()
    if not (len(text) == 4 and text.isascii() and text.isdigit()):
        _fail(f"--year: expected an assessment year such as 2027, got {value!r}")
    return int(text)


def _province(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().zfill(2) if value.strip().isascii() and value.strip().isdigit() else value
    try:
        return check_province(code)
    except ValueError as exc:
        _fail(f"--province: {exc}")


def _calendar_json(cal: RoundCalendar) -> dict[str, Any]:
    return {
        "round": cal.round_id,
        "rule_set": cal.rule_set_id,
        "year": cal.year,
        "profile": cal.profile_id,
        "province": cal.province,
        "period_start": cal.period_start.isoformat(),
        "period_end": cal.period_end.isoformat(),
        "registration_due": cal.registration_due.isoformat(),
        "self_assessment_opens": cal.self_assessment_opens.isoformat(),
        "dossier_due": cal.dossier_due.isoformat(),
        "decision_due": cal.decision_due.isoformat(),
        "closes": cal.closes.isoformat(),
        "minimum_working_days": cal.minimum_working_days,
        "stages": {
            w.stage.value: {
                "opens": w.opens.isoformat(),
                "due": w.due.isoformat(),
                "anchor": w.anchor.isoformat() if w.anchor else None,
                "working_days": w.working_days,
                "allowance_working_days": w.allowance_working_days,
                "adjustment": w.adjustment.value,
            }
            for w in cal.stages
        },
        "bases": cal.bases,
        "overrides_applied": list(cal.overrides_applied),
    }


@app.command()
def calendar(
    rule_set: Annotated[str, typer.Option("--rule-set", help=f"one of {', '.join(RuleSetId)}")],
    year: Annotated[str, typer.Option("--year", help="the assessment year, e.g. 2027")],
    province: Annotated[
        str | None, typer.Option("--province", help="a current province code, e.g. 01: its overrides apply")
    ] = None,
) -> None:
    """Print a round's calendar as JSON: its period, registration, self-assessment, dossier and decision dates,
    and each stage's window (opens, due), every stage done on its last due day."""
    try:
        load_rule_set(rule_set)
    except DomainError as exc:
        _fail(f"--rule-set: {exc}")
    assessment_year = _year(year)
    code = _province(province)
    try:
        cal = calendar_for(rule_set, assessment_year, code)
    except RoundError as exc:
        _fail(f"--year: {exc.reason}")
    except DomainError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(_calendar_json(cal), ensure_ascii=False, indent=2))
