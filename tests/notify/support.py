"""Real receivers for notification tests: an aiosmtpd SMTP server (restartable on its port, refusing some addresses
with 550) and an HTTP webhook receiver on 127.0.0.1 that verifies with the project's verifier."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.notify import NotificationDelivery
from db.models_notify import NotificationRow
from domain.case import case_id_for
from domain.stages import Role
from infra.embedded import free_port
from notify.events import NotificationKind, OutboxEvent, Recipients
from notify.mailer import Mailer
from notify.outbox import enqueue
from notify.sink import MailSink, start_sink
from notify.webhook import MemorySeenIds, WebhookRejected, WebhookSender, verify
from tests.loopback import JsonHandler, serve_in_thread
from tests.support import PROVINCE, ROUND_ID
from worker import build_worker
from workflows.notification import notify_task_queue
from workflows.registry import notification_activities

WEBHOOK_SECRET = "webhook-test-secret-" + "y" * 24
SENDER = "xptt <no-reply@xptt.test>"
REFUSED_DOMAIN = "@refused.invalid"


class RefusingSink(MailSink):
    """Accepts everything except recipients at REFUSED_DOMAIN, which get a permanent 550. `asked` lists every RCPT TO
    the server was sent, accepted or not: how many times a delivery tried each address."""

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__(directory)
        self.asked: list[str] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        self.asked.append(address)
        if address.endswith(REFUSED_DOMAIN):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class SmtpServer:
    """One aiosmtpd server on a fixed loopback port that can be stopped and started again (same port, same
    mailbox), as a mail server that goes down for a while."""

    def __init__(self, directory: Path | None = None) -> None:
        self.port = free_port()
        self.sink = RefusingSink(directory)
        self._controller: Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            self._controller = start_sink(self.sink, port=self.port)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mailer(self) -> Mailer:
        return Mailer(host="127.0.0.1", port=self.port, sender=SENDER, timeout=5)

    def messages(self) -> list[EmailMessage]:
        return self.sink.messages()

    async def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages())} of {count} mails arrived within {timeout} s")
            await asyncio.sleep(0.05)
        return self.messages()


@dataclass
class WebhookReceiver:
    """A receiver as a municipal system would run it: verify, drop duplicates by id (answering 200 so the sender
    stops), act once. `status` forces an answer (e.g. 503) to test the sender."""

    secret: str = WEBHOOK_SECRET
    accepted: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    attempts: int = 0
    status: int | None = None
    seen: MemorySeenIds = field(default_factory=MemorySeenIds)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/xptt"

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        self.attempts += 1
        if self.status is not None:
            return self.status, {"error": "forced"}
        try:
            event = verify(self.secret, headers, body, now=time.time(), seen=self.seen)
        except WebhookRejected as exc:
            if exc.code == "replayed":
                self.duplicates.append(headers.get("X-Xptt-Id", ""))
                return 200, {"duplicate": True}
            self.rejected.append(exc.code)
            return 401, {"error": exc.code}
        self.accepted.append(event.payload)
        return 200, {"ok": True}

    def start(self) -> None:
        receiver = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_json(*receiver.handle(dict(self.headers.items()), body))

        self._server = serve_in_thread(Handler, self.port)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def delivery(
    sessions: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    *,
    after_send: Callable[[str], Any] | None = None,
) -> NotificationDelivery:
    return NotificationDelivery(
        sessions, smtp.mailer(), WebhookSender(secret=WEBHOOK_SECRET, timeout=5), after_send=after_send
    )


@contextlib.asynccontextmanager
async def notify_worker(client: Client, case_task_queue: str, delivery: NotificationDelivery) -> AsyncIterator[str]:
    """A worker on the delivery queue that belongs to `case_task_queue`; yields that queue."""
    queue = notify_task_queue(case_task_queue)
    worker: Worker = build_worker(client, queue, notification_activities(delivery))
    async with worker:
        yield queue


async def rows(sessions: async_sessionmaker[AsyncSession], **where: Any) -> list[NotificationRow]:
    async with sessions() as session:
        query = select(NotificationRow).order_by(NotificationRow.created_at, NotificationRow.id)
        for key, value in where.items():
            query = query.where(getattr(NotificationRow, key) == value)
        return list((await session.execute(query)).scalars())


async def wait_rows(
    sessions: async_sessionmaker[AsyncSession],
    predicate: Callable[[list[NotificationRow]], bool],
    *,
    timeout: float = 20,
    **where: Any,
) -> list[NotificationRow]:
    deadline = time.monotonic() + timeout
    while True:
        found = await rows(sessions, **where)
        if predicate(found):
            return found
        if time.monotonic() > deadline:
            states = [(r.id, r.channel, r.status, r.last_error) for r in found]
            raise AssertionError(f"notifications did not reach the expected state within {timeout} s: {states}")
        await asyncio.sleep(0.1)


def outbox_event(
    unit: str,
    key: str,
    at: datetime,
    *,
    role: Role = Role.COMMUNE_OFFICER,
    kind: NotificationKind = NotificationKind.TASK_ASSIGNED,
    context: dict[str, Any] | None = None,
    **fields: Any,
) -> OutboxEvent:
    """An event at `at` about the case of `unit` in ROUND_ID, for the unit's officials of `role` unless `recipients`
    names others; `context` adds to (or replaces) the stage, round and due time the messages show."""
    return OutboxEvent(
        kind=kind,
        dedup_key=key,
        recipients=fields.pop("recipients", Recipients(roles=(role,), province_code=PROVINCE, unit_code=unit)),
        occurred_at=at,
        province_code=PROVINCE,
        unit_code=unit,
        case_id=case_id_for(ROUND_ID, unit),
        context={"stage": "self_assessment", "round_id": ROUND_ID, "due_at": None} | (context or {}),
        **fields,
    )


async def enqueue_committed(sessions: async_sessionmaker[AsyncSession], event: OutboxEvent) -> list[str]:
    """`event` enqueued in a transaction of its own; the ids of the rows to deliver."""
    async with sessions() as session, session.begin():
        return await enqueue(session, event)
