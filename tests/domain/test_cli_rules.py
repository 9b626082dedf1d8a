"""`xptt rules verdict` and `xptt rules show`: JSON out, one clear line and status 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli.rules import app
from domain.rulesets import load_rule_set
from tests.domain.helpers import full_marks, scores_totalling

runner = CliRunner()


def _scores(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "scores.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def _verdict(*args: str) -> Result:
    return runner.invoke(app, ["verdict", *args])


def test_verdict_prints_json_for_a_recognised_ward(tmp_path: Path) -> None:
    scores = {str(k): v for k, v in scores_totalling(load_rule_set("qd06-2019"), 900).items()}
    result = _verdict(
        "--rule-set", "qd06-2019", "--locality-type", "central-city-ward", "--scores", str(_scores(tmp_path, scores))
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["recognised"], out["total"], out["threshold"]) == (True, 900, 900)
    assert [r["code"] for r in out["reasons"]] == ["meets_threshold"]


def test_verdict_lists_every_reason_with_its_criterion(tmp_path: Path) -> None:
    scores = {str(k): v for k, v in full_marks(load_rule_set("qd06-2019")).items() if k != 13} | {"3": 0}
    result = _verdict("--rule-set", "qd06-2019", "--locality-type", "other", "--scores", str(_scores(tmp_path, scores)))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["recognised"] is False
    assert [(r["code"], r["criterion"]) for r in out["reasons"]] == [
        ("zero_criterion", 3),
        ("missing_criterion", 13),
        ("meets_threshold", None),
    ]
    assert all(r["message"] for r in out["reasons"])


@pytest.mark.parametrize(
    ("args", "content", "fragment"),
    [
        (["--rule-set", "qd99-2030"], {"1": 1}, "unknown rule set 'qd99-2030'"),
        (["--locality-type", "urban"], {"1": 1}, "unknown locality type 'urban'"),
        ([], "{not json", "not valid JSON"),
        ([], "[1, 2]", "expected a JSON object"),
        ([], {"one": 5}, "'one' is not a criterion number"),
        ([], {"1": 12.5}, "criterion 1: points must be a whole number, got 12.5"),
        ([], {"1": "70"}, 'criterion 1: points must be a whole number, got "70"'),
        ([], {"6": 126}, "criterion 6: 126 points is above the maximum of 125"),
        ([], {"14": 1}, "criterion 14"),
        ([], {"2": -1}, "criterion 2: -1 points is negative"),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(
    tmp_path: Path, args: list[str], content: object, fragment: str
) -> None:
    options = {"--rule-set": "qd06-2019", "--locality-type": "other", "--scores": str(_scores(tmp_path, content))}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        options[flag] = value
    result = _verdict(*(x for pair in options.items() for x in pair))
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_scores_file_exits_2(tmp_path: Path) -> None:
    absent = tmp_path / "absent.json"
    result = _verdict("--rule-set", "qd06-2019", "--locality-type", "other", "--scores", str(absent))
    assert result.exit_code == 2
    assert f"{absent}: no such file" in result.stderr


def test_show_prints_criteria_and_thresholds() -> None:
    result = runner.invoke(app, ["show", "qd06-2019"])
    assert result.exit_code == 0, result.stderr
    for text in ("Trẻ em bị xâm hại", "125", "900", "850", "800", "central-city-ward", "assumed"):
        assert text in result.stdout


def test_show_unknown_rule_set_exits_2() -> None:
    result = runner.invoke(app, ["show", "qd01-2000"])
    assert result.exit_code == 2 and "unknown rule set 'qd01-2000'" in result.stderr
