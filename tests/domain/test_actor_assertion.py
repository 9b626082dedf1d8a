"""The actor assertion: its canonical bytes (pinned), the key ring, signing and every way verification refuses,
the update id it is bound to, and the assertions of the format before it."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.access import RoleScope
from domain.actor_assertion import (
    DEFAULT_MAX_AGE,
    FORMAT,
    FORMAT_V1,
    ActorAssertion,
    AssertionRefused,
    KeyRing,
    KeyRingError,
    canonical_json,
    claims_bytes,
    issued_text,
    parse_key_ring,
    payload_digest,
    sign,
    target_of,
    verify,
)
from domain.stages import Role

RING = parse_key_ring("k1:" + "s" * 32)
NOW = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)
OFFICER = [RoleScope(role=Role.COMMUNE_OFFICER, province_code="33", unit_code="12001")]
CASE = "qd06-2019:2027-12001"
TASK = f"{CASE}-t01"
CONTENT = {"task_id": TASK, "payload": {"registered": True, "note": "UBND xã đăng ký"}}
UPDATE_ID = f"{TASK}:idem-ồ1"  # as the inbox names a completion's update: the task and the Idempotency-Key


def claims(**over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "official_id": "demo-officer-12001",
        "scopes": OFFICER,
        "case_id": CASE,
        "target": target_of("complete_task", TASK),
        "payload_digest": payload_digest(CONTENT),
        "update_id": UPDATE_ID,
        "issued_at": NOW,
    }
    return values | over


def expected(**over: Any) -> dict[str, Any]:
    """What the case expects: the claims but the issue time (the update id: the one the Update arrived with)."""
    values = claims(**over)
    values.pop("issued_at")
    return values


def check(assertion: ActorAssertion | None, ring: KeyRing = RING, *, now: datetime = NOW, **over: Any) -> None:
    verify(assertion, ring, now=now, **expected(**over))


def refusal(assertion: ActorAssertion | None, ring: KeyRing = RING, *, now: datetime = NOW, **over: Any) -> str:
    with pytest.raises(AssertionRefused) as info:
        check(assertion, ring, now=now, **over)
    assert info.value.detail
    return info.value.reason


# -- the canonical bytes, pinned ---------------------------------------------------------------------------------------
VECTOR = (
    '{"case_id":"qd06-2019:2027-12001","format":"xptt-actor-v2","issued_at":"2027-10-01T02:00:00.000000Z",'
    '"key_id":"k1","official_id":"demo-officer-12001","payload_digest":"'
    + hashlib.sha256(
        b'{"payload":{"note":"UBND x\\u00e3 \\u0111\\u0103ng k\\u00fd","registered":true},'
        b'"task_id":"qd06-2019:2027-12001-t01"}'
    ).hexdigest()
    + '","scopes":[{"province_code":"33","role":"commune_officer","unit_code":"12001"}],'
    '"target":"complete_task:qd06-2019:2027-12001-t01","update_id":"qd06-2019:2027-12001-t01:idem-\\u1ed31"}'
)


def test_the_signed_bytes_are_the_documented_canonical_json() -> None:
    assert FORMAT == "xptt-actor-v2"
    assert claims_bytes(**claims(), key_id="k1") == VECTOR.encode()
    assertion = sign(RING, **claims())
    expected = hmac.new(b"s" * 32, VECTOR.encode(), hashlib.sha256).hexdigest()
    assert (assertion.key_id, assertion.signature) == ("k1", expected)
    assert (assertion.format, assertion.update_id) == (FORMAT, UPDATE_ID)


def test_canonical_json_sorts_keys_escapes_non_ascii_and_has_no_spaces() -> None:
    assert canonical_json({"b": [1, 2.5], "a": "ồ", "c": None}) == b'{"a":"\\u1ed3","b":[1,2.5],"c":null}'


def test_canonical_json_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})
    with pytest.raises(ValueError):
        canonical_json({"x": math.inf})


def test_a_time_is_signed_as_utc_text_whatever_its_zone() -> None:
    hanoi = timezone(timedelta(hours=7))
    assert issued_text(NOW.astimezone(hanoi)) == issued_text(NOW) == "2027-10-01T02:00:00.000000Z"
    with pytest.raises(ValueError, match="no time zone"):
        issued_text(datetime(2027, 10, 1, 2, 0))


def test_the_payload_digest_is_the_jsons_whatever_the_key_order_or_the_python_types() -> None:
    reordered = {"payload": {"note": "UBND xã đăng ký", "registered": True}, "task_id": TASK}
    assert payload_digest(reordered) == payload_digest(CONTENT)
    # A time as a Python object and as the ISO text JSON carries it: one digest.
    due = datetime(2027, 11, 3, 10, 0, tzinfo=UTC)
    assert payload_digest({"new_due_at": due}) == payload_digest({"new_due_at": "2027-11-03T10:00:00Z"})
    assert payload_digest({"items": (1, 2)}) == payload_digest({"items": [1, 2]})
    assert payload_digest(CONTENT) != payload_digest({**CONTENT, "task_id": TASK + "x"})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(content=st.dictionaries(st.text(max_size=8), JSON, max_size=5))
def test_the_digest_survives_a_json_round_trip(content: dict[str, Any]) -> None:
    """The signer digests the input it sends; the case digests the input it reads back from JSON."""
    assert payload_digest(json.loads(json.dumps(content))) == payload_digest(content)


@given(content=st.dictionaries(st.text(max_size=8), JSON, min_size=1, max_size=5), extra=JSON)
def test_any_change_to_the_input_changes_the_digest(content: dict[str, Any], extra: Any) -> None:
    key = next(iter(content))
    changed = {**content, key: [content[key], extra]}
    assert payload_digest(changed) != payload_digest(content)


def test_a_target_names_the_update_and_its_task() -> None:
    assert target_of("complete_task", TASK) == f"complete_task:{TASK}"
    assert target_of("hold") == "hold"


# -- the key ring ------------------------------------------------------------------------------------------------------
def test_the_first_key_signs_and_every_key_verifies() -> None:
    old = parse_key_ring("k1:" + "s" * 32)
    rotated = parse_key_ring(" k2:" + "n" * 40 + " , k1:" + "s" * 32 + " ")
    assert (rotated.signing_key_id, rotated.key_ids) == ("k2", ("k2", "k1"))
    check(sign(old, **claims()), rotated)  # signed before the rotation, checked after
    new = sign(rotated, **claims())
    assert new.key_id == "k2"
    check(new, rotated)
    assert refusal(new, old) == "unknown_key"  # a worker not yet given the new key


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no key given"),
        (" , ", "no key given"),
        ("k1" + "s" * 32, "no `:`"),
        ("k1:short", "fewer than 32"),
        (":" + "s" * 32, "key id"),
        ("k 1:" + "s" * 32, "key id"),
        ("k1:" + "s" * 32 + ",k1:" + "t" * 32, "appears twice"),
    ],
)
def test_a_key_ring_that_cannot_be_read_is_refused_naming_no_secret(spec: str, message: str) -> None:
    with pytest.raises(KeyRingError, match=message) as info:
        parse_key_ring(spec)
    assert "s" * 32 not in str(info.value)


def test_a_key_rings_repr_names_its_key_ids_only() -> None:
    assert repr(RING) == "KeyRing(key_ids=['k1'])"
    assert "s" * 32 not in repr(RING) and "s" * 32 not in str(RING)


# -- verifying ---------------------------------------------------------------------------------------------------------
def test_a_genuine_assertion_holds() -> None:
    check(sign(RING, **claims()))


def test_no_assertion_is_refused() -> None:
    assert refusal(None) == "missing"


def test_an_assertion_signed_with_another_secret_under_the_same_key_id_is_refused() -> None:
    forged = sign(parse_key_ring("k1:" + "f" * 32), **claims())
    assert refusal(forged) == "bad_signature"


@pytest.mark.parametrize(
    "change",
    [
        {"case_id": "qd06-2019:2027-99999"},
        {"target": "withdraw"},
        {"payload_digest": "0" * 64},
        {"update_id": UPDATE_ID + "x"},
        {"issued_at": NOW + timedelta(seconds=1)},
        {"signature": "f" * 64},
        {"signature": ""},
    ],
    ids=lambda c: next(iter(c)),
)
def test_an_assertion_whose_claims_were_changed_is_refused(change: dict[str, Any]) -> None:
    forged = sign(RING, **claims()).model_copy(update=change)
    assert refusal(forged) == "bad_signature"


@pytest.mark.parametrize(
    "actor",
    [
        {"official_id": "forged-nobody"},
        {"scopes": [*OFFICER, RoleScope(role=Role.ADMIN, province_code="33")]},
        {"scopes": [RoleScope(role=Role.COMMUNE_OFFICER, province_code="33", unit_code="12003")]},
        {"scopes": []},
    ],
    ids=["made-up official", "scopes widened", "another unit", "no scopes"],
)
def test_an_assertion_carried_by_another_actor_is_refused(actor: dict[str, Any]) -> None:
    assert refusal(sign(RING, **claims()), **actor) == "bad_signature"


def test_a_naive_issue_time_is_refused_as_unsigned() -> None:
    naive = sign(RING, **claims()).model_copy(update={"issued_at": datetime(2027, 10, 1, 2, 0)})
    assert refusal(naive) == "bad_signature"


@pytest.mark.parametrize(
    ("elsewhere", "reason"),
    [
        ({"case_id": "qd06-2019:2027-99999"}, "other_case"),
        ({"target": target_of("complete_task", f"{CASE}-t02")}, "other_target"),
        ({"target": "withdraw"}, "other_target"),
        ({"payload_digest": payload_digest({**CONTENT, "payload": {"registered": False}})}, "other_payload"),
        ({"update_id": f"{TASK}:{'0' * 36}"}, "other_update"),
    ],
)
def test_a_genuine_assertion_used_for_something_else_is_refused(elsewhere: dict[str, Any], reason: str) -> None:
    assert refusal(sign(RING, **claims()), **elsewhere) == reason


@pytest.mark.parametrize(
    ("age", "reason"),
    [
        (DEFAULT_MAX_AGE + timedelta(microseconds=1), "expired"),
        (timedelta(days=365), "expired"),
        (-DEFAULT_MAX_AGE - timedelta(microseconds=1), "not_yet_valid"),
    ],
)
def test_an_assertion_too_far_from_the_cases_time_is_refused(age: timedelta, reason: str) -> None:
    assert refusal(sign(RING, **claims()), now=NOW + age) == reason


@pytest.mark.parametrize("age", [timedelta(0), DEFAULT_MAX_AGE, -DEFAULT_MAX_AGE, timedelta(minutes=3)])
def test_an_assertion_within_the_window_holds(age: timedelta) -> None:
    check(sign(RING, **claims()), now=NOW + age)


def test_the_window_is_a_parameter() -> None:
    assertion = sign(RING, **claims())
    verify(assertion, RING, now=NOW + timedelta(hours=1), max_age=timedelta(hours=2), **expected())
    with pytest.raises(AssertionRefused, match="good for 60 s"):
        verify(assertion, RING, now=NOW + timedelta(minutes=2), max_age=timedelta(minutes=1), **expected())


# -- the update id -----------------------------------------------------------------------------------------------------
def test_an_assertion_sent_again_under_another_update_id_is_refused_and_under_its_own_holds() -> None:
    assertion = sign(RING, **claims())
    check(assertion)  # the id it was signed for: a retry of that Update, Temporal's to deduplicate
    assert refusal(assertion, update_id=f"{TASK}:idem-2") == "other_update"
    assert refusal(assertion, update_id=UPDATE_ID.upper()) == "other_update"


def test_a_signal_has_no_update_id_to_compare_its_assertion_names_its_own() -> None:
    """The nudge: the case passes no update id; the assertion names the nudge's own (the case takes it once)."""
    nudge = claims(target=target_of("nudge", TASK), payload_digest=payload_digest({"task_id": TASK}))
    nudge["update_id"] = "bulk-op1-remind-" + CASE
    check(sign(RING, **nudge), **(nudge | {"update_id": None}))


