"""A due time moves at most the horizon after now (default DUE_HORIZON_DAYS), into the future, with its zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.admin import DUE_HORIZON_DAYS, AdminActionError, check_due_horizon

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("new_due", "fragment"),
    [
        (datetime(5000, 1, 1, tzinfo=UTC), "more than 180 days after now"),
        (NOW + timedelta(days=DUE_HORIZON_DAYS, seconds=1), "more than 180 days after now"),
        (NOW, "is not in the future"),
        (datetime(2026, 12, 1, 17, 0), "with its time zone"),
    ],
)
def test_a_due_time_beyond_the_horizon_in_the_past_or_without_zone_is_refused(new_due: datetime, fragment: str) -> None:
    with pytest.raises(AdminActionError) as caught:
        check_due_horizon(new_due, now=NOW)
    assert caught.value.field == "new_due_at" and caught.value.code == "invalid_payload"
    assert fragment in str(caught.value)


def test_the_horizon_is_a_parameter() -> None:
    check_due_horizon(NOW + timedelta(days=DUE_HORIZON_DAYS), now=NOW)
    check_due_horizon(NOW + timedelta(days=300), now=NOW, horizon=timedelta(days=365))
    with pytest.raises(AdminActionError, match="more than 30 days"):
        check_due_horizon(NOW + timedelta(days=31), now=NOW, horizon=timedelta(days=30))


@given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
def test_a_move_is_taken_exactly_when_it_falls_within_the_horizon(delta: timedelta) -> None:
    ok = timedelta(0) < delta <= timedelta(days=DUE_HORIZON_DAYS)
    try:
        check_due_horizon(NOW + delta, now=NOW)
    except AdminActionError:
        assert not ok
    else:
        assert ok


def test_the_setting_defaults_to_the_domains_horizon() -> None:
    from infra.settings import Settings

    assert Settings.model_fields["due_horizon_days"].default == DUE_HORIZON_DAYS
