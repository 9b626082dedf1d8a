"""A case driven through its stages over the HTTP API notifies the right officials exactly once per event and
channel: counted at a real SMTP server (aiosmtpd) and a real webhook receiver, with Vietnamese subjects."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from notify.events import Channel
from notify.inbox import list_notifications, set_preferences
from notify.preferences import Preferences
from tests.builders import complete_human_stages
from tests.notify.support import SmtpServer, WebhookReceiver, delivery, notify_worker, wait_rows
from tests.support import PROVINCE, running_stack


async def test_driving_a_case_delivers_one_message_per_event_and_channel(
    temporal_env: WorkflowEnvironment,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    receiver: WebhookReceiver,
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        unit = stack.unit_code
        officer, chair = f"demo-officer-{unit}", f"demo-council-chair-{unit}"
        commune_chairman = f"demo-commune-chairman-{unit}"
        appraiser, chairman = f"demo-appraiser-{PROVINCE}", f"demo-chairman-{PROVINCE}"
        async with sessions() as session, session.begin():
            await set_preferences(
                session,
                officer,
                Preferences(channels=frozenset(Channel), webhook_url=receiver.url),
                at=datetime.now(UTC),
            )
        async with notify_worker(temporal_env.client, stack.task_queue, delivery(sessions, smtp)):
            case_id = await stack.start_case()
            await complete_human_stages(stack, case_id)
            result = await temporal_env.client.get_workflow_handle(case_id).result()
            assert result["outcome"] == "recognised"
            # 9 emails, 5 webhooks (the officer chose them), 9 in-app rows
            sent = await wait_rows(
                sessions,
                lambda rs: len(rs) == 23 and {r.status for r in rs} == {"delivered"},
                case_id=case_id,
                timeout=30,
            )
            sent = [r for r in sent if r.channel != "in_app"]

    expected = Counter(
        {
            ("task_assigned", officer): 4,  # registration, self-assessment, public posting, dossier
            ("task_assigned", chair): 1,
            ("task_assigned", appraiser): 1,
            ("task_assigned", chairman): 1,
            ("decision_made", officer): 1,
            ("decision_made", commune_chairman): 1,
        }
    )
    by_id = {r.id: r for r in sent}

    # SMTP: one mail per (event, recipient), no duplicate Message-ID, to the official's address, in Vietnamese
    mails = smtp.messages()
    ids = [m["X-Xptt-Notification-Id"] for m in mails]
    assert len(ids) == len(set(ids)) == sum(expected.values())
    assert Counter((by_id[i].kind, by_id[i].official_id) for i in ids) == expected
    assert Counter((by_id[i].dedup_key, by_id[i].official_id) for i in ids).most_common(1)[0][1] == 1
    for mail in mails:
        row = by_id[mail["X-Xptt-Notification-Id"]]
        assert mail["To"] == f"{row.official_id}@example.invalid"
        assert mail["Message-ID"] == f"<{row.id}@xptt.test>"
        subject = str(mail["Subject"])
        if row.kind == "task_assigned":
            assert subject.startswith("[xptt] Nhiệm vụ mới: "), subject
        else:
            assert subject.startswith("[xptt] Kết quả xét công nhận: ") and subject.endswith("được công nhận")
    assert any("Tự đánh giá" in str(m["Subject"]) for m in mails)
    assert any("Thẩm định hồ sơ" in str(m["Subject"]) for m in mails)

    # webhook: the officer's five events, each verified and acted on once
    assert receiver.rejected == [] and receiver.duplicates == []
    hooks = list(receiver.accepted)
    assert len(hooks) == len({p["id"] for p in hooks}) == 5
    assert Counter(p["kind"] for p in hooks) == {"task_assigned": 4, "decision_made": 1}
    assert all(p["official_id"] == officer and p["case_id"] == case_id for p in hooks)

    # in-app: the same events, unread, in the officer's list
    async with sessions() as session:
        inbox = await list_notifications(session, officer, unread_only=True)
    assert len(inbox) == 5 and all(n.case_id == case_id for n in inbox)
    assert inbox[0].kind == "decision_made"  # newest first
    assert {n.kind for n in inbox} == {"task_assigned", "decision_made"}
