"""The streak of a unit merged on 1 July 2025: its rounds before the merger are its predecessors' (the former
communes merged into it, `vietnamadminunits` lineage), counted under a configurable policy.

Per round (canonical, domain.rounds; a round sharing its assessment window with the canonical one counts as it):
- the unit's own result, when it has one: a closed case of this system, or an imported recognition under its own
  current code (a round after the merger);
- else its predecessors' recognitions under the policy of domain/data/merger_policy.yaml: `all` (default: the round
  counts when every predecessor was recognised in it), `any` (at least one), `majority` (more than half). A round
  none of the predecessors was recognised in is absent from the history (the streak breaks there, as for a round
  with no result). A unit not merged is its own predecessor; a unit with none has only its own results.
Every round carries its basis: where the result comes from, which predecessors counted, which were missing.
`explain_streak` says how long the streak is at the current round and what ended it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from domain.datafiles import Basis, Frozen, load_yaml_model
from domain.errors import DataFileError, RoundError
from domain.rounds import canonical_rounds, parse_round, previous_round
from domain.streaks import RoundResult, consecutive_recognitions

MERGER_FILE = Path(__file__).parent / "data" / "merger_policy.yaml"
Source = Literal["case", "past", "predecessors"]


class MergerFileError(DataFileError):
    code = "merger_policy_file_invalid"


class MergerPolicy(StrEnum):
    ALL = "all"  # every predecessor recognised in the round
    ANY = "any"  # at least one
    MAJORITY = "majority"  # more than half


class DividedRule(StrEnum):
    EVERY_SUCCESSOR = "every_successor"  # a divided commune is a predecessor of each unit that took part of it
    DEFAULT_SUCCESSOR = "default_successor"  # only of its default successor


class MergerSettings(Frozen):
    version: int = Field(ge=1, le=1)
    policy: MergerPolicy
    policy_basis: Basis
    divided: DividedRule
    divided_basis: Basis


def load_merger_settings(path: Path | str = MERGER_FILE) -> MergerSettings:
    return load_yaml_model(Path(path), MergerSettings, MergerFileError)


@cache
def merger_settings() -> MergerSettings:
    """The shipped policy (domain/data/merger_policy.yaml)."""
    return load_merger_settings()


class Predecessor(Frozen):
    """A unit before 1 July 2025 merged (wholly or in part) into the current unit."""

    code: str
    name: str
    district_name: str | None = None
    divided: bool = False  # divided among several new units
    is_default: bool = False  # ... and the current unit is its default successor


class RoundBasis(Frozen):
    """A round of the unit's history and why it counts as recognised or not."""

    round_id: str
    recognised: bool
    source: Source
    policy: MergerPolicy | None = None  # source "predecessors": the policy applied
    counted: tuple[Predecessor, ...] = ()  # predecessors recognised in the round
    missing: tuple[Predecessor, ...] = ()  # predecessors not recognised in it

    def result(self) -> RoundResult:
        return RoundResult(round_id=self.round_id, recognised=self.recognised)


class StreakReason(Frozen):
    """The streak at the current round: its rounds (latest first) and what ended it: a round not recognised
    (`broken_by`, with the predecessors missing), or a round of the timeline with no result (`missing_round`)."""

    length: int
    rounds: tuple[RoundBasis, ...]
    broken_by: RoundBasis | None = None
    missing_round: str | None = None


def canonical_id(round_id: str) -> str:
    """The canonical round of the round's assessment window (qd34-2014:2019 → qd06-2019:2019); the id itself when
    it is canonical or not a round."""
    try:
        rnd = parse_round(round_id)
    except RoundError:
        return round_id
    same = [r for r in canonical_rounds(rnd.year, rnd.year) if r.assessment_start == rnd.assessment_start]
    return same[0].id if same else round_id


def counted_predecessors(predecessors: Sequence[Predecessor], rule: DividedRule) -> list[Predecessor]:
    """The predecessors whose rounds count for the unit under the divided-commune rule."""
    if rule is DividedRule.DEFAULT_SUCCESSOR:
        return [p for p in predecessors if not p.divided or p.is_default]
    return list(predecessors)


def policy_met(policy: MergerPolicy, recognised: int, total: int) -> bool:
    if total == 0:
        return False
    if policy is MergerPolicy.ALL:
        return recognised == total
    if policy is MergerPolicy.ANY:
        return recognised > 0
    return 2 * recognised > total


def _predecessor_rounds(
    predecessors: Sequence[Predecessor], recognised: Mapping[str, Collection[str]], policy: MergerPolicy
) -> dict[str, RoundBasis]:
    by_round: dict[str, set[str]] = {}
    for p in predecessors:
        for rid in recognised.get(p.code, ()):
            by_round.setdefault(canonical_id(rid), set()).add(p.code)
    out: dict[str, RoundBasis] = {}
    for rid, codes in by_round.items():
        counted = tuple(p for p in predecessors if p.code in codes)
        missing = tuple(p for p in predecessors if p.code not in codes)
        out[rid] = RoundBasis(
            round_id=rid,
            recognised=policy_met(policy, len(counted), len(predecessors)),
            source="predecessors",
            policy=policy,
            counted=counted,
            missing=missing,
        )
    return out


def _window(round_id: str) -> tuple[int, str]:
    try:
        rnd = parse_round(round_id)
    except RoundError:
        return (0, round_id)
    return (rnd.assessment_start.toordinal(), round_id)


def merged_history(
    *,
    own_cases: Mapping[str, bool],
    own_past: Collection[str],
    predecessors: Sequence[Predecessor],
    recognised: Mapping[str, Collection[str]],
    settings: MergerSettings,
) -> list[RoundBasis]:
    """The unit's history, oldest first: `own_cases` (round → recognised, its closed cases), `own_past` (rounds an
    imported recognition under its current code covers), then its predecessors' recognitions (`recognised`: former
    code → rounds) under the settings' policy for the rounds the unit has no result of its own."""
    counted = counted_predecessors(predecessors, settings.divided)
    bases = _predecessor_rounds(counted, recognised, settings.policy)
    for rid in own_past:
        bases[canonical_id(rid)] = RoundBasis(round_id=canonical_id(rid), recognised=True, source="past")
    for rid, ok in own_cases.items():
        bases[canonical_id(rid)] = RoundBasis(round_id=canonical_id(rid), recognised=ok, source="case")
    return sorted(bases.values(), key=lambda b: _window(b.round_id))


def explain_streak(history: Sequence[RoundBasis], current_round_id: str) -> StreakReason:
    """The streak ending with the current round (recognised: the check follows a recognition) over `history` (the
    rounds before it), and what ended it."""
    current = canonical_id(current_round_id)
    entries = [b for b in history if b.round_id != current]
    entries.append(RoundBasis(round_id=current, recognised=True, source="case"))
    entries.sort(key=lambda b: _window(b.round_id))
    length = consecutive_recognitions([b.result() for b in entries])
    streak = tuple(reversed(entries[len(entries) - length :])) if length else ()
    earliest = streak[-1] if streak else entries[-1]
    expected = previous_round(parse_round(earliest.round_id))
    if expected is None:
        return StreakReason(length=length, rounds=streak)
    before = {b.round_id: b for b in entries}.get(canonical_id(expected.id))
    if before is None:
        return StreakReason(length=length, rounds=streak, missing_round=canonical_id(expected.id))
    return StreakReason(length=length, rounds=streak, broken_by=before)
