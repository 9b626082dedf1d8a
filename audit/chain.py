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
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Link:
    """A row of a hash chain as the chain's check sees it: its seq, the hash it points at, its stored hash and what
    its content hashes to now; `row` is the row itself, for the caller's wording."""

    seq: int
    prev_hash: str
    hash: str
    computed: str
    row: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Break:
    """A break of a chain: `missing` (seqs `first_missing` .. `at.seq` − 1 absent), `out_of_order` (a seq repeated),
    `altered` (`at` no longer hashes to its hash), `bad_genesis` (seq 1 does not point at the genesis value),
    `broken_link` (`at` hashes to itself but does not point at `previous`)."""

    kind: str
    at: Link
    previous: Link | None
    first_missing: int = 0


def chain_breaks(links: Iterable[Link]) -> list[Break]:
    """Every break of a chain whose seqs run 1, 2, 3 … , in seq order; the case journal and the officials'
    directory journal (services/officials/journal.py) are both checked by it."""
    breaks: list[Break] = []
    expected = 1
    previous: Link | None = None
    for link in sorted(links, key=lambda k: k.seq):
        if link.seq < expected:
            breaks.append(Break("out_of_order", link, previous))
            continue
        if link.seq > expected:
            breaks.append(Break("missing", link, previous, first_missing=expected))
        kind = _link_break(link, previous)
        if kind is not None:
            breaks.append(Break(kind, link, previous))
        expected, previous = link.seq + 1, link
    return breaks


def _link_break(link: Link, previous: Link | None) -> str | None:
    if link.computed != link.hash:
        return "altered"
    if link.seq == 1 and link.prev_hash != GENESIS:
        return "bad_genesis"
    if previous is not None and link.seq == previous.seq + 1 and link.prev_hash != previous.hash:
        return "broken_link"
    return None


def check_chain(case_id: str, records: Iterable[JournalRecord]) -> list[Finding]:
    """Every break in a case's chain (see `chain_breaks`), in seq order (the first is the one to report). Empty: the
    chain holds. A `broken_link` is reported at the replaced predecessor's seq."""
    links: list[Link] = []
    for rec in records:
        if rec.case_id != case_id:
            raise ValueError(f"row seq {rec.seq} belongs to case {rec.case_id}, not {case_id}")
        links.append(Link(rec.seq, rec.prev_hash, rec.hash, rec.computed_hash()))
    return sorted((_finding(case_id, b) for b in chain_breaks(links)), key=lambda f: f.seq)


def _finding(case_id: str, b: Break) -> Finding:
    at, previous = b.at, b.previous
    if b.kind == "out_of_order":
        return Finding(case_id=case_id, seq=at.seq, kind=b.kind, detail="seq repeated")
    if b.kind == "missing":
        first = b.first_missing
        missing = f"seq {first}" if at.seq == first + 1 else f"seqs {first}..{at.seq - 1}"
        detail = f"row {missing} is missing from the journal (the next row present is seq {at.seq})"
        return Finding(case_id=case_id, seq=first, kind=b.kind, detail=detail)
    if b.kind == "altered":
        detail = (
            f"row seq {at.seq} was altered: its content hashes to {at.computed[:16]}…, "
            f"the stored hash is {at.hash[:16]}…"
        )
        return Finding(case_id=case_id, seq=at.seq, kind=b.kind, detail=detail)
    if b.kind == "bad_genesis":
        detail = f"row seq 1 points at {at.prev_hash[:16]}…, not at the genesis value"
        return Finding(case_id=case_id, seq=1, kind=b.kind, detail=detail)
    assert previous is not None  # broken_link
    detail = (
        f"row seq {previous.seq} was replaced: row seq {at.seq} points at "
        f"{at.prev_hash[:16]}…, but seq {previous.seq} hashes to {previous.hash[:16]}…"
    )
    return Finding(case_id=case_id, seq=previous.seq, kind=b.kind, detail=detail)
