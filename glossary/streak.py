"""Why a commendation check found the streak it found (domain/merger.py StreakReason, kept in the details of
`commendation_checked` / `commendation_due`), said to a person: the rounds of the streak, which predecessors of a
merged unit counted in each, and what ended it — naming the former communes, never their codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import glossary


def _names(units: Sequence[Mapping[str, Any]], lang: str) -> str:
    named = [f"{u.get('name')} ({u['district_name']})" if u.get("district_name") else str(u.get("name")) for u in units]
    return ", ".join(named) or glossary.term("streak", "none", lang)


def _year(basis: Mapping[str, Any]) -> str:
    return glossary.round_year(str(basis.get("round_id"))) or str(basis.get("round_id"))


def _policy(basis: Mapping[str, Any], lang: str) -> str:
    return glossary.term("merger_policy", str(basis.get("policy") or "all"), lang)


def _counted_round(basis: Mapping[str, Any], lang: str) -> str | None:
    if basis.get("source") == "past":
        return glossary.term("streak", "past", lang, year=_year(basis))
    if basis.get("source") != "predecessors":
        return None
    line = glossary.term(
        "streak",
        "predecessors",
        lang,
        year=_year(basis),
        policy=_policy(basis, lang),
        counted=_names(basis["counted"], lang),
    )
    if basis.get("missing"):
        line += "; " + glossary.term("streak", "not_counted", lang, missing=_names(basis["missing"], lang))
    return line


def _end(streak: Mapping[str, Any], lang: str) -> str | None:
    broken = streak.get("broken_by")
    if isinstance(broken, Mapping):
        if broken.get("source") == "predecessors":
            missing = _names(broken.get("missing") or [], lang)
            return glossary.term(
                "streak", "broken_predecessors", lang, year=_year(broken), missing=missing, policy=_policy(broken, lang)
            )
        return glossary.term("streak", "broken_own", lang, year=_year(broken))
    if streak.get("missing_round"):
        return glossary.term("streak", "missing_round", lang, year=_year({"round_id": streak["missing_round"]}))
    return None


def streak_lines(streak: Any, lang: str = "vi") -> list[str]:
    """The streak in lines a person reads (empty when there is no reason to tell)."""
    if not isinstance(streak, Mapping):
        return []
    rounds = [r for r in streak.get("rounds") or [] if isinstance(r, Mapping)]
    years = ", ".join(_year(r) for r in reversed(rounds))
    lines = [glossary.term("streak", "length", lang, n=streak.get("length", len(rounds)), years=years)]
    lines += [line for r in rounds if (line := _counted_round(r, lang))]
    end = _end(streak, lang)
    return [*lines, end] if end else lines
