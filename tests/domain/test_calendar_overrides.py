"""Calendar overrides per province and per round: applied from the least to the most specific; a bad file fails at
load naming the file, the field and the reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from domain.calendar import add_working_days
from domain.calendar_overrides import calendar_for, load_overrides_file
from domain.calendar_settings import CalendarFileError, load_defaults
from domain.stages import Stage

SOURCE = {"source": "the province's plan (test)"}


def _write(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    path = tmp_path / "overrides.yaml"
    path.write_text(yaml.safe_dump({"overrides": entries}, allow_unicode=True), encoding="utf-8")
    return path


def _day(month_day: str) -> dict[str, object]:
    return {"day": month_day, **SOURCE}


def test_entries_apply_round_then_province_then_province_and_round(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {"province": "01", "round": "qd06-2019:2027", "dates": {"dossier_due": _day("11-10")}, **SOURCE},
            {"round": "qd06-2019:2027", "dates": {"dossier_due": _day("11-12")}, **SOURCE},
            {
                "province": "01",
                "minimum_working_days": 3,
                "dates": {"dossier_due": _day("11-11")},
                "stages": {"dossier_submission": {"reserve_working_days": 3, **SOURCE}},
                **SOURCE,
            },
        ],
    )
    overrides = load_overrides_file(path)
    hanoi = calendar_for("qd06-2019", 2027, "01", overrides=overrides)
    assert hanoi.dossier_due == date(2027, 11, 10) and hanoi.minimum_working_days == 3
    assert hanoi.overrides_applied == ("round qd06-2019:2027", "province 01", "province 01, round qd06-2019:2027")
    assert calendar_for("qd06-2019", 2027, "79", overrides=overrides).dossier_due == date(2027, 11, 12)
    assert calendar_for("qd06-2019", 2027, overrides=overrides).dossier_due == date(2027, 11, 12)
    assert calendar_for("qd06-2019", 2029, "01", overrides=overrides).dossier_due == date(2029, 11, 12)  # a Monday
    assert calendar_for("qd06-2019", 2029, "79", overrides=overrides).dossier_due == date(2029, 11, 15)


def test_a_stage_reserve_moves_the_anchors_before_it(tmp_path: Path) -> None:
    council = {"council_assessment": {"reserve_working_days": 6, **SOURCE}}
    path = _write(tmp_path, [{"province": "01", "stages": council, **SOURCE}])
    cal = calendar_for("qd06-2019", 2027, "01", overrides=load_overrides_file(path))
    assert cal.stage(Stage.COUNCIL_ASSESSMENT).working_days == 6
    assert cal.dossier_due == date(2027, 11, 15)


@pytest.mark.parametrize(
    ("entries", "field", "reason"),
    [
        (
            [{"province": "01", "dates": {"dossier_due": _day("09-15")}, **SOURCE}],
            "overrides[0].dates.dossier_due",
            "09-15 is not after self_assessment_opens (10-01): dates out of order",
        ),
        (
            [{"round": "qd06-2019:2027", "dates": {"closes": _day("11-20"), "dossier_due": _day("11-25")}, **SOURCE}],
            "overrides[0].dates.closes",
            "11-20 is not after dossier_due (11-25): dates out of order",
        ),
        (
            [{"round": "qd06-2019:2027", "dates": {"dossier_due": _day("10-08")}, **SOURCE}],
            "overrides[0].dates.dossier_due",
            "too little room for the stages that share the date",
        ),
        (
            [{"province": "01", "round": "qd06-2019:2026", "minimum_working_days": 3, **SOURCE}],
            "overrides[0].round",
            "unknown round 'qd06-2019:2026': 2026 is not an assessment year of qd06-2019",
        ),
        (
            [{"round": "qd99-2030:2031", "minimum_working_days": 3, **SOURCE}],
            "overrides[0].round",
            "unknown rule set 'qd99-2030'",
        ),
        (
            [{"province": "99", "minimum_working_days": 3, **SOURCE}],
            "overrides[0].province",
            "unknown province code '99'",
        ),
        (
            [{"province": "1", "minimum_working_days": 3, **SOURCE}],
            "overrides[0].province",
            "String should match pattern",
        ),
        (
            [{"province": "01", "stages": {"counsel": {"reserve_working_days": 4, **SOURCE}}, **SOURCE}],
            "overrides[0].stages.counsel",
            "no such stage; the stages are registration, self_assessment",
        ),
        (
            [{"province": "01", "stages": {"closed": {"reserve_working_days": 4, **SOURCE}}, **SOURCE}],
            "overrides[0].stages.closed",
            "no such stage",
        ),
        (
            [{"province": "01", "stages": {"dossier_submission": {"reserve_working_days": 1, **SOURCE}}, **SOURCE}],
            "overrides[0].stages.dossier_submission.reserve_working_days",
            "1 is less than the minimum allowance of 2 working days",
        ),
        (
            [
                {"province": "01", "minimum_working_days": 3, **SOURCE},
                {"province": "01", "minimum_working_days": 4, **SOURCE},
            ],
            "overrides[1].province",
            "province 01 is listed twice (first at overrides[0])",
        ),
        ([{"minimum_working_days": 3, **SOURCE}], "overrides[0].province", "name a province, a round, or both"),
        ([{"province": "01", **SOURCE}], "overrides[0].dates", "nothing to override"),
        ([{"province": "01", "minimum_working_days": 3}], "overrides[0].source", "give the source of this value"),
        (
            [{"province": "01", "dates": {"dossier_due": _day("11-31")}, **SOURCE}],
            "overrides[0].dates.dossier_due.day",
            "not a day of the year",
        ),
        (
            [{"province": "01", "dates": {"dossier_due": {"day": "11-10"}}, **SOURCE}],
            "overrides[0].dates.dossier_due.source",
            "give the source of this value",
        ),
        (
            [{"province": "01", "deadline": "11-10", **SOURCE}],
            "overrides[0].deadline",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_overrides_file_fails_at_load_naming_file_field_and_reason(
    tmp_path: Path, entries: list[dict[str, object]], field: str, reason: str
) -> None:
    path = _write(tmp_path, entries)
    with pytest.raises(CalendarFileError) as caught:
        load_overrides_file(path)
    assert (caught.value.path, caught.value.where) == (path, field)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}: {field}: ")


def test_entries_that_meet_on_a_round_are_checked_together_and_the_most_specific_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {"province": "01", "dates": {"self_assessment_opens": _day("10-20")}, **SOURCE},
            {"round": "qd06-2019:2027", "dates": {"dossier_due": _day("11-01")}, **SOURCE},
        ],
    )
    with pytest.raises(CalendarFileError) as caught:
        load_overrides_file(path)
    assert caught.value.where == "overrides[0].dates.dossier_due"
    assert caught.value.reason.endswith("(qd06-2019:2027 with the overrides of round qd06-2019:2027; province 01)")


def test_a_province_entry_is_checked_on_the_working_days_of_every_round(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"province": "01", "dates": {"self_assessment_opens": _day("11-01")}, **SOURCE}])
    with pytest.raises(CalendarFileError) as caught:
        load_overrides_file(path)
    assert caught.value.where == "overrides[0].dates.dossier_due"
    assert "less than 2 working days after the opening of self_assessment" in caught.value.reason


def test_a_bad_defaults_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "defaults.yaml"
    shipped = yaml.safe_load((Path(__file__).parents[2] / "domain" / "calendars" / "defaults.yaml").read_text())
    del shipped["stages"]["appraisal"]
    path.write_text(yaml.safe_dump(shipped), encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        load_defaults(path)
    assert (caught.value.where, caught.value.reason) == ("stages", "give every stage; missing: appraisal")


def test_an_absent_overrides_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="no such file"):
        load_overrides_file(tmp_path / "absent.yaml")


def test_the_dossier_date_moves_off_a_day_off(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"province": "01", "dates": {"dossier_due": _day("11-13")}, **SOURCE}])  # 2027: Sat
    cal = calendar_for("qd06-2019", 2027, "01", overrides=load_overrides_file(path))
    assert cal.dossier_due == add_working_days(date(2027, 11, 13), 0) == date(2027, 11, 15)
