"""The canonical encoding and the hash chain, pure: what an auditor re-implements, and what the check catches."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.canonical import CanonicalError, canonical_bytes, number_text
from audit.chain import GENESIS, HASHED_FIELDS, JournalRecord, check_chain, hashed_object, row_hash, timestamp_text
from audit.journal import AuditEntry
from tests.builders import journal_values

CASE = "qd06-2019:2027-11953"


def chain_of(n: int) -> list[JournalRecord]:
    records, prev = [], GENESIS
    for seq in range(1, n + 1):
        values = journal_values(seq)
        digest = row_hash(values, prev)
        records.append(JournalRecord.from_values({**values, "prev_hash": prev, "hash": digest}))
        prev = digest
    return records


def test_every_field_of_a_journal_entry_is_hashed() -> None:
    assert set(AuditEntry.model_fields) == set(HASHED_FIELDS), (
        "a field added to AuditEntry must be added to audit.chain.HASHED_FIELDS (a new hash format)"
    )


def test_a_row_hash_can_be_recomputed_with_plain_json_and_sha256() -> None:
    # What an auditor writes without our code: for ASCII-sorted names and no fractional numbers, JCS is
    # json.dumps with sorted keys, no spaces and UTF-8 text.
    values = journal_values(2)
    obj = {**values, "occurred_at": "2027-10-01T04:00:00.000000Z", "prev_hash": GENESIS, "format": "xptt-audit-v1"}
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert row_hash(values, GENESIS) == hashlib.sha256(text.encode("utf-8")).hexdigest()


VECTOR = (
    '{"action":"case_opened","actor_id":null,"actor_role":null,"after":{},"before":{},'
    '"case_id":"qd06-2019:2027-11953","format":"xptt-audit-v1","from_stage":null,'
    '"occurred_at":"2027-10-01T03:00:00.000000Z","payload":{},'
    '"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","reason":null,'
    '"rule_set_id":"qd06-2019","run_id":"run-1","seq":1,"task_id":null,"to_stage":"registration",'
    '"unit_code":"11953","update_id":null,"workflow_id":"qd06-2019:2027-11953"}'
)


def test_a_known_row_has_known_bytes_and_a_known_hash() -> None:
    # The test vector of the README (checked with `sha256sum`): if it changes, stored chains stop verifying.
    assert canonical_bytes(hashed_object(journal_values(1), GENESIS)) == VECTOR.encode()
    assert row_hash(journal_values(1), GENESIS) == "873996754ad006dfa4575edf11cb35124c2723817c4df5b1722a6863672cc9ea"


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (100.0, "100"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (333333333.3333333, "333333333.3333333"),
        (5e-324, "5e-324"),
        (-1.25e-10, "-1.25e-10"),
        (9007199254740992.0, "9007199254740992"),
    ],
)
def test_numbers_are_written_as_ecmascript_writes_them(number: float, text: str) -> None:
    assert number_text(number) == text


def test_members_are_sorted_by_utf16_code_units_and_text_is_not_escaped() -> None:
    value = {"b": 1, "a": [True, None, 'Hưng Yên\n"x"\\'], "\U0001f600": 1, "\ufb01": 2}
    assert (
        canonical_bytes(value).decode() == '{"a":[true,null,"Hưng Yên\\n\\"x\\"\\\\"],"b":1,"\U0001f600":1,"\ufb01":2}'
    )


def test_values_that_survive_jsonb_keep_their_encoding() -> None:
    assert canonical_bytes({"x": 1.0, "y": 2}) == canonical_bytes({"y": 2.0, "x": 1})


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": float("nan")}, "$.a"),
        ({"a": [1, 2**60]}, "$.a.1"),
        ({"when": datetime(2027, 1, 1, tzinfo=UTC)}, "$.when"),
        ({1: "x"}, "$"),
    ],
)
def test_values_without_a_canonical_form_are_refused_naming_where(value: Any, where: str) -> None:
    with pytest.raises(CanonicalError, match=f"^{where.replace('$', '[$]')}"):
        canonical_bytes(value)


def test_times_are_hashed_in_utc_with_microseconds() -> None:
    plus7 = timezone(timedelta(hours=7))
    assert timestamp_text(datetime(2027, 10, 1, 9, 0, 0, 5, tzinfo=plus7)) == "2027-10-01T02:00:00.000005Z"
    with pytest.raises(ValueError, match="no time zone"):
        timestamp_text(datetime(2027, 10, 1))


def test_an_intact_chain_holds() -> None:
    assert check_chain(CASE, chain_of(6)) == []


def test_an_altered_row_is_named() -> None:
    records = chain_of(6)
    records[3] = records[3].model_copy(update={"payload": {"registered": False}})
    breaks = check_chain(CASE, records)
    assert [(b.case_id, b.seq, b.kind) for b in breaks] == [(CASE, 4, "altered")]


def test_a_deleted_row_is_named() -> None:
    records = chain_of(6)
    del records[2]
    breaks = check_chain(CASE, records)
    assert (breaks[0].seq, breaks[0].kind) == (3, "missing")
    assert "seq 3 is missing" in breaks[0].detail


def test_a_replaced_row_with_its_hash_recomputed_is_named() -> None:
    records = chain_of(6)
    forged = {**journal_values(3), "reason": "forged", "prev_hash": records[1].hash}
    records[2] = JournalRecord.from_values({**forged, "hash": row_hash(forged, forged["prev_hash"])})
    breaks = check_chain(CASE, records)
    assert [(b.seq, b.kind) for b in breaks] == [(3, "broken_link")]


def test_a_row_inserted_between_two_others_is_caught() -> None:
    records = chain_of(5)
    # Make room (renumber 3.. to 4..) and insert a well-formed row at seq 3 linked to seq 2.
    shifted = [r.model_copy(update={"seq": r.seq + 1}) if r.seq >= 3 else r for r in records]
    forged = {**journal_values(3), "action": "forged", "prev_hash": records[1].hash}
    shifted.insert(2, JournalRecord.from_values({**forged, "hash": row_hash(forged, records[1].hash)}))
    breaks = check_chain(CASE, shifted)
    assert breaks and breaks[0].seq == 4 and breaks[0].kind == "altered"


def test_a_first_row_not_at_genesis_is_named() -> None:
    values = journal_values(1)
    bad = JournalRecord.from_values({**values, "prev_hash": "1" * 64, "hash": row_hash(values, "1" * 64)})
    assert [(b.seq, b.kind) for b in check_chain(CASE, [bad])] == [(1, "bad_genesis")]


MUTATIONS = {
    "action": "forged",
    "actor_id": "someone-else",
    "actor_role": "admin",
    "reason": "changed",
    "payload": {"registered": False},
    "before": {"due_at": "2027-01-01"},
    "occurred_at": "2027-10-01T02:00:00.000001Z",
    "rule_set_id": "qd34-2014",
    "run_id": "run-2",
}


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=8), st.sampled_from(sorted(MUTATIONS)))
def test_changing_any_hashed_field_of_any_row_is_caught_at_that_row(seq: int, field: str) -> None:
    records = chain_of(8)
    records[seq - 1] = records[seq - 1].model_copy(update={field: MUTATIONS[field]})
    breaks = check_chain(CASE, records)
    assert breaks and breaks[0].seq == seq


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_the_fast_path_writes_exactly_what_the_general_encoder_writes(value: Any) -> None:
    from audit.canonical import _encode

    parts: list[str] = []
    _encode(value, parts, "$")
    try:
        expected = "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(CanonicalError):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected
