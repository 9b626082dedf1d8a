"""A case's journal checked: the chain itself, then the anchors kept elsewhere, then the archived histories.

- the chain (audit/chain.py): every row hashes to its stored hash and points at its predecessor, seqs 1..n;
- anchors: the case row's `last_seq` (the journal reaches it) and each archive's journal head (the row it saw at
  that seq still has the hash it saw) — these catch rows removed from, or rewritten at, the end of the chain;
- witnesses (audit/witness.py): each transition in an archived history matches its journal row.
A superuser who rewrites the journal, the case row and the archives consistently is caught only by a copy kept
outside the database: an exported bundle, or a published head hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from audit.chain import Finding, JournalRecord, check_chain
from audit.witness import compare_with_history, witnesses


class HeadAnchor(BaseModel):
    """The journal head as something outside the journal recorded it."""

    model_config = ConfigDict(frozen=True)

    source: str  # e.g. "archive of run 1f2e…"
    seq: int
    hash: str


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
) -> CaseVerification:
    """Check one case's rows. `histories`: (run id, history JSON) of its archived runs."""
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