def test_an_assertion_is_for_one_update_an_empty_id_is_not_signed() -> None:
    with pytest.raises(ValueError, match="id is empty"):
        sign(RING, **claims(update_id=""))


def test_an_assertion_stripped_of_its_update_id_is_refused_as_unsigned() -> None:
    stripped = sign(RING, **claims()).model_copy(update={"update_id": None})
    assert refusal(stripped) == "bad_signature"
    assert refusal(stripped, update_id=None) == "bad_signature"


UPDATE_IDS = st.text(min_size=1, max_size=80)


@given(update_id=UPDATE_IDS, other=UPDATE_IDS, official=st.text(min_size=1, max_size=20))
def test_the_update_id_survives_the_round_trip_and_binds_the_assertion(
    update_id: str, other: str, official: str
) -> None:
    """Signed by the services, carried as JSON through Temporal, checked by the case: any update id (non-ASCII,
    separators, quotes) is the one compared, and no other passes."""
    signed = sign(RING, **claims(update_id=update_id, official_id=official))
    carried = ActorAssertion.model_validate_json(signed.model_dump_json())
    assert carried == signed and carried.update_id == update_id
    check(carried, update_id=update_id, official_id=official)
    if other != update_id:
        assert refusal(carried, update_id=other, official_id=official) == "other_update"
    assert json.loads(claims_bytes(**claims(update_id=update_id), key_id="k1"))["update_id"] == update_id


