"""Score refusals in the page's language: every kind of ScoreError the domain raises has its Vietnamese wording,
and the validator's refusal of `scores` / `scores.N` is worded again from the typed form."""

from __future__ import annotations

import pytest

from domain.errors import ScoreError
from domain.rulesets import load_rule_set
from domain.verdict import check_scores
from web.refusals import SCORE_VI, score_error_text, score_refusal_text

RULES = load_rule_set("qd06-2019")


@pytest.mark.parametrize(
    ("scores", "kind", "vi"),
    [
        ({1: 80}, "above_maximum", "80 điểm vượt quá mức tối đa 75 điểm của tiêu chí này"),
        ({3: -1}, "negative", "số điểm không được âm (đã nhập -1)"),
        ({2: "7,5"}, "not_whole", "số điểm phải là số nguyên (đã nhập “7,5”)"),
        ({99: 1}, "unknown_criterion", f"bộ tiêu chí chỉ có các tiêu chí từ 1 đến {len(RULES.criteria)}"),
    ],
)
def test_each_kind_of_bad_score_reads_in_vietnamese_and_in_english(scores: dict, kind: str, vi: str) -> None:
    with pytest.raises(ScoreError) as caught:
        check_scores(RULES, scores)
    assert caught.value.kind == kind and kind in SCORE_VI
    assert score_error_text(caught.value, "vi") == vi
    assert score_error_text(caught.value, "en") == caught.value.reason  # the domain's English


def test_the_validators_refusal_is_worded_from_the_typed_form() -> None:
    form = {f"score-{c.number}": str(c.max_points) for c in RULES.criteria}
    over = form | {"score-6": "126"}
    english = "126 points is above the maximum of 125 for this criterion"
    assert score_refusal_text("scores.6", english, over, RULES, "vi") == (
        "126 điểm vượt quá mức tối đa 125 điểm của tiêu chí này"
    )
    assert score_refusal_text("scores.6", english, over, RULES, "en") == english
    unscored = {k: v for k, v in form.items() if k not in ("score-2", "score-9")}
    assert score_refusal_text("scores", "no score for criterion 2, 9", unscored, RULES, "vi") == (
        "chưa chấm điểm tiêu chí 2, 9: mọi tiêu chí đều phải được chấm"
    )
    # a field that is not a score keeps the validator's words
    assert score_refusal_text("posted_to", "ends before posted_from", form, RULES, "vi") == "ends before posted_from"
