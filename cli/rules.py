"""`xptt rules`: check a verdict by hand and show a rule set, for officials and auditors.

Bad input exits with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from domain.errors import DomainError
from domain.rulesets import LOCALITY_LABELS, RuleSet, RuleSetId, load_rule_set
from domain.stages import LocalityType
from domain.verdict import evaluate

app = typer.Typer(help="Legal rule sets: check a recognition verdict, show criteria and thresholds.")

BAD_INPUT = 2


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
