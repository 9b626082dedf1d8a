"""Rule sets as data: every shipped file loads, every number has a basis, a bad file says where and why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.errors import RuleSetFileError, UnknownCriterionError, UnknownRuleSetError
from domain.rulesets import RULES_DIR, RuleSetId, all_rule_sets, load_rule_set, load_rule_set_file
from domain.stages import LocalityType

QD06 = RULES_DIR / "qd06-2019.yaml"


def test_three_rule_sets_ship_with_their_criteria_counts() -> None:
    counts = {r.id: len(r.criteria) for r in all_rule_sets()}
    assert counts == {"qd37-2010": 25, "qd34-2014": 15, "qd06-2019": 13}
    assert [r.id for r in all_rule_sets()] == ["qd37-2010", "qd34-2014", "qd06-2019"]


def test_load_rule_set_is_cached() -> None:
    assert load_rule_set("qd06-2019") is load_rule_set("qd06-2019")


def test_unknown_rule_set_is_named_in_the_error() -> None:
    with pytest.raises(UnknownRuleSetError) as caught:
        load_rule_set("qd99-2030")
    assert "qd99-2030" in str(caught.value) and caught.value.code == "unknown_rule_set"


@pytest.mark.parametrize("rule_set_id", [r.value for r in RuleSetId])
def test_every_number_carries_a_source_or_an_assumption_with_a_note(rule_set_id: str) -> None:
    rules = load_rule_set(rule_set_id)
    bases = [rules.max_total_basis, rules.conditions, rules.rhythm, rules.rhythm.period_basis, rules.in_force]
    bases += list(rules.thresholds.values()) + list(rules.criteria)
    bases += [b for c in rules.criteria for b in c.bands]
    for basis in bases:
        assert basis.source or (basis.assumed and basis.note), basis


@pytest.mark.parametrize("rule_set_id", [r.value for r in RuleSetId])
def test_every_locality_type_has_a_threshold_within_the_maximum(rule_set_id: str) -> None:
    rules = load_rule_set(rule_set_id)
    for locality_type in LocalityType:
        assert 0 < rules.threshold(locality_type) <= rules.max_total
    assert sum(c.max_points for c in rules.criteria) == rules.max_total


def test_criterion_lookup_by_number() -> None:
    rules = load_rule_set("qd06-2019")
    assert rules.criterion(3).name_vi == "Trẻ em bị xâm hại"
    with pytest.raises(UnknownCriterionError):
        rules.criterion(14)


def _write(tmp_path: Path, data: object, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _qd06() -> dict[str, Any]:
    return yaml.safe_load(QD06.read_text(encoding="utf-8"))


def test_a_copy_of_a_shipped_file_loads(tmp_path: Path) -> None:
    assert load_rule_set_file(_write(tmp_path, _qd06())) == load_rule_set("qd06-2019")


@pytest.mark.parametrize(
    ("break_it", "field", "reason"),
    [
        (lambda d: d["criteria"][4].update(max_points=-5), "criteria[4].max_points", "greater than 0"),
        (lambda d: d["criteria"][5].update(max_points=150), "max_total", "add up to 1025"),
        (lambda d: d["thresholds"].pop("other"), "thresholds.other", "missing threshold"),
        (lambda d: d["thresholds"]["other"].update(points=1200), "thresholds.other", "above max_total"),
        (lambda d: d["criteria"][2].pop("assumed"), "criteria[2].source", "give the source"),
        (lambda d: d["criteria"][0].pop("note"), "criteria[0].note", "needs a note"),
        (lambda d: d["criteria"].pop(3), "criteria", "numbered 1..12"),
        (lambda d: d["rhythm"].update(period_end="02-30"), "rhythm.period_end", "not a day of the year"),
        (lambda d: d["rhythm"].update(plan_assessment_years=[4, 2]), "rhythm.plan_assessment_years", "increasing"),
        (lambda d: d.update(max_totl=1000), "max_totl", "Extra inputs are not permitted"),
        (lambda d: d.pop("conditions"), "conditions", "Field required"),
    ],
)
def test_bad_rule_file_names_file_field_and_reason(
    tmp_path: Path, break_it: Callable[[dict[str, Any]], object], field: str, reason: str
) -> None:
    data = _qd06()
    break_it(data)
    path = _write(tmp_path, data)
    with pytest.raises(RuleSetFileError) as caught:
        load_rule_set_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}: "), message
    assert reason in message
    assert caught.value.path == path and caught.value.where == field


def test_rule_file_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: qd06-2019\ncriteria: [1, 2\n", encoding="utf-8")
    with pytest.raises(RuleSetFileError) as caught:
        load_rule_set_file(path)
    assert str(caught.value).startswith(f"{path}: line ")


def test_missing_rule_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(RuleSetFileError, match="no such file") as caught:
        load_rule_set_file(path)
    assert str(path) in str(caught.value)


def test_rule_file_that_is_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleSetFileError, match="expected a mapping"):
        load_rule_set_file(_write(tmp_path, [1, 2, 3]))
