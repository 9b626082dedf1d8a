"""The recognition verdict, as tables per rule set: thresholds, zeros, missing criteria, reasons."""

from __future__ import annotations

import pytest

from domain.errors import ScoreError
from domain.rulesets import RuleSetId, load_rule_set
from domain.stages import LocalityType
from domain.verdict import ReasonCode, Verdict, check_scores, evaluate
from tests.domain.helpers import full_marks, scores_totalling

CITY, MOUNTAIN, OTHER = LocalityType.CENTRAL_CITY_WARD, LocalityType.MOUNTAIN_ISLAND_DISADVANTAGED, LocalityType.OTHER

# (rule set, locality type, threshold): QĐ 06 and 37/2010 as DOMAIN.md gives them; QĐ 34/2014 the assumed defaults.
THRESHOLDS = [
    ("qd06-2019", CITY, 900),
    ("qd06-2019", OTHER, 850),
    ("qd06-2019", MOUNTAIN, 800),
    ("qd34-2014", CITY, 900),
    ("qd34-2014", OTHER, 850),
    ("qd34-2014", MOUNTAIN, 800),
    ("qd37-2010", CITY, 850),
    ("qd37-2010", OTHER, 750),
    ("qd37-2010", MOUNTAIN, 650),
]
ALL = [r.value for r in RuleSetId]


def codes(verdict: Verdict) -> list[tuple[str, int | None]]:
    return [(r.code.value, r.criterion) for r in verdict.reasons]


@pytest.mark.parametrize(("rule_set_id", "locality_type", "threshold"), THRESHOLDS)
def test_total_one_point_below_threshold_is_not_recognised(rule_set_id, locality_type, threshold) -> None:
    rules = load_rule_set(rule_set_id)
    verdict = evaluate(rules, locality_type, scores_totalling(rules, threshold - 1))
    assert not verdict.recognised
    assert (verdict.total, verdict.threshold) == (threshold - 1, threshold)
    assert codes(verdict) == [("below_threshold", None)]
    assert f"{threshold - 1}" in verdict.reasons[0].message and f"{threshold}" in verdict.reasons[0].message
    assert f"{threshold - 1}" in verdict.reasons[0].message_vi


@pytest.mark.parametrize(("rule_set_id", "locality_type", "threshold"), THRESHOLDS)
def test_total_at_threshold_is_recognised(rule_set_id, locality_type, threshold) -> None:
    rules = load_rule_set(rule_set_id)
    verdict = evaluate(rules, locality_type, scores_totalling(rules, threshold))
    assert verdict.recognised
    assert codes(verdict) == [("meets_threshold", None)]
    assert verdict.rule_set_id == rule_set_id and verdict.locality_type == locality_type


def test_qd06_899_fails_and_900_passes_for_a_ward_of_a_centrally_run_city_only() -> None:
    rules = load_rule_set("qd06-2019")
    at_899, at_900 = scores_totalling(rules, 899), scores_totalling(rules, 900)
    assert not evaluate(rules, CITY, at_899).recognised
    assert evaluate(rules, CITY, at_900).recognised
    assert evaluate(rules, OTHER, at_899).recognised  # 899 ≥ 850
    assert not evaluate(rules, OTHER, scores_totalling(rules, 849)).recognised
    assert not evaluate(rules, MOUNTAIN, scores_totalling(rules, 799)).recognised
    assert evaluate(rules, MOUNTAIN, scores_totalling(rules, 800)).recognised


@pytest.mark.parametrize("rule_set_id", ALL)
@pytest.mark.parametrize("criterion", [3, 5])
@pytest.mark.parametrize("locality_type", list(LocalityType))
def test_zero_in_criterion_3_or_5_blocks_recognition_whatever_the_total(rule_set_id, criterion, locality_type) -> None:
    rules = load_rule_set(rule_set_id)
    scores = full_marks(rules) | {criterion: 0}
    verdict = evaluate(rules, locality_type, scores)
    assert verdict.total >= verdict.threshold  # the total alone would pass
    assert not verdict.recognised
    assert codes(verdict) == [("zero_criterion", criterion), ("meets_threshold", None)]
    assert f"criterion {criterion}" in verdict.reasons[0].message


