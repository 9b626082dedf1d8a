"""The journal's hash chain: how one row is hashed, and how a case's rows are checked.

Row hash (format `xptt-audit-v1`), for an auditor to re-implement:

    hash = lower-case hex SHA-256 of JCS(object)        (JCS = RFC 8785, see audit/canonical.py)

where `object` has exactly these members (names as written; absent values are `null`, never left out):

    format       "xptt-audit-v1"
    case_id      text                    seq          integer, 1, 2, 3, ... without gaps within a case
    action       text                    actor_id     text | null        actor_role   text | null
    unit_code    text                    from_stage   text | null        to_stage     text
    task_id      text | null             payload      object             before       object
    after        object                  reason       text | null        rule_set_id  text
    workflow_id  text                    run_id       text | null        update_id    text | null
    occurred_at  text: UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always six fraction digits)
    prev_hash    text: the `hash` of the row with seq − 1 in the same case; for seq 1 the genesis value
                 "0000000000000000000000000000000000000000000000000000000000000000" (64 zeros)

The table's own `id` and anything not listed are not hashed. A change of this list is a new format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audit.canonical import canonical_bytes

FORMAT = "xptt-audit-v1"
GENESIS = "0" * 64

HASHED_FIELDS: tuple[str, ...] = (
    "case_id",
    "seq",
    "action",
    "actor_id",
    "actor_role",
    "unit_code",
    "from_stage",
    "to_stage",
    "task_id",
    "payload",
    "before",
    "after",
    "reason",
    "rule_set_id",
    "workflow_id",
    "run_id",
    "update_id",
    "occurred_at",
)


def timestamp_text(when: datetime) -> str:
    """`occurred_at` as hashed: UTC with microseconds and a Z. A naive time is refused: it names no instant."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"occurred_at {when.isoformat()} has no time zone")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hashed_object(values: Mapping[str, Any], prev_hash: str) -> dict[str, Any]:
    """The object whose JCS bytes are hashed, from a row's values (a mapping or anything with the attributes)."""
    obj: dict[str, Any] = {"format": FORMAT}
    for name in HASHED_FIELDS:
        value = values[name]
        if name == "occurred_at":
            value = value if isinstance(value, str) else timestamp_text(value)
        obj[name] = value
    obj["prev_hash"] = prev_hash
    return obj


def row_hash(values: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_bytes(hashed_object(values, prev_hash))).hexdigest()


class JournalFields(BaseModel):
    """The hashed values of a journal row but `occurred_at`, which each form below types its own way.

    `before` and `after` hold the values an action changed (e.g. a due date, an assignee); a stage transition's are
    its `from_stage` and `to_stage`.
    """

    model_config = ConfigDict(frozen=True)

    case_id: str
    seq: int
    action: str
    actor_id: str | None = None
    actor_role: str | None = None
    unit_code: str
    from_stage: str | None = None
    to_stage: str
    task_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    rule_set_id: str
    workflow_id: str
    run_id: str | None = None
    update_id: str | None = None


class JournalRecord(JournalFields):
    """A journal row as stored (or as carried in a bundle): the hashed values, its `prev_hash` and `hash`."""

    occurred_at: str  # as hashed: timestamp_text(...)
    prev_hash: str
    hash: str

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> JournalRecord:
        """From a database row's columns (occurred_at a datetime) or a bundle's object (occurred_at text)."""
        data = {name: values[name] for name in (*HASHED_FIELDS, "prev_hash", "hash")}
        if isinstance(data["occurred_at"], datetime):
            data["occurred_at"] = timestamp_text(data["occurred_at"])
        return cls.model_validate(data)

    def hashed_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    def computed_hash(self) -> str:
        return row_hash(self.hashed_values(), self.prev_hash)


class Finding(BaseModel):
    """Something wrong with a case's journal: the case, the row (seq) and what is wrong with it.

    kinds: `missing`, `altered`, `broken_link`, `bad_genesis`, `out_of_order` (the chain, here); `anchor` (a hash
    recorded elsewhere no longer matches); `contradicts_history`, `missing_from_journal` (audit/witness.py).
    """

    model_config = ConfigDict(frozen=True)

    case_id: str
    seq: int
    kind: str
    detail: str


def check_chain(case_id: str, records: Iterable[JournalRecord]) -> list[Finding]:
    """Every break in a case's chain, in seq order (the first is the one to report). Empty: the chain holds.

    - `missing`: a seq is absent (a row was deleted, or one was added after a gap);
    - `altered`: a row's content (or seq, or prev_hash) no longer hashes to its stored hash;
    - `broken_link` / `bad_genesis`: a row hashes to itself but does not point at its predecessor's hash (the
      predecessor was replaced, hash recomputed) or at the genesis value.
    """
    breaks: list[Finding] = []
    expected_seq = 1
    previous: JournalRecord | None = None
    for rec in sorted(records, key=lambda r: r.seq):
        if rec.case_id != case_id:
            raise ValueError(f"row seq {rec.seq} belongs to case {rec.case_id}, not {case_id}")
        if rec.seq < expected_seq:
            breaks.append(Finding(case_id=case_id, seq=rec.seq, kind="out_of_order", detail="seq repeated"))
            continue
        if rec.seq > expected_seq:
            missing = f"seq {expected_seq}" if rec.seq == expected_seq + 1 else f"seqs {expected_seq}..{rec.seq - 1}"
            breaks.append(
                Finding(
                    case_id=case_id,
                    seq=expected_seq,
                    kind="missing",
                    detail=f"row {missing} is missing from the journal (the next row present is seq {rec.seq})",
                )
            )
        problem = _row_problem(rec, previous)
        if problem is not None:
            breaks.append(problem)
        expected_seq = rec.seq + 1
        previous = rec
    return sorted(breaks, key=lambda b: b.seq)


def _row_problem(rec: JournalRecord, previous: JournalRecord | None) -> Finding | None:
    """`altered`, `bad_genesis` or `broken_link` for one row, given the row read before it (None: the first)."""
    computed = rec.computed_hash()
    if computed != rec.hash:
        return Finding(
            case_id=rec.case_id,
            seq=rec.seq,
            kind="altered",
            detail=f"row seq {rec.seq} was altered: its content hashes to {computed[:16]}…, "
            f"the stored hash is {rec.hash[:16]}…",
        )
    if rec.seq == 1 and rec.prev_hash != GENESIS:
        return Finding(
            case_id=rec.case_id,
            seq=1,
            kind="bad_genesis",
            detail=f"row seq 1 points at {rec.prev_hash[:16]}…, not at the genesis value",
        )
    if rec.seq > 1 and previous is not None and rec.seq == previous.seq + 1 and rec.prev_hash != previous.hash:
        return Finding(
            case_id=rec.case_id,
            seq=previous.seq,
            kind="broken_link",
            detail=f"row seq {previous.seq} was replaced: row seq {rec.seq} points at "
            f"{rec.prev_hash[:16]}…, but seq {previous.seq} hashes to {previous.hash[:16]}…",
        )
    return None
