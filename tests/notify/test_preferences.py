"""Delivery plans: channels, the digest and quiet hours (Asia/Ho_Chi_Minh), time as a parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import TZ
from notify.events import Channel, NotificationKind
from notify.preferences import (
    DEFAULT,
    Preferences,
    digest_cutoff,
    end_of_quiet_hours,
    in_quiet_hours,
    plan,
)

NIGHT = Preferences(quiet_start=time(22), quiet_end=time(6, 30))


def local(h: int, m: int = 0, day: int = 15) -> datetime:
    return datetime(2027, 10, day, h, m, tzinfo=TZ)


def test_default_is_email_and_in_app_at_once() -> None:
    at = local(10)
    plans = plan(NotificationKind.TASK_ASSIGNED, DEFAULT, at=at)
    assert {(p.channel, p.deliver_after, p.held_for_digest) for p in plans} == {
        (Channel.EMAIL, at, False),
        (Channel.IN_APP, at, False),
    }


def test_quiet_hours_wrapping_midnight() -> None:
    assert in_quiet_hours(local(23), NIGHT)
    assert in_quiet_hours(local(2), NIGHT)
    assert not in_quiet_hours(local(6, 30), NIGHT)
    assert not in_quiet_hours(local(12), NIGHT)
    assert end_of_quiet_hours(local(23), NIGHT) == local(6, 30, day=16)
    assert end_of_quiet_hours(local(2), NIGHT) == local(6, 30)
    assert end_of_quiet_hours(local(12), NIGHT) == local(12)


def test_quiet_hours_are_read_in_vietnam_time_whatever_the_zone_of_the_event() -> None:
    utc = datetime(2027, 10, 15, 16, 0, tzinfo=UTC)  # 23:00 in Hà Nội
    assert in_quiet_hours(utc, NIGHT)
    assert end_of_quiet_hours(utc, NIGHT) == local(6, 30, day=16)


def test_email_and_webhook_wait_for_the_end_of_quiet_hours_in_app_does_not() -> None:
    prefs = NIGHT.model_copy(update={"channels": frozenset(Channel)})
    plans = {p.channel: p for p in plan(NotificationKind.TASK_ASSIGNED, prefs, at=local(23))}
    assert plans[Channel.EMAIL].deliver_after == local(6, 30, day=16)
    assert plans[Channel.WEBHOOK].deliver_after == local(6, 30, day=16)
    assert plans[Channel.IN_APP].deliver_after == local(23)


def test_digest_holds_email_but_not_escalations_webhooks_or_in_app() -> None:
    prefs = Preferences(channels=frozenset(Channel), digest=True)
    plans = {p.channel: p for p in plan(NotificationKind.TASK_ASSIGNED, prefs, at=local(10))}
    assert plans[Channel.EMAIL].held_for_digest and plans[Channel.EMAIL].digest_day == date(2027, 10, 15)
    assert not plans[Channel.WEBHOOK].held_for_digest
    assert not plans[Channel.IN_APP].held_for_digest
    urgent = {p.channel: p for p in plan(NotificationKind.TASK_ESCALATED, prefs, at=local(10))}
    assert not urgent[Channel.EMAIL].held_for_digest


def test_half_given_quiet_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        Preferences(quiet_start=time(22))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan(NotificationKind.TASK_ASSIGNED, DEFAULT, at=datetime(2027, 10, 15, 10))


def test_digest_cutoff_is_the_local_hour_of_the_day() -> None:
    assert digest_cutoff(date(2027, 10, 16), 7) == local(7, day=16)
    with pytest.raises(ValueError):
        digest_cutoff(date(2027, 10, 16), 24)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.times(),
    st.times(),
)
def test_delivery_never_falls_in_quiet_hours_and_never_before_the_event(at: datetime, start: time, end: time) -> None:
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if start == end:
        return
    prefs = Preferences(quiet_start=start, quiet_end=end)
    after = end_of_quiet_hours(at, prefs)
    assert after >= at
    assert not in_quiet_hours(after, prefs)
    assert (after - at).total_seconds() <= 24 * 3600
