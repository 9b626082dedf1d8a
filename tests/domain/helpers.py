"""Score sheets built from a rule set's own data, so tests follow the rule files rather than copy them."""

from __future__ import annotations

from domain.rulesets import RuleSet


def full_marks(rule_set: RuleSet) -> dict[int, int]:
    return {c.number: c.max_points for c in rule_set.criteria}


def scores_totalling(rule_set: RuleSet, total: int) -> dict[int, int]:
    """Every criterion scored at least 1, adding up to exactly `total`."""
    scores = full_marks(rule_set)
    excess = sum(scores.values()) - total
    if excess < 0 or total < len(scores):
        raise ValueError(f"{total} cannot be reached in {rule_set.id}")
    for number in sorted(scores, reverse=True):
        cut = min(excess, scores[number] - 1)
        scores[number] -= cut
        excess -= cut
    assert sum(scores.values()) == total and min(scores.values()) >= 1
    return scores
