"""Signed webhooks: the verifier receivers use rejects tampered, stale and replayed deliveries; the sender signs
every attempt and sorts the receiver's answers into delivered, retry and give up (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import pytest

from notify.errors import PermanentDeliveryError, TransientDeliveryError
from notify.webhook import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    MemorySeenIds,
    WebhookRejected,
    WebhookSender,
    encode_body,
    signature,
    signed_headers,
    verify,
)
from tests.notify.support import WEBHOOK_SECRET, WebhookReceiver

SECRET = "s3cret-" + "z" * 32
NOW = 1_800_000_000
BODY = encode_body({"id": "ntf_1", "kind": "task_assigned", "subject": "Nhiệm vụ mới"})


def headers(body: bytes = BODY, *, ts: int = NOW, oid: str = "ntf_1", secret: str = SECRET) -> dict[str, str]:
    return signed_headers(secret, oid, body, timestamp=ts)


def rejected(code: str, *args: object, **kw: object) -> None:
    with pytest.raises(WebhookRejected) as info:
        verify(*args, **kw)  # type: ignore[arg-type]
    assert info.value.code == code


def test_a_signed_delivery_verifies() -> None:
    event = verify(SECRET, headers(), BODY, now=NOW + 5)
    assert (event.id, event.timestamp, event.payload["subject"]) == ("ntf_1", NOW, "Nhiệm vụ mới")


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, NOW, BODY) == f"v1={expected}"


def test_header_names_are_case_insensitive() -> None:
    lower = {k.lower(): v for k, v in headers().items()}
    assert verify(SECRET, lower, BODY, now=NOW).id == "ntf_1"


def test_a_tampered_body_is_rejected() -> None:
    tampered = BODY.replace("Nhiệm vụ mới".encode(), "Nhiệm vụ cũ".encode())
    rejected("bad_signature", SECRET, headers(), tampered, now=NOW)


def test_a_tampered_timestamp_is_rejected() -> None:
    h = headers()
    h[TIMESTAMP_HEADER] = str(NOW + 60)
    rejected("bad_signature", SECRET, h, BODY, now=NOW + 60)


def test_another_secret_is_rejected_and_rotation_accepts_either() -> None:
    rejected("bad_signature", "other-secret", headers(), BODY, now=NOW)
    assert verify(["new-secret", SECRET], headers(), BODY, now=NOW).id == "ntf_1"


def test_an_old_delivery_replayed_is_rejected_by_its_timestamp() -> None:
    rejected("stale_timestamp", SECRET, headers(), BODY, now=NOW + 301)
    rejected("stale_timestamp", SECRET, headers(), BODY, now=NOW - 301)


def test_a_delivery_seen_before_is_rejected_as_replayed() -> None:
    seen = MemorySeenIds()
    verify(SECRET, headers(), BODY, now=NOW, seen=seen)
    rejected("replayed", SECRET, headers(ts=NOW + 10), BODY, now=NOW + 10, seen=seen)


def test_the_id_header_must_name_the_body() -> None:
    rejected("id_mismatch", SECRET, headers(oid="ntf_2"), BODY, now=NOW)


def test_missing_headers_are_rejected() -> None:
    h = headers()
    del h[SIGNATURE_HEADER]
    rejected("missing_header", SECRET, h, BODY, now=NOW)
    h = headers()
    del h[ID_HEADER]
    rejected("missing_header", SECRET, h, BODY, now=NOW)


def test_seen_ids_are_forgotten_after_the_retention() -> None:
    seen = MemorySeenIds(retention=600)
    assert seen.add_if_new("a", now=0)
    assert not seen.add_if_new("a", now=599)
    assert seen.add_if_new("a", now=1200)


async def test_the_sender_signs_and_a_real_receiver_accepts_once(receiver: WebhookReceiver) -> None:
    sender = WebhookSender(secret=WEBHOOK_SECRET, timeout=5)
    import time

    payload = {"id": "ntf_x", "kind": "task_assigned", "subject": "Nhiệm vụ mới"}
    assert await sender.send(receiver.url, "ntf_x", payload, timestamp=int(time.time())) == 200
    # a retry of the same notification: fresh timestamp and signature, same id -> acknowledged, not acted on again
    assert await sender.send(receiver.url, "ntf_x", payload, timestamp=int(time.time()) + 1) == 200
    assert [p["id"] for p in receiver.accepted] == ["ntf_x"]
    assert receiver.duplicates == ["ntf_x"]


async def test_a_wrong_secret_is_refused_by_the_receiver_and_is_permanent(receiver: WebhookReceiver) -> None:
    import time

    sender = WebhookSender(secret="not-the-shared-secret", timeout=5)
    with pytest.raises(PermanentDeliveryError, match="401"):
        await sender.send(receiver.url, "ntf_y", {"id": "ntf_y"}, timestamp=int(time.time()))
    assert receiver.rejected == ["bad_signature"]
    assert receiver.accepted == []


async def test_a_receiver_error_or_no_receiver_is_transient(receiver: WebhookReceiver) -> None:
    sender = WebhookSender(secret=WEBHOOK_SECRET, timeout=5)
    receiver.status = 503
    with pytest.raises(TransientDeliveryError, match="503"):
        await sender.send(receiver.url, "ntf_z", {"id": "ntf_z"}, timestamp=NOW)
    receiver.stop()
    with pytest.raises(TransientDeliveryError, match="webhook_unreachable"):
        await sender.send(receiver.url, "ntf_z", {"id": "ntf_z"}, timestamp=NOW)


async def test_plain_http_to_another_host_is_refused() -> None:
    sender = WebhookSender(secret=WEBHOOK_SECRET)
    with pytest.raises(PermanentDeliveryError, match="https"):
        await sender.send("http://hooks.example.invalid/x", "ntf_w", {"id": "ntf_w"}, timestamp=NOW)


async def test_no_secret_means_no_delivery() -> None:
    with pytest.raises(TransientDeliveryError, match="XPTT_WEBHOOK_SECRET"):
        await WebhookSender(secret="").send("https://hooks.example.invalid/x", "n", {"id": "n"}, timestamp=NOW)
