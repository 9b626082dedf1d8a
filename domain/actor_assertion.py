"""The actor assertion: the product's signed word that an official acts on one case, for one task or action, with
one payload, as one Update, at one time.

The front doors' services sign it (services/access.py) with a key the workers hold; the case workflow's Update
validators check it before anything is recorded. Whoever can reach Temporal but holds no key can send an Update,
but not one the case takes: an official made up, scopes widened, an assertion moved to another case, task, action,
payload or update id, or kept beyond its time, are all refused.

What is signed (format `xptt-actor-v2`), for a reviewer to re-implement:

    signature = lower-case hex HMAC-SHA256(secret of key `key_id`, canonical bytes)
    canonical bytes = UTF-8 of JSON, keys sorted, no spaces, non-ASCII escaped (`\\uXXXX`), of the object
        {"format": "xptt-actor-v2", "official_id", "scopes": [{"role", "province_code", "unit_code"}, ...] (in the
         actor's order), "case_id", "target", "payload_digest", "update_id", "issued_at": UTC
         "YYYY-MM-DDTHH:MM:SS.ffffffZ", "key_id"}
    target = the Update's name, then `:` and the task's id when it acts on a task (`complete_task:<task id>`,
        `extend_due:<task id>`, `reassign:<task id>`, `nudge:<task id>`; `hold`, `release`, `withdraw`)
    payload_digest = lower-case hex SHA-256 of the same canonical JSON of the Update's input without its actor, as
        JSON carries it (times as ISO 8601 text)
    update_id = the id the Update is sent with, which the signer chooses before signing (sent again under that id,
        the Update is Temporal's to deduplicate: it answers with the first outcome, so an assertion acts once); for
        the `nudge` signal, which has no update id, the nudge's own id, which the case takes once

Format `xptt-actor-v1` had no update id: within its time, one assertion could be sent again under another update
id. Histories recorded before v2 carry it; it still loads (without `format` and `update_id`), and the case refuses
it (`unsupported_format`).

Keys form a ring (`XPTT_ACTOR_KEYS="k2:<secret>,k1:<secret>"`): the first signs, every one verifies, so a key is
rotated by putting the new one first and dropping the old one once nothing it signed can still arrive.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python

from domain.access import RoleScope

FORMAT = "xptt-actor-v2"
FORMAT_V1 = "xptt-actor-v1"  # no update id; what an assertion without a `format` is (older histories): refused
DEFAULT_MAX_AGE = timedelta(minutes=10)
MIN_SECRET_LENGTH = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ActorAssertion(BaseModel):
    """What the signer adds to an actor (official and scopes): the format, the case, the target, the payload and the
    update id it is for, when it was issued, the key that signed it and the signature. `format` and `update_id` are
    absent from assertions recorded before v2 (read as v1, no update id)."""

    model_config = ConfigDict(frozen=True)

    format: str = FORMAT_V1
    case_id: str
    target: str
    payload_digest: str
    update_id: str | None = None
    issued_at: datetime
    key_id: str
    signature: str


class KeyRingError(ValueError):
    """A key ring that cannot be read (the message says what is wrong, never a secret)."""


class AssertionRefused(Exception):
    """Why an assertion is not taken: `reason` is one of `missing`, `unsupported_format`, `unknown_key`,
    `bad_signature`, `other_case`, `other_target`, `other_payload`, `other_update`, `expired`, `not_yet_valid` (and
    `no_key_ring`, when the checker holds no key at all)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class KeyRing:
    """Keys by id, the signing key first. Its repr names the key ids only."""

    keys: tuple[tuple[str, bytes], ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError("the key ring holds no key")
        ids = [key_id for key_id, _ in self.keys]
        for key_id, secret in self.keys:
            if not _KEY_ID.match(key_id):
                raise KeyRingError(f"key id {key_id!r}: 1 to 64 of A-Z a-z 0-9 . _ -")
            if len(secret) < MIN_SECRET_LENGTH:
                raise KeyRingError(f"key {key_id}: the secret has fewer than {MIN_SECRET_LENGTH} characters")
        if len(set(ids)) != len(ids):
            raise KeyRingError(f"a key id appears twice in the ring ({', '.join(ids)})")

    @property
    def signing_key_id(self) -> str:
        return self.keys[0][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self.keys)

    def secret(self, key_id: str) -> bytes | None:
        return next((secret for kid, secret in self.keys if kid == key_id), None)

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={list(self.key_ids)})"


def parse_key_ring(spec: str) -> KeyRing:
    """`k2:<secret>,k1:<secret>` (the first signs); secrets hold no comma. Spaces around items are ignored."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise KeyRingError("no key given: XPTT_ACTOR_KEYS is `<key id>:<secret>[,<key id>:<secret>...]`")
    keys: list[tuple[str, bytes]] = []
    for position, item in enumerate(items, start=1):
        key_id, colon, secret = item.partition(":")
        if not colon:
            raise KeyRingError(f"key {position} of the ring has no `:` between its id and its secret")
        keys.append((key_id.strip(), secret.strip().encode()))
    return KeyRing(tuple(keys))


# -- canonical bytes -------------------------------------------------------------------------------------------------
def canonical_json(value: Any) -> bytes:
    """The JSON value as signed: keys sorted, no spaces, non-ASCII escaped; NaN and infinities refused."""
    plain = to_jsonable_python(value)
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def payload_digest(content: Mapping[str, Any]) -> str:
    """The digest of an Update's input without its actor (`content`), as its JSON carries it."""
    return hashlib.sha256(canonical_json(dict(content))).hexdigest()