@pytest.mark.parametrize("rule_set_id", ALL)
def test_zero_in_any_criterion_blocks_recognition(rule_set_id: str) -> None:
    rules = load_rule_set(rule_set_id)
    for number in rules.criterion_numbers:
        verdict = evaluate(rules, MOUNTAIN, full_marks(rules) | {number: 0})
        assert not verdict.recognised
        assert [r.criterion for r in verdict.blocking_reasons] == [number]


@pytest.mark.parametrize("rule_set_id", ALL)
def test_missing_criterion_blocks_recognition(rule_set_id: str) -> None:
    rules = load_rule_set(rule_set_id)
    last = rules.criterion_numbers[-1]
    scores = {n: p for n, p in full_marks(rules).items() if n != last}
    verdict = evaluate(rules, MOUNTAIN, scores)
    assert verdict.total >= verdict.threshold
    assert not verdict.recognised
    assert codes(verdict) == [("missing_criterion", last), ("meets_threshold", None)]
    assert f"criterion {last}" in verdict.reasons[0].message
    assert f"{len(rules.criteria)}" in verdict.reasons[0].message


@pytest.mark.parametrize("rule_set_id", ALL)
def test_reasons_name_each_failed_condition(rule_set_id: str) -> None:
    rules = load_rule_set(rule_set_id)
    scores = {n: 1 for n in rules.criterion_numbers if n != 2} | {3: 0, 5: 0}
    verdict = evaluate(rules, CITY, scores)
    assert not verdict.recognised
    assert codes(verdict) == [
        ("missing_criterion", 2),
        ("zero_criterion", 3),
        ("zero_criterion", 5),
        ("below_threshold", None),
    ]
    below = verdict.reasons[-1]
    assert str(verdict.total) in below.message and str(verdict.threshold) in below.message
    assert all(r.message_vi for r in verdict.reasons)


def test_no_score_at_all_names_every_criterion_missing() -> None:
    rules = load_rule_set("qd06-2019")
    verdict = evaluate(rules, OTHER, {})
    missing = [r.criterion for r in verdict.reasons if r.code is ReasonCode.MISSING_CRITERION]
    assert missing == list(range(1, 14))
    assert verdict.total == 0 and not verdict.recognised


def test_qd06_maxima_are_125_for_criterion_6_and_50_for_criterion_7_and_add_up_to_1000() -> None:
    rules = load_rule_set("qd06-2019")
    assert rules.criterion(6).max_points == 125 and rules.criterion(6).source
    assert rules.criterion(7).max_points == 50 and rules.criterion(7).source
    others = [c for c in rules.criteria if c.number not in (6, 7)]
    assert {c.max_points for c in others} == {75} and all(c.assumed for c in others)
    assert sum(c.max_points for c in rules.criteria) == rules.max_total == 1000
    assert sum(b.points for b in rules.criterion(6).bands) == 125


@pytest.mark.parametrize(
    ("scores", "criterion", "fragment"),
    [
        ({14: 10}, 14, "criteria 1..13"),
        ({0: 10}, 0, "criteria 1..13"),
        ({3: -1}, 3, "negative"),
        ({6: 126}, 6, "maximum of 125"),
        ({7: 51}, 7, "maximum of 50"),
        ({1: 76}, 1, "maximum of 75"),
    ],
)
def test_out_of_range_scores_are_refused_naming_the_criterion(scores, criterion, fragment) -> None:
    rules = load_rule_set("qd06-2019")
    with pytest.raises(ScoreError) as caught:
        check_scores(rules, scores)
    assert caught.value.criterion == criterion
    assert f"criterion {criterion}" in str(caught.value) and fragment in caught.value.reason
    with pytest.raises(ScoreError):
        evaluate(rules, OTHER, scores)


def test_score_error_is_a_value_error_with_a_stable_code() -> None:
    with pytest.raises(ValueError) as caught:
        check_scores(load_rule_set("qd06-2019"), {1: 100})
    assert isinstance(caught.value, ScoreError) and caught.value.code == "score_invalid"
