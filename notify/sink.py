"""A local SMTP sink (aiosmtpd) for development: accepts every message and keeps it as an .eml file.

aiosmtpd is a development package (the `stack` extra): it is imported when a sink starts, not with this module.

Files are named after the Message-ID, so a notification delivered twice (a retry after a crash between the send and
the `delivered` mark) is stored once: the sink collapses by Message-ID, as mail stores do.

    python -m notify.sink --port 1025 --dir var/mail
"""

from __future__ import annotations

import argparse
import email
import email.policy
import re
import signal
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Envelope, Session

log = structlog.get_logger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def file_name(message_id: str | None, fallback: str) -> str:
    return (_UNSAFE.sub("_", (message_id or "").strip("<> ")) or fallback) + ".eml"


class MailSink:
    """aiosmtpd handler: keeps every message received (in `received`, in arrival order) and, with a directory,
    writes it to `<dir>/<Message-ID>.eml`."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.received: list[tuple[Envelope, EmailMessage]] = []
        self.arrivals: list[tuple[str, float]] = []  # (Message-ID, time.monotonic()) of every transmission
        self._lock = threading.Lock()
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append((envelope, message))
            self.arrivals.append((str(message["Message-ID"]), time.monotonic()))
            count = len(self.received)
        if self.directory is not None:
            path = self.directory / file_name(message["Message-ID"], f"message-{count}")
            path.write_bytes(data)
            log.info("mail_received", to=list(envelope.rcpt_tos), subject=str(message["Subject"]), file=str(path))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [m for _, m in self.received]

    def distinct(self) -> dict[str, EmailMessage]:
        """The messages collapsed by Message-ID, as a mailbox shows them."""
        out: dict[str, EmailMessage] = {}
        for m in self.messages():
            out.setdefault(str(m["Message-ID"]), m)
        return out


def start_sink(handler: Any, *, host: str = "127.0.0.1", port: int) -> Controller:
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname=host, port=port, decode_data=False)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink: every message lands in DIR as an .eml file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    from infra.logs import configure_logging

    configure_logging()
    controller = start_sink(MailSink(args.dir), host=args.host, port=args.port)
    log.info("mail_sink_started", host=args.host, port=args.port, directory=str(args.dir.resolve()))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    log.info("mail_sink_stopped")


if __name__ == "__main__":
    main()
