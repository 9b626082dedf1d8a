"""The threshold search (domain/whatif.search_threshold): per province and locality type, the other types held at the
draft's thresholds, the HIGHEST threshold at which the province still reaches its target; `unreachable` when not even
1 point reaches it, `no_target` without a target. Checked by hand, then against domain/verdict.evaluate run at every
candidate threshold, units refused after the council (passed by it, then not recognised) never counting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rulesets import RuleSet, Threshold
from domain.stages import LocalityType, Outcome
from domain.verdict import evaluate
from domain.whatif import ProvinceScope, SearchStatus, ThresholdFinding, UnitRecord, evaluate_unit, search_threshold
from domain.whatif_files import resolve_mapping
from tests.domain.test_whatif import FULL, OFFICIAL, OTHER, WARD, draft_of, record, scores, target


def with_threshold(rule_set: RuleSet, kind: LocalityType, points: int) -> RuleSet:
    thresholds = {**rule_set.thresholds, kind: Threshold(points=points, assumed=True, note="search")}
    return rule_set.model_copy(update={"thresholds": thresholds})


def search(
    draft: RuleSet, records: list[UnitRecord], units: int, share: float | None, kind: LocalityType
) -> ThresholdFinding:
    mapping = resolve_mapping(OFFICIAL, draft, None)
    rows = [evaluate_unit(r, draft, mapping) for r in records]
    scope = ProvinceScope(code="33", name="Hưng Yên", units=units, target=target(share) if share else None)
    return search_threshold(scope, rows, draft, kind)


WARD_950 = draft_of(thresholds={"central-city-ward": 950})
# three other units recognised; wards at 940, 930, 910, 880, 870 (no zero) and one at 925 with a zero
PROVINCE = [
    *(record(f"O{i}", OTHER, FULL) for i in range(3)),
    record("W1", WARD, scores(c1=15)),
    record("W2", WARD, scores(c1=5)),
    record("W3", WARD, scores(c1=35, c2=25)),
    record("W4", WARD, scores(c1=5, c2=25)),
    record("W5", WARD, scores(c1=5, c2=15)),
    record("WZ", WARD, scores(c3=0)),
]


def test_the_ward_threshold_must_come_down_to_910_for_six_of_ten() -> None:
    assert sorted(evaluate(OFFICIAL, WARD, r.scores).total for r in PROVINCE[3:]) == [870, 880, 910, 925, 930, 940]
    found = search(WARD_950, PROVINCE, 10, 0.6, WARD)
    assert (found.status, found.threshold, found.lower_by, found.draft_threshold) == (SearchStatus.FOUND, 910, 40, 950)
    assert found.units_of_type == 6


def test_a_target_the_other_types_reach_alone_leaves_the_maximum() -> None:
    found = search(WARD_950, PROVINCE, 10, 0.3, WARD)
    assert (found.status, found.threshold, found.lower_by) == (SearchStatus.FOUND, 1000, -50)


def test_a_target_no_threshold_reaches_is_unreachable() -> None:
    assert search(WARD_950, PROVINCE, 10, 0.9, WARD).status is SearchStatus.UNREACHABLE  # the zero bars the 9th
    assert search(WARD_950, PROVINCE, 10, 0.9, OTHER).status is SearchStatus.UNREACHABLE


def test_without_a_target_there_is_nothing_to_search() -> None:
    found = search(WARD_950, PROVINCE, 10, None, WARD)
    assert found.status is SearchStatus.NO_TARGET and found.threshold is None


def test_even_one_point_does_not_recognise_a_unit_that_scored_nothing() -> None:
    lenient = draft_of(conditions={"all_criteria_scored": True, "no_criterion_zero": False, "source": "test"})
    nothing = record("N", OTHER, {n: 0 for n in FULL})
    assert search(lenient, [nothing], 1, 1.0, OTHER).status is SearchStatus.UNREACHABLE
    assert search(lenient, [record("F", OTHER, FULL)], 1, 1.0, OTHER).threshold == 1000


def _refused_after_council(r: UnitRecord) -> bool:
    return r.verdict is not None and r.verdict.recognised and r.outcome is not Outcome.RECOGNISED


def _meets(draft: RuleSet, records: list[UnitRecord], units: int, share: float) -> bool:
    recognised = sum(
        1
        for r in records
        if r.verdict is not None
        and not _refused_after_council(r)
        and evaluate(draft, r.locality_type, r.scores).recognised
    )
    return recognised / units >= share


sheets = st.fixed_dictionaries(
    {c.number: st.sampled_from([0, c.max_points // 2, c.max_points - 5, c.max_points]) for c in OFFICIAL.criteria}
)
units_ = st.lists(
    st.tuples(st.sampled_from([WARD, OTHER]), st.one_of(st.none(), sheets), st.booleans()), min_size=1, max_size=8
)


@settings(max_examples=80, deadline=None)
@given(
    units_,
    st.integers(0, 4),
    st.sampled_from([0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0]),
    st.integers(700, 1000),
    st.sampled_from([WARD, OTHER]),
)
def test_the_threshold_found_is_the_highest_that_reaches_the_target(
    drawn: list[tuple[LocalityType, dict[int, int] | None, bool]],
    more: int,
    share: float,
    ward: int,
    kind: LocalityType,
) -> None:
    draft = draft_of(thresholds={"central-city-ward": ward})
    # `refused`: a unit the council passed is refused at appraisal (its outcome not recognised)
    records = [
        record(f"U{i}", k, s, outcome=Outcome.NOT_RECOGNISED if refused and s is not None else None)
        for i, (k, s, refused) in enumerate(drawn)
    ]
    units = len(records) + more
    found = search(draft, records, units, share, kind)
    if found.status is SearchStatus.UNREACHABLE:
        assert not _meets(with_threshold(draft, kind, 1), records, units, share)
        return
    assert found.status is SearchStatus.FOUND and found.threshold is not None
    assert _meets(with_threshold(draft, kind, found.threshold), records, units, share)
    if found.threshold < draft.max_total:
        assert not _meets(with_threshold(draft, kind, found.threshold + 1), records, units, share)
    assert found.lower_by == draft.threshold(kind) - found.threshold