def issued_text(when: datetime) -> str:
    """`issued_at` as signed: UTC with microseconds and a Z. A naive time names no instant and is refused."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"issued_at {when.isoformat()} has no time zone")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def target_of(update: str, task_id: str | None = None) -> str:
    """What an assertion is for: the Update's name, and the task it acts on when it acts on one."""
    return update if task_id is None else f"{update}:{task_id}"


def claims_bytes(
    *,
    official_id: str,
    scopes: Sequence[RoleScope],
    case_id: str,
    target: str,
    payload_digest: str,
    update_id: str,
    issued_at: datetime,
    key_id: str,
) -> bytes:
    """The canonical bytes of the claims (see the module's docstring)."""
    return canonical_json(
        {
            "format": FORMAT,
            "official_id": official_id,
            "scopes": [
                {"role": s.role.value, "province_code": s.province_code, "unit_code": s.unit_code} for s in scopes
            ],
            "case_id": case_id,
            "target": target,
            "payload_digest": payload_digest,
            "update_id": update_id,
            "issued_at": issued_text(issued_at),
            "key_id": key_id,
        }
    )


def _mac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


# -- signing and verifying -------------------------------------------------------------------------------------------
def sign(
    ring: KeyRing,
    *,
    official_id: str,
    scopes: Sequence[RoleScope],
    case_id: str,
    target: str,
    payload_digest: str,
    update_id: str,
    issued_at: datetime,
) -> ActorAssertion:
    """The assertion for these claims, signed with the ring's signing key. `update_id`: the id the Update will be
    sent with (a nudge: its own id); never empty."""
    if not update_id:
        raise ValueError("an assertion is for one update: its id is empty")
    key_id = ring.signing_key_id
    secret = ring.secret(key_id)
    assert secret is not None  # the ring's own first key
    message = claims_bytes(
        official_id=official_id,
        scopes=scopes,
        case_id=case_id,
        target=target,
        payload_digest=payload_digest,
        update_id=update_id,
        issued_at=issued_at,
        key_id=key_id,
    )
    return ActorAssertion(
        format=FORMAT,
        case_id=case_id,
        target=target,
        payload_digest=payload_digest,
        update_id=update_id,
        issued_at=issued_at,
        key_id=key_id,
        signature=_mac(secret, message),
    )


def verify(
    assertion: ActorAssertion | None,
    ring: KeyRing,
    *,
    official_id: str,
    scopes: Sequence[RoleScope],
    case_id: str,
    target: str,
    payload_digest: str,
    update_id: str | None,
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> None:
    """Raise AssertionRefused unless `assertion` is of this format and was signed by a key of the ring over this
    official and these scopes, for this case, this target, this payload and this update id, and was issued within
    `max_age` of `now` (either side: clocks differ between the signer and the case).

    `update_id`: the id the Update arrived with. None for the `nudge` signal, which arrives with none: its
    assertion names the nudge's own id, which the case takes once (workflows/case_admin.py)."""
    if assertion is None:
        raise AssertionRefused("missing", "the update carries no actor assertion")
    if assertion.format != FORMAT:
        raise AssertionRefused(
            "unsupported_format", f"the assertion is in format {assertion.format!r}; the case takes {FORMAT} only"
        )
    _check_signature(assertion, ring, official_id=official_id, scopes=scopes)
    _check_binding(assertion, case_id=case_id, target=target, payload_digest=payload_digest, update_id=update_id)
    age = now - assertion.issued_at
    if age > max_age:
        raise AssertionRefused(
            "expired", f"the assertion was issued {age.total_seconds():.0f} s ago; it is good for {_s(max_age)}"
        )
    if -age > max_age:
        raise AssertionRefused(
            "not_yet_valid",
            f"the assertion is issued {(-age).total_seconds():.0f} s ahead of the case's time; at most {_s(max_age)}",
        )


def _check_signature(
    assertion: ActorAssertion, ring: KeyRing, *, official_id: str, scopes: Sequence[RoleScope]
) -> None:
    """A key of the ring signed these claims for this official and these scopes."""
    secret = ring.secret(assertion.key_id)
    if secret is None:
        raise AssertionRefused("unknown_key", f"the assertion names key {assertion.key_id!r}, which is not in the ring")
    if not assertion.update_id:
        raise AssertionRefused("bad_signature", "the assertion cannot have been signed: it names no update id")
    try:
        message = claims_bytes(
            official_id=official_id,
            scopes=scopes,
            case_id=assertion.case_id,
            target=assertion.target,
            payload_digest=assertion.payload_digest,
            update_id=assertion.update_id,
            issued_at=assertion.issued_at,
            key_id=assertion.key_id,
        )
    except ValueError as exc:  # a naive issued_at: nothing a signer writes
        raise AssertionRefused("bad_signature", f"the assertion cannot have been signed: {exc}") from None
    if not hmac.compare_digest(_mac(secret, message), assertion.signature):
        raise AssertionRefused(
            "bad_signature", f"the assertion's signature does not match official {official_id} and its claims"
        )


def _check_binding(
    assertion: ActorAssertion, *, case_id: str, target: str, payload_digest: str, update_id: str | None
) -> None:
    """The signed claims name this case, this target, this payload and (for an Update) this update id."""
    if assertion.case_id != case_id:
        raise AssertionRefused("other_case", f"the assertion is for case {assertion.case_id}, not {case_id}")
    if assertion.target != target:
        raise AssertionRefused("other_target", f"the assertion is for {assertion.target}, not {target}")
    if not hmac.compare_digest(assertion.payload_digest, payload_digest):
        raise AssertionRefused("other_payload", "the assertion is for another payload than the one sent")
    if update_id is not None and assertion.update_id != update_id:
        raise AssertionRefused(
            "other_update", f"the assertion is for update {assertion.update_id!r}, not {update_id!r}"
        )


def _s(span: timedelta) -> str:
    return f"{span.total_seconds():.0f} s"
