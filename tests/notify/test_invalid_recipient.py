"""A recipient that can never be reached fails at once: an address that is not one mailbox (malformed, a list, a
display name, a header injection) is refused before any server is asked, and an address the SMTP server refuses
with a 5xx ends the delivery too. Each ends `failed` after one attempt (counted in the outbox row, in the delivery
workflow's history and at the SMTP server) and shows on the administrators' board with its reason, read in
Vietnamese on the page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from db.models import OfficialRow
from domain.stages import Role
from notify.errors import InvalidRecipient, PermanentDeliveryError
from notify.mailer import build_email, checked_recipient
from notify.payloads import DeliverNotificationInput, NotificationRef
from tests.notify.support import (
    REFUSED_DOMAIN,
    SmtpServer,
    delivery,
    enqueue_committed,
    notify_worker,
    outbox_event,
    rows,
)
from tests.support import running_stack, seed
from tests.web.test_pages import sign_in
from workflows.notification import NotificationDeliveryWorkflow

T0 = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, in the past: no quiet-hour waits
MALFORMED = [
    "nobody",  # no domain: a server may deliver it to a local account
    "a@@hungyen.gov.vn",
    "can.bo@hungyen",
    "can bo@hungyen.gov.vn",
    "Cán bộ <canbo@hungyen.gov.vn>",
    "canbo@hungyen.gov.vn, other@elsewhere.vn",  # a list: the message would go to both
    "canbo@hungyen.gov.vn\r\nBcc: spy@elsewhere.vn",  # a header injection
    "canbo@[127.0.0.1]",
    ".canbo@hungyen.gov.vn",
    "canbo@hungyen..gov.vn",
    "",
]
GOOD = ["demo-officer-33001@example.invalid", "nguyen.thi.lan+xptt@hungyen.gov.vn", "lan@xã.vn", "o'neil@x.ie"]


@pytest.mark.parametrize("address", GOOD)
def test_a_mailbox_address_is_taken_as_it_is(address: str) -> None:
    assert checked_recipient(address) == address


@pytest.mark.parametrize("address", MALFORMED)
def test_an_address_that_is_not_one_mailbox_is_a_permanent_failure(address: str) -> None:
    with pytest.raises(InvalidRecipient) as info:
        build_email(
            outbox_id="ntf_x", sender="xptt <no-reply@xptt.test>", to=address, to_name=None, subject="s", body="b",
            created_at=T0,
        )  # fmt: skip
    assert isinstance(info.value, PermanentDeliveryError)
    assert str(info.value).startswith("invalid_address: ")
    assert "\r" not in str(info.value) and "\n" not in str(info.value)  # shown on the board as one line


async def _set_email(sessions: async_sessionmaker[AsyncSession], official_id: str, email: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(OfficialRow).where(OfficialRow.id == official_id).values(email=email))


async def test_a_malformed_address_fails_its_only_attempt_and_no_server_is_asked(
    sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    unit, _ = await seed(sessions)
    activities = delivery(sessions, smtp)
    env = ActivityEnvironment()
    for n, address in enumerate(MALFORMED[:7]):
        await _set_email(sessions, f"demo-officer-{unit}", address)
        event = outbox_event(unit, f"k{n}", T0, context={"role": "commune_officer"})
        ids = await enqueue_committed(sessions, event)
        [row] = [r for r in await rows(sessions, channel="email") if r.id in ids]
        outcome = await env.run(activities.deliver, NotificationRef(outbox_id=row.id))
        again = await env.run(activities.deliver, NotificationRef(outbox_id=row.id))
        assert (outcome.status, outcome.attempts) == ("failed", 1), address
        assert (again.status, again.attempts) == ("failed", 1), address  # a failed row is never tried again
        assert outcome.error is not None and outcome.error.startswith("invalid_address: "), outcome.error
    assert smtp.sink.asked == [] and smtp.messages() == []


async def _deliver_attempts(handle: WorkflowHandle[NotificationDeliveryWorkflow, object]) -> list[int]:
    """The attempt of each `deliver_notification` start in the history (a retried activity records its last)."""
    scheduled: dict[int, str] = {}
    attempts: list[int] = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            if scheduled[started.scheduled_event_id] == "deliver_notification":
                attempts.append(started.attempt)
    return attempts


async def test_an_unreachable_recipient_ends_failed_after_one_attempt_and_shows_on_the_board(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        unit = stack.unit_code
        officer, chair = f"demo-officer-{unit}", f"demo-council-chair-{unit}"
        assert {officer, chair} <= {o.id for o in stack.officials}
        malformed, refused = "canbo@@hungyen.gov.vn", "chu.tich" + REFUSED_DOMAIN
        await _set_email(sessions, officer, malformed)
        await _set_email(sessions, chair, refused)
        for key, role in (("a", Role.COMMUNE_OFFICER), ("b", Role.COUNCIL_CHAIR)):
            await enqueue_committed(sessions, outbox_event(unit, key, T0, role=role, context={"role": role.value}))
        emails = await rows(sessions, channel="email")
        assert sorted(r.address or "" for r in emails) == sorted([malformed, refused])

        # the retry policy would retry fast and give up after 5: a retried delivery could not pass as a single one
        retry = {"retry_initial_seconds": 0.2, "retry_max_interval_seconds": 0.5, "max_attempts": 5}
        async with notify_worker(stack.client, stack.task_queue, delivery(sessions, smtp)) as queue:
            handles = {
                r.address: await stack.client.start_workflow(
                    NotificationDeliveryWorkflow.run,
                    DeliverNotificationInput(outbox_id=r.id, **retry),
                    id=f"{r.id}-{uuid.uuid4().hex[:6]}",
                    task_queue=queue,
                )
                for r in emails
            }
            outcomes = {address: await handle.result() for address, handle in handles.items()}
            attempts = {address: await _deliver_attempts(handle) for address, handle in handles.items()}
        assert {a: (o.status, o.attempts) for a, o in outcomes.items()} == {
            malformed: ("failed", 1),
            refused: ("failed", 1),
        }
        assert attempts == {malformed: [1], refused: [1]}
        assert smtp.sink.asked == [refused]  # the server was asked once, for the address it then refused
        assert smtp.messages() == []
        by_address = {r.address: r for r in await rows(sessions, channel="email")}
        assert by_address[malformed].last_error is not None
        assert by_address[malformed].last_error.startswith("invalid_address: ")
        assert (by_address[refused].last_error or "").startswith("smtp_recipient_refused: ")

        board = await stack.http.get("/v1/board", params={"failing": "false"}, headers=stack.headers("admin"))
        assert board.status_code == 200, board.text
        failed = {i["detail"]: i for i in board.json()["items"] if i["reason"] == "failed_notification"}
        assert board.json()["totals"]["failed_notification"] == 2
        details = sorted(failed)
        assert details[0].startswith(f"task_assigned by email to {chair} <{refused}>, 1 attempt: smtp_recipient_ref")
        assert details[1].startswith(f"task_assigned by email to {officer} <{malformed}>, 1 attempt: invalid_address")

        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            await sign_in(web, stack, "admin")
            page = await web.get("/web/board")
            assert page.status_code == 200
            listed = page.text.split('id="failed-notifications"', 1)[1].split("</table>", 1)[0]
            assert "Thông báo không gửi được (2)" in listed
            assert "Địa chỉ email không hợp lệ" in listed and "Máy chủ thư từ chối địa chỉ người nhận" in listed
            assert malformed in listed and refused in listed and "Giao việc" in listed
            english = await web.get("/web/board?lang=en")
            assert "Not a valid email address" in english.text and "Notifications that failed (2)" in english.text