# -- the format before -------------------------------------------------------------------------------------------------
V1_ASSERTION = {  # as histories recorded before v2 carry it: no format, no update id
    "case_id": CASE,
    "target": target_of("complete_task", TASK),
    "payload_digest": payload_digest(CONTENT),
    "issued_at": "2027-10-01T02:00:00Z",
    "key_id": "k1",
    "signature": "ab" * 32,
}


def test_an_assertion_of_the_format_before_loads_as_recorded_and_is_refused() -> None:
    """v1 bound no update id: a recorded history still decodes it (validators do not run on replay), and a case
    takes none (within its time it could be sent again under another update id)."""
    old = ActorAssertion.model_validate(V1_ASSERTION)
    assert (old.format, old.update_id) == (FORMAT_V1, None)
    assert refusal(old) == "unsupported_format"
    assert refusal(old, update_id=None) == "unsupported_format"
    # Claiming v2 over v1's claims: the signature is over other bytes.
    assert refusal(old.model_copy(update={"format": FORMAT, "update_id": UPDATE_ID})) == "bad_signature"


def test_a_v1_signature_of_the_same_claims_does_not_verify_as_v2() -> None:
    """What a signer of the format before produced (its bytes: no update id, format v1), presented as v2."""
    v1_bytes = claims_bytes(**claims(), key_id="k1").replace(b"xptt-actor-v2", b"xptt-actor-v1")
    v1_bytes = v1_bytes.replace(b',"update_id":"' + json.dumps(UPDATE_ID)[1:-1].encode() + b'"', b"")
    assert b"update_id" not in v1_bytes
    v1_signature = hmac.new(b"s" * 32, v1_bytes, hashlib.sha256).hexdigest()
    presented = sign(RING, **claims()).model_copy(update={"signature": v1_signature})
    assert refusal(presented) == "bad_signature"
