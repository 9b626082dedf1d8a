"""A case's journal checked: the chain itself, then the anchors kept elsewhere, then the archived histories.

- the chain (audit/chain.py): every row hashes to its stored hash and points at its predecessor, seqs 1..n;
- anchors: the case row's `last_seq` (the journal reaches it) and each archive's journal head (the row it saw at
  that seq still has the hash it saw) — these catch rows removed from, or rewritten at, the end of the chain;
- witnesses (audit/witness.py): each transition in an archived history matches its journal row;
- actors (when the officials are given: `verify_case`, `verify_all`; not an offline bundle): every row's actor is an
  official who existed at the row's time and holds the row's role over its unit. Role assignments carry no validity
  dates yet, so the role is checked against the assignments as they stand when verifying: a role withdrawn since is
  reported, a role granted after the fact is not.
A superuser who rewrites the journal, the case row and the archives consistently is caught only by a copy kept
outside the database: an exported bundle, or a published head hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from audit.chain import Finding, JournalRecord, check_chain
from audit.witness import compare_with_history, witnesses
from domain.access import RoleScope, may_act
from domain.stages import Role


class HeadAnchor(BaseModel):
    """The journal head as something outside the journal recorded it."""

    model_config = ConfigDict(frozen=True)

    source: str  # e.g. "archive of run 1f2e…"
    seq: int
    hash: str


class OfficialOnRecord(BaseModel):
    """An official as the `officials` and `role_assignments` tables hold them when verifying."""

    model_config = ConfigDict(frozen=True)

    official_id: str
    created_at: datetime
    scopes: tuple[RoleScope, ...] = ()


def check_actors(
    case_id: str, records: Iterable[JournalRecord], *, province_code: str, officials: Mapping[str, OfficialOnRecord]
) -> list[Finding]:
    """Every row whose actor is not an official who existed at the row's time (`unknown_actor`), or who holds no
    assignment of the row's role over its unit (`actor_without_role`). Rows without an actor (deadlines, the round)
    are the procedure's own. The assignments are those of today: they carry no validity dates yet."""
    problems: list[Finding] = []
    for rec in records:
        if rec.actor_id is None:
            continue
        found = _actor_problem(rec, officials.get(rec.actor_id), province_code)
        if found is not None:
            kind, detail = found
            problems.append(Finding(case_id=case_id, seq=rec.seq, kind=kind, detail=detail))
    return problems


def _actor_problem(rec: JournalRecord, official: OfficialOnRecord | None, province_code: str) -> tuple[str, str] | None:
    """(kind, detail) of what is wrong with the actor of a row that has one (`official`: as on record), or None."""
    if official is None or official.created_at > datetime.fromisoformat(rec.occurred_at):
        when = "" if official is None else f" before {official.created_at.isoformat()}"
        return "unknown_actor", (
            f"row seq {rec.seq} names official {rec.actor_id} as its actor at {rec.occurred_at}; "
            f"no such official existed{when}"
        )
    role = Role(rec.actor_role) if rec.actor_role in {r.value for r in Role} else None
    if role is None or not may_act(official.scopes, role, rec.unit_code, province_code):
        return "actor_without_role", (
            f"row seq {rec.seq}: official {rec.actor_id} holds no role {rec.actor_role} over unit "
            f"{rec.unit_code} (province {province_code}) in the role assignments"
        )
    return None


class CaseVerification(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    rows: int
    head_seq: int | None
    head_hash: str | None
    histories_checked: int
    ok: bool
    first_problem: Finding | None
    problems: list[Finding]

    def summary(self) -> str:
        if self.ok:
            return f"case {self.case_id}: the chain holds ({self.rows} rows, head seq {self.head_seq})"
        first = self.first_problem
        assert first is not None
        return f"case {self.case_id}: BROKEN at seq {first.seq} ({first.kind}): {first.detail}"


def verify_records(
    case_id: str,
    records: Sequence[JournalRecord],
    *,
    last_seq: int | None = None,
    anchors: Iterable[HeadAnchor] = (),
    histories: Iterable[tuple[str, Mapping[str, Any]]] = (),
    actors: tuple[str, Mapping[str, OfficialOnRecord]] | None = None,
) -> CaseVerification:
    """Check one case's rows. `histories`: (run id, history JSON) of its archived runs; `actors`: the case's
    province and the officials on record (None: the actors are not checked, e.g. in an offline bundle)."""
    problems = list(check_chain(case_id, records))
    by_seq = {r.seq: r for r in records}
    end = max(by_seq) if by_seq else 0
    if last_seq is not None and last_seq > end:
        problems.append(
            Finding(
                case_id=case_id,
                seq=end + 1,
                kind="missing",
                detail=f"the case row records transitions up to seq {last_seq}; the journal ends at seq {end}",
            )
        )
    for anchor in anchors:
        rec = by_seq.get(anchor.seq)
        if rec is None or rec.hash != anchor.hash:
            what = "is missing" if rec is None else f"has hash {rec.hash[:16]}…"
            problems.append(
                Finding(
                    case_id=case_id,
                    seq=anchor.seq,
                    kind="anchor",
                    detail=f"the {anchor.source} saw row seq {anchor.seq} with hash {anchor.hash[:16]}…; it now {what}",
                )
            )
    checked = 0
    for run_id, history in histories:
        problems.extend(compare_with_history(case_id, records, witnesses(history), run_id=run_id))
        checked += 1
    if actors is not None:
        province_code, officials = actors
        problems.extend(check_actors(case_id, records, province_code=province_code, officials=officials))
    problems.sort(key=lambda f: f.seq)
    head = by_seq.get(end)
    return CaseVerification(
        case_id=case_id,
        rows=len(records),
        head_seq=head.seq if head else None,
        head_hash=head.hash if head else None,
        histories_checked=checked,
        ok=not problems,
        first_problem=problems[0] if problems else None,
        problems=problems,
    )
