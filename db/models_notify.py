"""Notification tables: the outbox (one row per message = recipient × channel) and per-official preferences.

An outbox row is written in the same transaction as the state change it announces (see `notify.outbox`); its id is
derived from (dedup key, recipient, channel), so re-running that transaction inserts nothing new. The id is also the
message id of the delivered email (`Message-ID`) and webhook (`X-Xptt-Id`), and the key of the in-app notification.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, Time, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class NotificationRow(Base):
    """One message to one official over one channel.

    status: `pending` (to send, not before `deliver_after`) → `sending` (claimed by a delivery attempt) →
    `delivered` | `failed`; email held for the daily digest is `held` → `digested` (carried by the digest row
    `digest_id`). In-app rows are `delivered` when written; `read_at` marks them read.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "official_id", "channel", "created_at"),
        Index("ix_notifications_board", "province_code", "status"),
        Index("ix_notifications_held", "status", "channel", "official_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)  # email | webhook | in_app
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"))
    address: Mapped[str | None] = mapped_column(Text)  # email address or webhook URL; NULL for in-app
    locale: Mapped[str] = mapped_column(Text)
    dedup_key: Mapped[str] = mapped_column(Text, index=True)
    case_id: Mapped[str | None] = mapped_column(Text, index=True)
    task_id: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(5))
    province_code: Mapped[str | None] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text)
    digest_id: Mapped[str | None] = mapped_column(Text)
    digest_day: Mapped[date | None] = mapped_column(Date)
    deliver_after: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sending_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


class NotificationPreferenceRow(Base):
    """An official's choices; an official without a row gets `notify.preferences.DEFAULT`."""

    __tablename__ = "notification_preferences"
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), primary_key=True)
    channels: Mapped[list[str]] = mapped_column(ARRAY(Text))
    digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    quiet_start: Mapped[time | None] = mapped_column(Time)  # local time, Asia/Ho_Chi_Minh
    quiet_end: Mapped[time | None] = mapped_column(Time)
    locale: Mapped[str] = mapped_column(Text, default="vi", server_default=text("'vi'"))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
