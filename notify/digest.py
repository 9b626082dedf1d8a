"""The daily digest: email held for officials who chose it, gathered into one message per official and day.

`build_digests(session, day=D, hour=H)` takes every `held` email row created before D at H:00 local time, and per
official writes one `daily_digest` outbox row (id from the key `digest:<official>:<D>`) and marks the items
`digested` with that id — in the caller's transaction. Safe to run twice: when the digest row of (official, D)
exists already, its items were attached by the run that wrote it, and anything held since waits for the next day;
nothing is mailed twice. Returns the digest ids still to deliver.

Its links are web pages: each item's own (a link held from before mails named pages is turned into the page of the
same task, case or round), and the official's task list for the digest itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OfficialRow
from db.models_notify import NotificationPreferenceRow, NotificationRow
from domain.calendar import TZ
from notify.events import Channel, NotificationKind, outbox_id
from notify.preferences import digest_cutoff, end_of_quiet_hours
from notify.recipients import preferences_of
from notify.templates import render

log = structlog.get_logger(__name__)


# JSON API addresses older rows carry, and the web page a person opens instead.
API_TO_PAGE = (
    (re.compile(r"/v1/tasks/([^/?#]+)$"), "/web/tasks/{0}"),
    (re.compile(r"/v1/cases/([^/?#]+)$"), "/web/cases/{0}"),
    (re.compile(r"/v1/rounds/([^/?#]+)/(?:progress|report)\?province=([^&#]+)$"), "/web/rounds/{0}?province={1}"),
)


def web_link(link: str | None) -> str | None:
    """The web page of a stored link (a JSON API address becomes its page; anything else stays)."""
    if not link:
        return link
    for pattern, page in API_TO_PAGE:
        found = pattern.search(link)
        if found:
            return link[: found.start()] + page.format(*found.groups())
    return link


def _tasks_page() -> str:
    from infra.settings import get_settings

    return f"{get_settings().public_url.rstrip('/')}/web/tasks"


def digest_key(official_id: str, day: date) -> str:
    return f"digest:{official_id}:{day.isoformat()}"


async def build_digests(session: AsyncSession, *, day: date, hour: int) -> tuple[list[str], int]:
    """(digest ids to deliver, items gathered by this run)."""
    cutoff = digest_cutoff(day, hour)
    held = (
        (
            await session.execute(
                select(NotificationRow)
                .where(
                    NotificationRow.status == "held",
                    NotificationRow.channel == Channel.EMAIL.value,
                    NotificationRow.created_at < cutoff,
                )
                .order_by(NotificationRow.official_id, NotificationRow.created_at, NotificationRow.id)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    by_official: dict[str, list[NotificationRow]] = defaultdict(list)
    for row in held:
        by_official[row.official_id].append(row)
    gathered = 0
    for official_id, items in by_official.items():
        gathered += await _gather(session, official_id, items, day=day, cutoff=cutoff)
    pending = (
        await session.execute(
            select(NotificationRow.id)
            .where(
                NotificationRow.kind == NotificationKind.DAILY_DIGEST.value,
                NotificationRow.digest_day == day,
                NotificationRow.status.in_(("pending", "sending")),
            )
            .order_by(NotificationRow.id)
        )
    ).scalars()
    ids = list(pending)
    log.info("digests_built", day=day.isoformat(), digests=len(ids), items=gathered)
    return ids, gathered


async def _gather(
    session: AsyncSession, official_id: str, items: list[NotificationRow], *, day: date, cutoff: datetime
) -> int:
    """Write the official's digest of `day` and mark its items `digested`; the number of items it gathered (none
    when the official has no address, or when an earlier run wrote the digest)."""
    person = await session.get(OfficialRow, official_id)
    if person is None or not person.email:
        log.warning("digest_skipped", official_id=official_id, reason="no email address", items=len(items))
        return 0
    prefs = preferences_of(await session.get(NotificationPreferenceRow, official_id))
    key = digest_key(official_id, day)
    did = outbox_id(key, official_id, Channel.EMAIL)
    context: dict[str, Any] = {
        "recipient": person.full_name,
        "link": _tasks_page(),
        "day_start": datetime.combine(day, time(0), tzinfo=TZ).isoformat(),
        "cutoff": cutoff.isoformat(),
        "items": [
            {"id": i.id, "subject": i.subject, "link": web_link(i.link), "created_at": i.created_at.isoformat()}
            for i in items
        ],
    }
    rendered = render(NotificationKind.DAILY_DIGEST.value, context, locale=prefs.locale)
    inserted = await session.scalar(
        insert(NotificationRow)
        .values(
            id=did,
            kind=NotificationKind.DAILY_DIGEST.value,
            channel=Channel.EMAIL.value,
            official_id=official_id,
            address=person.email,
            locale=rendered.locale,
            dedup_key=key,
            province_code=items[0].province_code,
            subject=rendered.subject,
            body=rendered.body,
            payload={"kind": NotificationKind.DAILY_DIGEST.value, "items": [i.id for i in items]},
            status="pending",
            digest_day=day,
            deliver_after=end_of_quiet_hours(cutoff, prefs),
            created_at=cutoff,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(NotificationRow.id)
    )
    if inserted is None:
        return 0  # built by an earlier run; these items wait for tomorrow's digest
    await session.execute(
        update(NotificationRow)
        .where(NotificationRow.id.in_([i.id for i in items]), NotificationRow.status == "held")
        .values(status="digested", digest_id=did)
    )
    return len(items)
