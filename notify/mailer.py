"""Email over SMTP (aiosmtplib): building the message (pure) and sending it, with errors sorted into permanent and
transient.

Idempotency: SMTP has no idempotency key, so the guarantee is precisely this. Every message carries
`Message-ID: <outbox id@domain>` and `X-Xptt-Notification-Id: <outbox id>`, the same on every attempt. A second
transmission of one notification can only happen when a delivery attempt dies after the server accepted the
message (250 after DATA) and before the outbox row was marked `delivered`; the retry then sends a byte-identical
message with the same Message-ID. Receivers that collapse messages by Message-ID (the dev sink, which stores one
file per Message-ID, and most mail stores and clients) show it once. No other path resends a delivered row.
"""

from __future__ import annotations

import email.utils
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

import aiosmtplib
import structlog

from infra.settings import Settings
from notify.errors import InvalidRecipient, PermanentDeliveryError, TransientDeliveryError

log = structlog.get_logger(__name__)

TLS_MODES = ("none", "starttls", "tls")


MAX_ADDRESS = 254  # RFC 5321: a path of 256 octets, angle brackets included
MAX_LOCAL_PART = 64
MAX_LABEL = 63
LOCAL_SPECIALS = frozenset("!#$%&'*+/=?^_`{|}~-")  # RFC 5322 atext besides letters and digits


def _address_problem(address: str) -> str | None:
    """Why `address` is not one plain mailbox address, or None. Letters may be any script's (RFC 6531)."""
    if not address:
        return "empty"
    if len(address) > MAX_ADDRESS:
        return f"longer than {MAX_ADDRESS} characters"
    if any(c.isspace() or not c.isprintable() for c in address):
        return "contains a space or a control character"
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "not of the form local@domain"
    if "@" in local:
        return "more than one @"
    if len(local) > MAX_LOCAL_PART:
        return f"the part before @ is longer than {MAX_LOCAL_PART} characters"
    if any(not part or not all(c.isalnum() or c in LOCAL_SPECIALS for c in part) for part in local.split(".")):
        return "the part before @ holds a character or a dot that a mailbox name cannot"
    labels = domain.split(".")
    if len(labels) < 2:
        return f"the domain {domain!r} has no dot"
    for label in labels:
        if not label or label.startswith("-") or label.endswith("-"):
            return f"the domain {domain!r} has an empty label or one that starts or ends with a hyphen"
        if not all(c.isalnum() or c == "-" for c in label) or not _host_label(label):
            return f"the domain {domain!r} holds a character or a label that a host name cannot"
    if labels[-1].isdigit():
        return f"the domain {domain!r} is not a host name"
    return None


def _host_label(label: str) -> bool:
    """A label DNS can carry: ASCII, or one IDNA encodes, in at most 63 octets."""
    try:
        return len(label.encode("idna")) <= MAX_LABEL
    except UnicodeError:
        return False


def checked_recipient(address: str) -> str:
    """`address` when it is one plain mailbox address; else InvalidRecipient, a permanent failure: a list, a display
    name, a quoted or commented form, an address literal or a line break would never be sent as meant."""
    problem = _address_problem(address)
    if problem is not None:
        shown = address if len(address) <= 80 else address[:80] + "…"
        raise InvalidRecipient(f"{shown!r} is not an email address: {problem}")
    return address


def message_id(outbox_id: str, domain: str) -> str:
    return f"<{outbox_id}@{domain}>"


def sender_domain(sender: str) -> str:
    _, address = email.utils.parseaddr(sender)
    return address.rpartition("@")[2] or "xptt.localhost"


def build_email(
    *,
    outbox_id: str,
    sender: str,
    to: str,
    to_name: str | None,
    subject: str,
    body: str,
    created_at: datetime,
    locale: str = "vi",
) -> EmailMessage:
    """The message for one outbox row; the same row always gives the same message. InvalidRecipient when `to` is
    not one mailbox address."""
    checked_recipient(to)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = Address(display_name=to_name or "", addr_spec=to) if to_name else to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(created_at)
    msg["Message-ID"] = message_id(outbox_id, sender_domain(sender))
    msg["X-Xptt-Notification-Id"] = outbox_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = locale
    msg.set_content(body, charset="utf-8")
    return msg


class Mailer:
    """Sends one message per call over a fresh connection (notifications are few; no pool to go stale)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        tls: str = "none",
        username: str = "",
        password: str = "",
        timeout: float = 30,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, got {tls!r}")
        self.host, self.port, self.sender, self.tls = host, port, sender, tls
        self._username, self._password, self._timeout = username, password, timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
        )

    async def send(self, message: EmailMessage) -> None:
        """Raise PermanentDeliveryError for a 5xx about this message (refused recipient, rejected content),
        TransientDeliveryError for anything worth retrying (server down, 4xx, timeouts, our own credentials)."""
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self._username or None,
                password=self._password or None,
                use_tls=self.tls == "tls",
                start_tls=self.tls == "starttls",
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            if codes and all(c >= 500 for c in codes):
                raise PermanentDeliveryError(detail, code="smtp_recipient_refused") from None
            raise TransientDeliveryError(detail, code="smtp_recipient_deferred") from None
        except aiosmtplib.SMTPRecipientRefused as exc:
            detail = f"{exc.recipient}: {exc.code} {exc.message}"
            if exc.code >= 500:
                raise PermanentDeliveryError(detail, code="smtp_recipient_refused") from None
            raise TransientDeliveryError(detail, code="smtp_recipient_deferred") from None
        except aiosmtplib.SMTPDataError as exc:
            if exc.code >= 500:
                raise PermanentDeliveryError(f"{exc.code} {exc.message}", code="smtp_message_rejected") from None
            raise TransientDeliveryError(f"{exc.code} {exc.message}", code="smtp_busy") from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our credentials, not the message: retry while operators fix SMTP_USERNAME / SMTP_PASSWORD.
            log.error("smtp_auth_failed", host=self.host, port=self.port, code=exc.code)
            raise TransientDeliveryError(f"{exc.code} {exc.message}", code="smtp_auth_failed") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise TransientDeliveryError(f"{exc.code} {exc.message}", code="smtp_error") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientDeliveryError(
                f"{self.host}:{self.port}: {type(exc).__name__}: {exc}", code="smtp_unavailable"
            ) from None
