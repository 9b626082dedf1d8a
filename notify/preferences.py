"""Per-official preferences and the delivery plan they give an event. Pure: time is a parameter.

- channels: any of email, webhook, in-app (default: email and in-app);
- digest: email of non-urgent kinds waits for the daily digest instead of going out one by one;
- quiet hours (local time, Asia/Ho_Chi_Minh): email and webhook wait for the end of the quiet period; in-app is
  written at once (it makes no noise). A quiet period may wrap midnight (22:00-06:30).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, model_validator

from domain.calendar import TZ
from notify.events import URGENT_KINDS, Channel, NotificationKind


class Preferences(BaseModel):
    model_config = ConfigDict(frozen=True)

    channels: frozenset[Channel] = frozenset({Channel.EMAIL, Channel.IN_APP})
    digest: bool = False
    quiet_start: time | None = None
    quiet_end: time | None = None
    locale: str = "vi"
    webhook_url: str | None = None

    @model_validator(mode="after")
    def _quiet_pair(self) -> Preferences:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both a start and an end")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("quiet hours start and end at the same time")
        return self


DEFAULT = Preferences()


class ChannelPlan(BaseModel):
    """How one channel carries one event: now, after the quiet hours, or in the digest of `digest_day`."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    deliver_after: datetime
    held_for_digest: bool = False
    digest_day: date | None = None


def in_quiet_hours(at: datetime, prefs: Preferences) -> bool:
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return False
    local = at.astimezone(TZ).time().replace(tzinfo=None)
    start, end = prefs.quiet_start, prefs.quiet_end
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight


def end_of_quiet_hours(at: datetime, prefs: Preferences) -> datetime:
    """`at` itself outside quiet hours; else the first moment after them (aware, local zone)."""
    if not in_quiet_hours(at, prefs):
        return at
    assert prefs.quiet_end is not None
    local = at.astimezone(TZ)
    candidate = datetime.combine(local.date(), prefs.quiet_end, tzinfo=TZ)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), prefs.quiet_end, tzinfo=TZ)
    return candidate


def plan(kind: NotificationKind, prefs: Preferences, *, at: datetime) -> list[ChannelPlan]:
    """The channels an event goes out on for this official, and when."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    plans: list[ChannelPlan] = []
    for channel in sorted(prefs.channels):
        if channel == Channel.IN_APP:
            plans.append(ChannelPlan(channel=channel, deliver_after=at))
        elif channel == Channel.EMAIL and prefs.digest and kind not in URGENT_KINDS:
            plans.append(
                ChannelPlan(
                    channel=channel, deliver_after=at, held_for_digest=True, digest_day=at.astimezone(TZ).date()
                )
            )
        else:
            plans.append(ChannelPlan(channel=channel, deliver_after=end_of_quiet_hours(at, prefs)))
    return plans


def digest_cutoff(day: date, hour: int) -> datetime:
    """The digest of `day` carries what was held before `hour`:00 local time of that day."""
    if not 0 <= hour <= 23:
        raise ValueError(f"digest hour must be 0-23, got {hour}")
    return datetime.combine(day, time(hour), tzinfo=TZ)
