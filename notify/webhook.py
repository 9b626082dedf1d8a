"""Signed webhooks: the signature scheme, the verifier receivers use, and the sender.

A delivery is `POST <url>` with a JSON body (`id`, `kind`, `official_id`, `case_id`, `task_id`, `unit_code`,
`province_code`, `subject`, `text`, `link`, `created_at`, `context`) and three headers:

    X-Xptt-Id:         the outbox id: the idempotency key, the same on every retry of one notification
    X-Xptt-Timestamp:  Unix seconds when this attempt was signed
    X-Xptt-Signature:  v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

A receiver calls `verify(secret, headers, body, now=time.time(), seen=...)` on the raw body before parsing it. It
rejects (`WebhookRejected.code`): a missing header (`missing_header`), a bad signature (`bad_signature`: a tampered
body or timestamp), a timestamp more than `tolerance` seconds from now (`stale_timestamp`: an old request
replayed), an id that does not match the body (`id_mismatch`), and an id already seen (`replayed`).

Exactly-once effect: a retried delivery carries a fresh timestamp and signature but the same id. Receivers must
remember processed ids (a `SeenIds` store: `MemorySeenIds` for one process, or a unique key in their database) and
answer 2xx to a `replayed` delivery without acting again; the sender then marks it delivered. The in-memory store
forgets ids after `retention` seconds, which bounds replay protection to that window (longer than `tolerance`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import structlog

from notify.errors import PermanentDeliveryError, TransientDeliveryError

if TYPE_CHECKING:
    import httpx

log = structlog.get_logger(__name__)

ID_HEADER = "X-Xptt-Id"
TIMESTAMP_HEADER = "X-Xptt-Timestamp"
SIGNATURE_HEADER = "X-Xptt-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def signed_headers(secret: str, outbox_id: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    return {
        ID_HEADER: outbox_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def encode_body(payload: Mapping[str, Any]) -> bytes:
    """Canonical bytes: the same notification gives the same body on every attempt."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class WebhookRejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SeenIds(Protocol):
    def add_if_new(self, delivery_id: str, *, now: float) -> bool:
        """Record the id; False when it was already there."""
        ...


@dataclass
class MemorySeenIds:
    """Ids seen in the last `retention` seconds, in one process."""

    retention: float = 24 * 3600
    _seen: dict[str, float] = field(default_factory=dict)

    def add_if_new(self, delivery_id: str, *, now: float) -> bool:
        for old in [k for k, at in self._seen.items() if at < now - self.retention]:
            del self._seen[old]
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = now
        return True


@dataclass(frozen=True)
class VerifiedWebhook:
    id: str
    timestamp: int
    payload: dict[str, Any]


def verify(
    secret: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
    seen: SeenIds | None = None,
) -> VerifiedWebhook:
    """Check a delivery as received (raw body bytes); raises WebhookRejected. Several secrets may be given
    while one is rotated out."""
    lower = {k.lower(): v for k, v in headers.items()}
    missing = [h for h in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER) if h.lower() not in lower]
    if missing:
        raise WebhookRejected("missing_header", f"missing header(s): {', '.join(missing)}")
    try:
        timestamp = int(lower[TIMESTAMP_HEADER.lower()])
    except ValueError:
        raise WebhookRejected("bad_signature", "the timestamp is not an integer") from None
    given = lower[SIGNATURE_HEADER.lower()].strip()
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not any(s and hmac.compare_digest(given, signature(s, timestamp, body)) for s in secrets):
        raise WebhookRejected("bad_signature", "the signature does not match the body and timestamp")
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected(
            "stale_timestamp", f"signed {now - timestamp:.0f} s before now (tolerance {tolerance:.0f} s)"
        )
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookRejected("bad_body", "the body is not JSON") from None
    delivery_id = lower[ID_HEADER.lower()]
    if not isinstance(payload, dict) or payload.get("id") != delivery_id:
        raise WebhookRejected("id_mismatch", "the X-Xptt-Id header does not name the body's id")
    if seen is not None and not seen.add_if_new(delivery_id, now=now):
        raise WebhookRejected("replayed", f"delivery {delivery_id} was already received")
    return VerifiedWebhook(id=delivery_id, timestamp=timestamp, payload=payload)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """HTTPS only, except to this machine (development and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname or "")):
        return
    raise PermanentDeliveryError(f"webhook URL must be https (got {url})", code="webhook_url_not_https")


# 4xx answers that mean "not now" rather than "never".
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


class WebhookSender:
    def __init__(self, *, secret: str, timeout: float = 10, client: httpx.AsyncClient | None = None) -> None:
        self._secret = secret
        self._timeout = timeout
        self._client = client

    async def send(self, url: str, outbox_id: str, payload: Mapping[str, Any], *, timestamp: int) -> int:
        """POST one signed delivery; returns the HTTP status (2xx), else raises a DeliveryError."""
        if not self._secret:
            raise TransientDeliveryError(
                "XPTT_WEBHOOK_SECRET is not set: webhooks are never sent unsigned", code="webhook_no_secret"
            )
        check_url(url)
        body = encode_body(payload)
        headers = signed_headers(self._secret, outbox_id, body, timestamp=timestamp)
        headers["User-Agent"] = "xptt-webhooks/1"
        import httpx  # here, not at the top: the worker loads it (and its CLI's dependencies) only to send a webhook

        try:
            if self._client is not None:
                resp = await self._client.post(url, content=body, headers=headers, timeout=self._timeout)
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    resp = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(f"{url}: {type(exc).__name__}: {exc}", code="webhook_unreachable") from None
        if 200 <= resp.status_code < 300:
            return resp.status_code
        detail = f"{url} answered {resp.status_code}: {resp.text[:200]}"
        if 400 <= resp.status_code < 500 and resp.status_code not in RETRYABLE_STATUS:
            raise PermanentDeliveryError(detail, code="webhook_refused")
        raise TransientDeliveryError(detail, code="webhook_unavailable")
