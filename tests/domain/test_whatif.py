"""The what-if under a draft rule set (domain/whatif.py): the draft is read only as a draft and never decides a case;
the criteria mapping moves, merges (capped) and drops points and reports what it leaves unmapped; each unit's verdict
under the draft comes from domain/verdict.evaluate; shares against the target; the threshold search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import domain.rulesets as rulesets
from domain.errors import RoundError, RuleSetFileError
from domain.rounds import parse_round
from domain.rulesets import RuleSet, load_rule_set
from domain.stages import LocalityType, Outcome
from domain.targets import Target
from domain.verdict import ReasonCode, evaluate
from domain.whatif import Flip, ProvinceScope, UnitRecord, evaluate_unit, what_if
from domain.whatif_files import (
    CriteriaMapping,
    DraftFileError,
    MappingCriterionError,
    MappingFileError,
    MappingNeededError,
    draft_scores,
    load_draft,
    load_mapping,
    parse_draft,
    parse_mapping,
    resolve_mapping,
)

DATA = Path(__file__).resolve().parents[1] / "whatif" / "data"
OFFICIAL = load_rule_set("qd06-2019")
WARD, OTHER, MOUNTAIN = LocalityType.CENTRAL_CITY_WARD, LocalityType.OTHER, LocalityType.MOUNTAIN_ISLAND_DISADVANTAGED
FULL = {c.number: c.max_points for c in OFFICIAL.criteria}


def draft_of(**changes: Any) -> RuleSet:
    """QĐ 06/QĐ-TTg as a draft, with `changes` to its fields (thresholds by locality type as points)."""
    data = OFFICIAL.model_dump(mode="json", by_alias=True, exclude_none=True)
    data |= {"id": "draft-test", "draft": True}
    for kind, points in changes.pop("thresholds", {}).items():
        data["thresholds"][kind] = {"points": points, "assumed": True, "note": "test"}
    data |= changes
    return RuleSet.model_validate(data)


def scores(**points: int) -> dict[int, int]:
    """Full marks but for `c<n>=points`."""
    return FULL | {int(k[1:]): v for k, v in points.items()}


def record(
    unit: str, kind: LocalityType, sheet: dict[int, int] | None, province: str = "33", outcome: Outcome | None = None
) -> UnitRecord:
    """A decided unit; its outcome, unless given, as its council verdict had it (no verdict: not registered)."""
    verdict = evaluate(OFFICIAL, kind, sheet) if sheet is not None else None
    if outcome is None:
        outcome = (
            Outcome.NOT_REGISTERED
            if verdict is None
            else (Outcome.RECOGNISED if verdict.recognised else Outcome.NOT_RECOGNISED)
        )
    return UnitRecord(
        unit_code=unit,
        unit_name=f"Xã {unit}",
        province_code=province,
        locality_type=kind,
        outcome=outcome,
        scores=sheet or {},
        verdict=verdict,
    )


def target(share: float, province: str = "33") -> Target:
    return Target(province_code=province, first_year=2026, last_year=2030, share=share, plan="KH 1/KH-UBND")


# -- the draft is only a draft ---------------------------------------------------------------------------------------
def test_the_shipped_test_draft_loads_and_its_mapping_drops_criterion_7() -> None:
    draft = load_draft(DATA / "draft-ward-950.yaml")
    assert draft.draft and draft.threshold(WARD) == 950 and draft.max_total == 950 and len(draft.criteria) == 12
    resolved = resolve_mapping(OFFICIAL, draft, load_mapping(DATA / "mapping-drop-7.yaml"))
    assert [d.number for d in resolved.dropped] == [7] and resolved.unmapped == [] and resolved.unscored == []
    assert resolved.targets[8] == 7 and resolved.targets[13] == 12


def test_a_file_not_marked_draft_is_refused_naming_the_field(tmp_path: Path) -> None:
    text = (DATA / "draft-ward-950.yaml").read_text(encoding="utf-8").replace("draft: true", "draft: false")
    with pytest.raises(DraftFileError) as caught:
        parse_draft(text, "d.yaml")
    assert caught.value.where == "draft" and "draft: true" in caught.value.reason
    with pytest.raises(DraftFileError, match="draft"):
        load_draft(rulesets.RULES_DIR / "qd06-2019.yaml")  # a shipped rule set is no draft


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("max_total: 950", "max_total: 900", "max_total"),  # the criteria add up to 950
        ("    points: 950", "    points: 0", "thresholds.central-city-ward.points"),
        ("id: draft-2026", "id: Draft 2026", "id"),
        ("max_total: 950", "max_total: 950\nsurprise: 1", "surprise"),
    ],
)
def test_a_draft_failing_the_schema_is_refused_naming_the_field(old: str, new: str, field: str) -> None:
    text = (DATA / "draft-ward-950.yaml").read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(DraftFileError) as caught:
        parse_draft(text.replace(old, new, 1), "upload.yaml")
    assert caught.value.where == field, caught.value
    assert str(caught.value).startswith("upload.yaml: ")


def test_not_yaml_and_no_file_are_refused() -> None:
    with pytest.raises(DraftFileError, match="not valid YAML"):
        parse_draft("id: [unclosed", "x.yaml")
    with pytest.raises(DraftFileError, match="no such file"):
        load_draft("/nonexistent/draft.yaml")
    with pytest.raises(MappingFileError, match="expected a mapping"):
        parse_mapping("- 1\n- 2\n", "m.yaml")


def test_load_rule_set_refuses_a_draft_marked_file_even_under_a_shipped_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (rulesets.RULES_DIR / "qd06-2019.yaml").read_text(encoding="utf-8")
    (tmp_path / "qd06-2019.yaml").write_text(text + "\ndraft: true\n", encoding="utf-8")
    monkeypatch.setattr(rulesets, "RULES_DIR", tmp_path)
    load_rule_set.cache_clear()
    try:
        with pytest.raises(RuleSetFileError) as caught:
            load_rule_set("qd06-2019")
        assert caught.value.where == "draft"
        with pytest.raises(RuleSetFileError):
            parse_round("qd06-2019:2027")  # no round (hence no case) can be opened under it
    finally:
        monkeypatch.undo()
        load_rule_set.cache_clear()
    assert not load_rule_set("qd06-2019").draft


def test_no_round_or_case_can_name_the_drafts_id() -> None:
    draft = load_draft(DATA / "draft-ward-950.yaml")
    with pytest.raises(RoundError, match="unknown rule set"):
        parse_round(f"{draft.id}:2027")


# -- the mapping ----------------------------------------------------------------------------------------------------
def test_without_a_mapping_the_numbering_must_fit() -> None:
    same = resolve_mapping(OFFICIAL, draft_of(), None)
    assert same.identity and same.targets == {n: n for n in range(1, 14)}
    with pytest.raises(MappingNeededError) as caught:
        resolve_mapping(OFFICIAL, load_draft(DATA / "draft-ward-950.yaml"), None)
    assert caught.value.official_only == [13] and caught.value.draft_only == []
    assert "a criteria mapping is needed" in str(caught.value) and ": 13;" in str(caught.value)


def test_a_mapping_naming_unknown_criteria_is_refused_naming_each() -> None:
    draft = load_draft(DATA / "draft-ward-950.yaml")
    mapping = CriteriaMapping(criteria={14: 1, 2: 13, 1: 1})
    with pytest.raises(MappingCriterionError) as caught:
        resolve_mapping(OFFICIAL, draft, mapping)
    assert [f for f, _ in caught.value.problems] == ["criteria.2", "criteria.14"]
    assert (caught.value.unknown_official, caught.value.unknown_draft) == ([14], [13])
    assert "draft criterion 13 is not a criterion of draft-2026" in str(caught.value)
    assert "criterion 14 is not a criterion of qd06-2019" in str(caught.value)


def test_a_mapping_value_neither_a_number_nor_dropped_is_refused_naming_it() -> None:
    with pytest.raises(MappingFileError) as caught:
        parse_mapping("criteria:\n  1: 1\n  7: gone\n", "m.yaml")
    assert caught.value.where.startswith("criteria[7]") and "dropped" in caught.value.reason, caught.value


@pytest.mark.parametrize(
    ("text", "kind", "ctx"),
    [
        ("id: [unclosed", "yaml", {}),
        ("criteria:\n  1: 1\n   7: x\n", "yaml", {"line": "3", "column": "5"}),
        ("- 1\n", "not_mapping", {}),
        ("criteria:\n  1: 1\nextra: 2\n", "extra_forbidden", {}),
        ("criteria: {}\n", "too_short", {"min_length": "1"}),
    ],
)
def test_a_file_error_says_what_kind_of_problem_it_is(text: str, kind: str, ctx: dict[str, str]) -> None:
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(text, "m.yaml")
    assert caught.value.kind == kind, caught.value
    assert ctx.items() <= (caught.value.ctx or {}).items()
    draft = (DATA / "draft-ward-950.yaml").read_text(encoding="utf-8")
    with pytest.raises(DraftFileError) as unmarked:
        parse_draft(draft.replace("draft: true", "draft: false"), "d.yaml")
    assert unmarked.value.kind == "not_draft"
    with pytest.raises(DraftFileError) as summed:
        parse_draft(draft.replace("max_total: 950", "max_total: 900"), "d.yaml")
    assert (summed.value.kind, (summed.value.ctx or {}).get("field")) == ("field_problem", "max_total")


def test_unmapped_criteria_are_reported_by_name_and_count_nowhere() -> None:
    draft = load_draft(DATA / "draft-ward-950.yaml")
    text = (DATA / "mapping-drop-7.yaml").read_text(encoding="utf-8").replace("  13: 12\n", "")
    resolved = resolve_mapping(OFFICIAL, draft, parse_mapping(text, "m.yaml"))
    assert [(c.number, c.name_vi) for c in resolved.unmapped] == [(13, OFFICIAL.criterion(13).name_vi)]
    assert [c.number for c in resolved.unscored] == [12]  # the draft's 12 gets no score: every unit misses it
    unit = evaluate_unit(record("00001", OTHER, FULL), draft, resolved)
    assert unit.draft is not None and not unit.draft.recognised and unit.flip is Flip.LOST
    assert [(r.code, r.criterion) for r in unit.draft.reasons] == [(ReasonCode.MISSING_CRITERION, 12)]


def test_merged_criteria_add_up_and_are_capped_at_the_draft_maximum() -> None:
    # criteria 12 and 13 (75 each) merge into one draft criterion 12 of at most 100 points
    criteria = [c.model_dump(mode="json") for c in OFFICIAL.criteria[:11]]
    merged = OFFICIAL.criterion(12).model_dump(mode="json") | {"max_points": 100}
    draft = draft_of(criteria=[*criteria, merged], max_total=1000 - 150 + 100)
    mapping = resolve_mapping(OFFICIAL, draft, CriteriaMapping(criteria={n: min(n, 12) for n in range(1, 14)}))
    moved, caps = draft_scores(scores(c12=40, c13=70), mapping, draft)
    assert moved[12] == 100 and len(moved) == 12
    assert [(c.criterion, c.official_criteria, c.points, c.maximum) for c in caps] == [(12, [12, 13], 110, 100)]
    moved, caps = draft_scores(scores(c12=40, c13=50), mapping, draft)
    assert moved[12] == 90 and caps == []


# -- the units -------------------------------------------------------------------------------------------------------
def test_a_ward_at_920_loses_and_a_unit_whose_only_zero_was_criterion_7_gains() -> None:
    draft = load_draft(DATA / "draft-ward-950.yaml")
    mapping = resolve_mapping(OFFICIAL, draft, load_mapping(DATA / "mapping-drop-7.yaml"))
    ward = evaluate_unit(record("W", WARD, scores(c1=35, c3=35)), draft, mapping)
    assert ward.official is not None and ward.official.recognised and ward.official.total == 920
    assert ward.draft is not None and ward.draft.total == 870 and not ward.draft.recognised
    assert ward.flip is Flip.LOST and [r.code for r in ward.draft.reasons] == [ReasonCode.BELOW_THRESHOLD]
    zero7 = evaluate_unit(record("Z", OTHER, scores(c7=0)), draft, mapping)
    assert zero7.official is not None and [(r.code, r.criterion) for r in zero7.official.reasons] == [
        (ReasonCode.ZERO_CRITERION, 7)
    ]
    assert zero7.draft is not None and zero7.draft.recognised and zero7.flip is Flip.GAINED and zero7.flipped
    same = evaluate_unit(record("S", OTHER, scores(c3=0)), draft, mapping)
    assert same.flip is None and not same.flipped
    never = evaluate_unit(record("N", OTHER, None), draft, mapping)
    assert never.official is None and never.draft is None and never.flip is None


def test_shares_count_over_the_provinces_units_against_its_target() -> None:
    draft = load_draft(DATA / "draft-ward-950.yaml")
    mapping = resolve_mapping(OFFICIAL, draft, load_mapping(DATA / "mapping-drop-7.yaml"))
    records = [
        record("A", WARD, scores(c3=35)),  # 960: official yes, draft 910 no
        record("B", OTHER, scores(c7=0)),  # official no (zero), draft yes
        record("C", OTHER, FULL),  # both
        record("D", OTHER, None),  # never assessed
        record("E", OTHER, FULL, province="01"),
    ]
    scopes = [
        ProvinceScope(code="33", name="Hưng Yên", units=5, target=target(0.4)),
        ProvinceScope(code="01", name="Hà Nội", units=2, target=None),
    ]
    out = what_if(OFFICIAL, draft, mapping, records, scopes)
    hy, hn = out.provinces
    assert (hy.units, hy.assessed, hy.official_recognised, hy.draft_recognised) == (5, 3, 2, 2)
    assert (hy.official_share, hy.official_meets, hy.draft_meets) == (0.4, True, True)
    assert (hn.official_share, hn.official_meets) == (0.5, None)
    assert (out.national.units, out.national.official_recognised, out.national.draft_recognised) == (7, 3, 3)
    assert sorted((u.unit_code, u.flip) for u in out.units if u.flipped) == [("A", Flip.LOST), ("B", Flip.GAINED)]


def test_the_official_result_is_the_outcome_and_a_unit_refused_after_the_council_never_counts() -> None:
    draft = load_draft(DATA / "draft-ward-950.yaml")
    mapping = resolve_mapping(OFFICIAL, draft, load_mapping(DATA / "mapping-drop-7.yaml"))
    records = [
        record("P", OTHER, FULL, outcome=Outcome.NOT_RECOGNISED),  # the council passed it, appraisal refused it
        record("Q", OTHER, FULL, outcome=Outcome.WITHDRAWN),  # passed, then withdrawn
        record("R", OTHER, scores(c7=0), outcome=Outcome.WITHDRAWN),  # failed on 7, withdrawn: the draft passes it
        record("S", OTHER, scores(c1=5, c2=25)),  # 880: recognised; 830 under the draft
    ]
    scope = ProvinceScope(code="33", name="Hưng Yên", units=4, target=target(0.5), undecided=2)
    out = what_if(OFFICIAL, draft, mapping, records, [scope])
    units = {u.unit_code: u for u in out.units}
    for code in "PQ":
        unit = units[code]
        assert unit.refused_after_council and not unit.flipped, unit
        assert not unit.official_recognised and not unit.draft_recognised
        assert unit.official is not None and unit.official.recognised  # the council's why, kept
        assert unit.draft is not None and unit.draft.recognised  # the draft's verdict, which does not count
    assert units["R"].flip is Flip.GAINED and not units["R"].refused_after_council
    (hy,) = out.provinces
    assert (hy.official_recognised, hy.draft_recognised, hy.refused_after_council, hy.undecided) == (1, 1, 2, 2)
    assert (out.national.undecided, out.national.refused_after_council) == (2, 2)
    other = next(f for f in out.thresholds if f.locality_type is OTHER)
    # 2 of 4 needed, all of one type: R (950) and S (830) are the only ones that count (P and Q at 950 never do)
    assert (other.status.value, other.threshold) == ("found", 830)
