"""The streak of a merged unit: its predecessors' rounds under the policy, each round with its basis."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.merger import (
    DividedRule,
    MergerFileError,
    MergerPolicy,
    MergerSettings,
    Predecessor,
    RoundBasis,
    canonical_id,
    explain_streak,
    load_merger_settings,
    merged_history,
    merger_settings,
    policy_met,
)
from domain.procedure import load_profile
from domain.streaks import commendation_due, consecutive_recognitions

R19, R22, R24, R27 = "qd06-2019:2019", "qd06-2019:2022", "qd06-2019:2024", "qd06-2019:2027"
A = Predecessor(code="12100", name="Xã An Bình", district_name="Huyện Tiên Lữ")
B = Predecessor(code="12103", name="Xã Cương Chính", district_name="Huyện Tiên Lữ")
C = Predecessor(code="12106", name="Xã Dị Chế", district_name="Huyện Tiên Lữ", divided=True, is_default=False)


def settings(policy: str = "all", divided: str = "every_successor") -> MergerSettings:
    return merger_settings().model_copy(update={"policy": MergerPolicy(policy), "divided": DividedRule(divided)})


def history(recognised: dict[str, set[str]], *, preds: tuple[Predecessor, ...] = (A, B), **kw: str) -> list[RoundBasis]:
    return merged_history(
        own_cases={}, own_past=set(), predecessors=preds, recognised=recognised, settings=settings(**kw)
    )


def test_the_shipped_policy_is_all_with_its_reason() -> None:
    shipped = merger_settings()
    assert shipped.policy is MergerPolicy.ALL
    assert shipped.divided is DividedRule.EVERY_SUCCESSOR
    assert shipped.policy_basis.assumed and "all" in (shipped.policy_basis.note or "")


@pytest.mark.parametrize(
    ("policy", "recognised", "total", "met"),
    [
        ("all", 2, 2, True),
        ("all", 1, 2, False),
        ("any", 1, 3, True),
        ("any", 0, 3, False),
        ("majority", 2, 3, True),
        ("majority", 1, 2, False),
        ("all", 0, 0, False),
    ],
)
def test_each_policy_counts_a_round_as_documented(policy: str, recognised: int, total: int, met: bool) -> None:
    assert policy_met(MergerPolicy(policy), recognised, total) is met


def test_under_all_a_round_counts_only_when_every_predecessor_was_recognised() -> None:
    bases = history({A.code: {R22, R24}, B.code: {R22}})
    assert [(b.round_id, b.recognised) for b in bases] == [(R22, True), (R24, False)]
    assert bases[0].counted == (A, B) and bases[0].missing == ()
    assert bases[1].counted == (A,) and bases[1].missing == (B,)
    assert all(b.source == "predecessors" and b.policy is MergerPolicy.ALL for b in bases)


def test_under_any_one_recognised_predecessor_carries_the_round() -> None:
    bases = history({A.code: {R22, R24}, B.code: {R22}}, policy="any")
    assert [(b.round_id, b.recognised) for b in bases] == [(R22, True), (R24, True)]


def test_a_merged_unit_whose_predecessors_were_all_recognised_twice_is_due_at_three() -> None:
    bases = history({A.code: {R22, R24}, B.code: {R22, R24}})
    reason = explain_streak(bases, R27)
    assert reason.length == 3
    assert [r.round_id for r in reason.rounds] == [R27, R24, R22]
    assert reason.broken_by is None and reason.missing_round == R19
    due = commendation_due([*(b.result() for b in bases), reason.rounds[0].result()], load_profile("two-tier"))
    assert due is not None and due.consecutive == 3


def test_a_predecessor_missing_in_2024_breaks_the_streak_and_is_named() -> None:
    bases = history({A.code: {R19, R22, R24}, B.code: {R19, R22}})
    reason = explain_streak(bases, R27)
    assert reason.length == 1
    assert reason.broken_by is not None
    assert (reason.broken_by.round_id, reason.broken_by.missing) == (R24, (B,))
    assert consecutive_recognitions([*(b.result() for b in bases), reason.rounds[0].result()]) == 1


def test_a_divided_commune_counts_for_every_successor_unless_the_rule_says_default_only() -> None:
    every = history({A.code: {R24}}, preds=(A, C))
    assert every[0].recognised is False and every[0].missing == (C,)
    default_only = history({A.code: {R24}}, preds=(A, C), divided="default_successor")
    assert default_only[0].recognised is True and default_only[0].counted == (A,)


def test_a_unit_not_merged_is_its_own_predecessor() -> None:
    itself = Predecessor(code="12100", name="Xã An Bình")
    bases = history({"12100": {R22, R24}}, preds=(itself,))
    assert explain_streak(bases, R27).length == 3


def test_a_wholly_new_unit_has_only_its_own_rounds() -> None:
    bases = merged_history(
        own_cases={R24: True}, own_past=set(), predecessors=(), recognised={"12100": {R22}}, settings=settings()
    )
    assert [(b.round_id, b.source) for b in bases] == [(R24, "case")]
    reason = explain_streak(bases, R27)
    assert (reason.length, reason.missing_round) == (2, R22)


def test_the_units_own_results_win_over_its_predecessors() -> None:
    bases = merged_history(
        own_cases={R24: False},
        own_past={R22},
        predecessors=(A,),
        recognised={A.code: {R22, R24}},
        settings=settings(),
    )
    assert [(b.round_id, b.recognised, b.source) for b in bases] == [(R22, True, "past"), (R24, False, "case")]
    assert explain_streak(bases, R27).broken_by is not None


def test_a_round_sharing_the_canonical_window_counts_as_it() -> None:
    assert canonical_id("qd34-2014:2019") == R19
    assert canonical_id(R22) == R22
    assert canonical_id("nonsense") == "nonsense"
    bases = history({A.code: {"qd34-2014:2019"}, B.code: {R19}})
    assert [(b.round_id, b.recognised) for b in bases] == [(R19, True)]


def test_the_current_round_in_the_history_is_not_counted_twice() -> None:
    bases = history({A.code: {R24, R27}, B.code: {R24, R27}})
    assert explain_streak(bases, R27).length == 2


def test_a_bad_policy_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "merger.yaml"
    bad.write_text(
        "version: 1\npolicy: most\npolicy_basis: {assumed: true, note: x}\n"
        "divided: every_successor\ndivided_basis: {assumed: true, note: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(MergerFileError) as exc:
        load_merger_settings(bad)
    assert exc.value.where == "policy"


def test_the_reason_is_told_in_vietnamese_by_name_and_in_english_on_request() -> None:
    from glossary.streak import streak_lines

    bases = history({A.code: {R19, R22, R24}, B.code: {R22, R24}})
    told = streak_lines(explain_streak(bases, R27).model_dump(mode="json"))
    assert told == [
        "Được công nhận 3 kỳ liên tục (năm 2022, 2024, 2027)",
        "Năm 2024: tính theo các đơn vị trước sáp nhập (quy tắc: mọi đơn vị trước sáp nhập đều được công nhận); "
        "đã được công nhận: Xã An Bình (Huyện Tiên Lữ), Xã Cương Chính (Huyện Tiên Lữ)",
        "Năm 2022: tính theo các đơn vị trước sáp nhập (quy tắc: mọi đơn vị trước sáp nhập đều được công nhận); "
        "đã được công nhận: Xã An Bình (Huyện Tiên Lữ), Xã Cương Chính (Huyện Tiên Lữ)",
        "Chuỗi dừng ở năm 2019: Xã Cương Chính (Huyện Tiên Lữ) chưa được công nhận "
        "(quy tắc: mọi đơn vị trước sáp nhập đều được công nhận)",
    ]
    own = merged_history(own_cases={R24: True}, own_past={R22}, predecessors=(), recognised={}, settings=settings())
    english = streak_lines(explain_streak(own, R27).model_dump(mode="json"), "en")
    assert english == [
        "Recognised 3 rounds in a row (2022, 2024, 2027)",
        "2022: the unit was recognised (an imported decision)",
        "The streak stops at 2019: no result for that round",
    ]
    assert streak_lines(None) == [] and streak_lines("x") == []
