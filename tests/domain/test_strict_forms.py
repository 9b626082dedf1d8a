"""Strict forms: a score is a JSON integer under its criterion's canonical key, a flag is true or false, a day is
YYYY-MM-DD within the round's calendar and not in the future; each refusal names the field. Forms recorded before
were read leniently, and `lax` reads them so again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.form_dates import FUTURE_TOLERANCE, date_window
from domain.form_fields import criterion_number, whole_number
from domain.forms import FormContext, FormError, parse_form
from domain.rounds import parse_round
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Stage

RULES = load_rule_set("qd06-2019")
CTX = FormContext(
    rule_set=RULES,
    locality_type=LocalityType.OTHER,
    posting_working_days=5,
    council_scores={c.number: c.max_points for c in RULES.criteria},
)
FULL = {str(c.number): c.max_points for c in RULES.criteria}
ROUND = parse_round("qd06-2019:2027")  # period 1 Nov 2024 – 31 Oct 2027
NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 11:00 on 30 Nov 2026 in Vietnam
COUNCIL = {"scores": FULL, "meeting_date": "2026-11-20", "minutes_ref": "BB-01", "members": ["Chủ tịch UBND xã"]}
POSTING = {"posted_from": "2026-11-02", "posted_to": "2026-11-13", "place": "Trụ sở UBND xã"}
DECISION = {"recognised": True, "decision_number": "QĐ-1", "decision_date": "2026-11-27"}


def refusal(stage: Stage, payload: dict[str, Any], **kw: Any) -> tuple[str, str]:
    with pytest.raises(FormError) as caught:
        parse_form(stage, payload, CTX, **kw)
    return caught.value.field, caught.value.reason


def dated(stage: Stage, payload: dict[str, Any]) -> object:
    return parse_form(stage, payload, CTX, now=NOW, period_start=ROUND.period_start)


# -- scores ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("points", "kind"),
    [("74", "text"), (" 7_4 ", "text"), (74.0, "a decimal"), (True, "true or false"), (None, "null"), ([74], "list")],
)
def test_a_score_that_is_not_a_json_integer_is_refused_naming_its_criterion(points: object, kind: str) -> None:
    field, reason = refusal(Stage.SELF_ASSESSMENT, {"scores": {**FULL, "1": points}})
    assert field == "scores.1"
    assert "whole number given as a JSON integer" in reason and kind in reason


@pytest.mark.parametrize("key", ["01", " 1", "1 ", "+1", "1.0", "1e0", "١", "１", "0", "-1", "", "1" * 4400])
def test_a_criterion_key_that_is_not_canonical_is_refused_naming_it(key: str) -> None:
    field, reason = refusal(Stage.SELF_ASSESSMENT, {"scores": {**FULL, key: 3}})
    assert field.startswith("scores.") and len(field) < 60
    assert field == f"scores.{key}" or key == "1" * 4400
    assert "not a criterion number" in reason


def test_a_source_under_a_key_that_is_not_canonical_is_refused() -> None:
    assert refusal(Stage.SELF_ASSESSMENT, {"scores": FULL, "sources": {"02": "Sổ hộ tịch"}})[0] == "sources.02"


def test_the_lax_reading_of_recorded_forms_takes_what_it_took_then() -> None:
    form = parse_form(Stage.SELF_ASSESSMENT, {"scores": {**FULL, "1": "74", "02": 3}}, CTX, lax=True)
    assert form.scores[1] == 74 and form.scores[2] == 3  # type: ignore[union-attr]
    registration = parse_form(Stage.REGISTRATION, {"registered": "yes"}, CTX, lax=True)
    assert registration.registered is True  # type: ignore[union-attr]


@given(st.integers(min_value=1, max_value=10**9 - 1))
def test_every_canonical_key_names_its_number(number: int) -> None:
    assert criterion_number(str(number)) == number


@given(st.text(max_size=12))
def test_a_key_names_a_criterion_only_when_it_is_the_decimal_of_that_number(key: str) -> None:
    number = criterion_number(key)
    if number is not None:
        assert str(number) == key


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.text(max_size=8), st.none()))
def test_a_score_parses_exactly_when_it_is_an_int_in_range(points: object) -> None:
    payload = {"scores": {**FULL, "1": points}}
    maximum = RULES.criterion(1).max_points
    valid = isinstance(points, int) and not isinstance(points, bool) and 0 <= points <= maximum
    if valid:
        assert parse_form(Stage.SELF_ASSESSMENT, payload, CTX).scores[1] == points  # type: ignore[union-attr]
    else:
        assert refusal(Stage.SELF_ASSESSMENT, payload)[0] == "scores.1"


@given(st.text(max_size=12))
def test_a_typed_whole_number_is_ascii_digits_with_an_optional_minus(text: str) -> None:
    number = whole_number(text)
    if number is not None:
        assert text.strip().lstrip("-").isascii() and str(number) == str(int(text.strip()))


def test_a_page_number_of_thousands_of_digits_is_no_number_and_raises_nothing() -> None:
    assert whole_number("9" * 5000) is None and criterion_number("9" * 5000) is None
    assert whole_number(" 74 ") == 74 and whole_number("-3") == -3 and whole_number("7_4") is None


# -- flags and days --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["true", "yes", 1, 0, None, "1"])
def test_a_flag_is_true_or_false(value: object) -> None:
    field, reason = refusal(Stage.REGISTRATION, {"registered": value})
    assert field == "registered" and "true or false" in reason


@pytest.mark.parametrize(
    "value", ["31/10/2026", "2026-1-5", " 2026-11-20", 20261120, "2026-11-20T00:00:00", "2026-02-30"]
)
def test_a_day_is_written_yyyy_mm_dd(value: object) -> None:
    assert refusal(Stage.COUNCIL_ASSESSMENT, {**COUNCIL, "meeting_date": value})[0] == "meeting_date"


@pytest.mark.parametrize(
    ("stage", "payload", "field"),
    [
        (Stage.COUNCIL_ASSESSMENT, {**COUNCIL, "meeting_date": "2099-10-20"}, "meeting_date"),
        (Stage.PUBLIC_POSTING, {**POSTING, "posted_from": "2099-01-05", "posted_to": "2099-01-20"}, "posted_from"),
        (Stage.PUBLIC_POSTING, {**POSTING, "posted_to": "2026-12-10"}, "posted_to"),
        (Stage.DECISION, {**DECISION, "decision_date": "2099-11-30"}, "decision_date"),
        (Stage.COUNCIL_ASSESSMENT, {**COUNCIL, "meeting_date": "2024-10-31"}, "meeting_date"),
        (Stage.DECISION, {**DECISION, "decision_date": "0001-01-01"}, "decision_date"),
    ],
)
def test_a_day_outside_the_rounds_calendar_or_in_the_future_is_refused(
    stage: Stage, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(FormError) as caught:
        dated(stage, payload)
    assert caught.value.field == field
    assert "in the future" in caught.value.reason or "before the round's period" in caught.value.reason


def test_days_from_the_period_start_to_tomorrow_are_taken() -> None:
    assert dated(Stage.COUNCIL_ASSESSMENT, {**COUNCIL, "meeting_date": "2024-11-01"})
    assert dated(Stage.DECISION, {**DECISION, "decision_date": "2026-12-01"})  # tomorrow in Vietnam: the tolerance
    assert dated(Stage.PUBLIC_POSTING, POSTING)
    with pytest.raises(FormError):
        dated(Stage.DECISION, {**DECISION, "decision_date": "2026-12-02"})


def test_the_window_runs_to_the_day_in_vietnam_of_now_plus_the_tolerance() -> None:
    late_evening_utc = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # already 1 Dec in Vietnam
    window = date_window(period_start=ROUND.period_start, now=late_evening_utc)
    assert (window.earliest, window.latest) == (date(2024, 11, 1), date(2026, 12, 2))
    assert date_window(period_start=ROUND.period_start, now=NOW, tolerance=timedelta(0)).latest == date(2026, 11, 30)
    assert date_window(period_start=ROUND.period_start, now=NOW).latest == (NOW + FUTURE_TOLERANCE).date()


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_a_meeting_day_is_taken_exactly_within_the_window(day: date) -> None:
    window = date_window(period_start=ROUND.period_start, now=NOW)
    payload = {**COUNCIL, "meeting_date": day.isoformat()}
    if window.earliest <= day <= window.latest:
        assert dated(Stage.COUNCIL_ASSESSMENT, payload)
    else:
        with pytest.raises(FormError) as caught:
            dated(Stage.COUNCIL_ASSESSMENT, payload)
        assert caught.value.field == "meeting_date"


def test_without_a_time_the_days_are_not_bounded_and_lax_never_bounds_them() -> None:
    far = {**DECISION, "decision_date": "2099-11-30"}
    assert parse_form(Stage.DECISION, far, CTX)
    assert parse_form(Stage.DECISION, far, CTX, now=NOW, period_start=ROUND.period_start, lax=True)
