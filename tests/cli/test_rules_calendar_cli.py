"""`xptt rules calendar`: a round's calendar as JSON; a bad rule set, year or province exits 2 naming the option."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.calendar import is_working_day
from domain.calendar_settings import CALENDAR_STAGES

runner = CliRunner()


def test_calendar_prints_the_round_s_dates_and_each_stage_s_window_as_iso_json() -> None:
    result = runner.invoke(app, ["rules", "calendar", "--rule-set", "qd06-2019", "--year", "2027"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["round"] == "qd06-2019:2027" and out["province"] is None and out["profile"] == "two-tier"
    assert (out["period_start"], out["period_end"]) == ("2024-11-01", "2027-10-31")
    assert out["registration_due"] == "2024-11-29"
    assert out["self_assessment_opens"] == "2027-10-01"
    assert out["dossier_due"] == "2027-11-15"
    assert "2027-11-15" < out["decision_due"] <= "2027-12-31"
    assert list(out["stages"]) == [s.value for s in CALENDAR_STAGES]
    for window in out["stages"].values():
        assert window["opens"] <= window["due"]
        assert is_working_day(date.fromisoformat(window["due"]))
    assert out["stages"]["dossier_submission"]["due"] == out["dossier_due"]
    assert out["stages"]["registration"]["opens"] == out["period_start"]


def test_calendar_of_a_province_names_it() -> None:
    result = runner.invoke(app, ["rules", "calendar", "--rule-set", "qd34-2014", "--year", "2015", "--province", "1"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["province"] == "01" and out["dossier_due"] == "2015-11-16"  # 15 November 2015 was a Sunday


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--rule-set", "qd99-2030", "--year", "2027"], "error: --rule-set: unknown rule set 'qd99-2030'"),
        (["--rule-set", "qd06-2019", "--year", "2026"], "error: --year: 2026 is not an assessment year of qd06-2019"),
        (["--rule-set", "qd34-2014", "--year", "2021"], "error: --year: its assessment opens on 2021-11-01, outside"),
        (["--rule-set", "qd06-2019", "--year", "twenty"], "error: --year: expected an assessment year such as 2027"),
        (["--rule-set", "qd06-2019", "--year", "2027", "--province", "99"], "error: --province: unknown province"),
    ],
)
def test_a_bad_option_exits_2_with_one_line_naming_it(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["rules", "calendar", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(fragment)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == "" and "Traceback" not in result.stderr
