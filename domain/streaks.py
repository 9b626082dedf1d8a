"""Commendation streaks: how many rounds in a row a unit has been recognised, and which commendation is now due.

Rounds chain along the national timeline of canonical rounds (domain.rounds): across rule sets in date order, so
qd34-2014:2018 → qd06-2019:2019 → qd06-2019:2022 is three in a row. A round of the timeline missing from the history
breaks the streak, as does a round not recognised. A round that shares its assessment window with the canonical one
(qd34-2014:2019 beside qd06-2019:2019) stands in for it.

Commendation: a level is due when the streak is a multiple of its count (levels with `repeats: false` only at the
count itself); when several are due (15 in a row: 3 and 5), the highest is given. So with levels 3 and 5:
3 → 3, 5 → 5, 6 → 3, 9 → 3, 10 → 5, 12 → 3, 15 → 5; 4, 7, 8, 11 → none.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from pydantic import BaseModel, ConfigDict

from domain.errors import HistoryError
from domain.procedure import CommendationLevel, ProcedureProfile
from domain.rounds import Round, parse_round, previous_round


class RoundResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    round_id: str
    recognised: bool


def _ordered(history: Sequence[RoundResult]) -> list[tuple[Round, bool]]:
    """The history as (round, recognised) in date order; two results for one assessment window are refused."""
    entries = sorted(((parse_round(r.round_id), r.recognised) for r in history), key=lambda e: e[0].assessment_start)
    for (a, _), (b, _) in pairwise(entries):
        if a.assessment_start == b.assessment_start:
            raise HistoryError(f"rounds {a.id} and {b.id} are the same assessment; keep one result per round")
    return entries


def consecutive_recognitions(history: Sequence[RoundResult]) -> int:
    """Recognitions in a row ending with the latest round of the history (0 when that round was not recognised).
    The history may come in any order; its latest round is the current one."""
    entries = _ordered(history)
    streak = 0
    expected: Round | None = None
    for round_, recognised in reversed(entries):
        if not recognised:
            break
        if expected is not None and round_.assessment_start != expected.assessment_start:
            break  # a round of the timeline is missing between this one and the next
        streak += 1
        expected = previous_round(round_)
        if expected is None:
            break
    return streak


def level_due(streak: int, profile: ProcedureProfile) -> CommendationLevel | None:
    """The highest commendation level due at this streak length, per the profile's levels."""
    due = [
        level
        for level in profile.commendations
        if streak > 0 and (streak == level.consecutive or (level.repeats and streak % level.consecutive == 0))
    ]
    return max(due, key=lambda level: level.consecutive) if due else None


def commendation_due(history: Sequence[RoundResult], profile: ProcedureProfile) -> CommendationLevel | None:
    """The commendation due at the history's latest round, or None."""
    return level_due(consecutive_recognitions(history), profile)
