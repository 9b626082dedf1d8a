"""Procedure profiles: stage graph, acting roles, durations, escalation ladders, final policies, commendations."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.calendar import TZ
from domain.errors import ProcedureError, ProfileFileError, UnknownProfileError
from domain.procedure import (
    PROFILES_DIR,
    FinalPolicy,
    escalation_due_times,
    load_profile,
    load_profile_file,
    profile_in_force,
    stage_due_at,
)
from domain.stages import Role, Stage
from tests.support import HUMAN_PATH

PROFILES = ["district", "two-tier"]
# The role of each human stage as the procedure runs it, and the district chairman's commendation.
ACTING_ROLE = {
    "two-tier": dict(HUMAN_PATH) | {Stage.COMMENDATION: Role.CHAIRMAN},
    # Before 1 July 2025 the district's own offices appraise and decide.
    "district": dict(HUMAN_PATH)
    | {
        Stage.APPRAISAL: Role.DISTRICT_APPRAISER,
        Stage.DECISION: Role.DISTRICT_CHAIRMAN,
        Stage.COMMENDATION: Role.DISTRICT_CHAIRMAN,
    },
}


def test_profile_in_force_switches_to_two_tier_on_1_july_2025() -> None:
    assert profile_in_force(date(2025, 6, 30)).id == "district"
    assert profile_in_force(date(2025, 7, 1)).id == "two-tier"
    assert profile_in_force(date(2015, 1, 1)).id == "district"


def test_unknown_profile_is_named() -> None:
    with pytest.raises(UnknownProfileError, match="'province'"):
        load_profile("province")


@pytest.mark.parametrize("profile_id", PROFILES)
def test_main_path_runs_from_registration_to_closed(profile_id: str) -> None:
    profile = load_profile(profile_id)
    path, stage = [Stage.REGISTRATION], Stage.REGISTRATION
    while stage != Stage.CLOSED:
        stage = profile.next_stage(stage)
        path.append(stage)
    assert path == list(Stage)
    with pytest.raises(ProcedureError):
        profile.next_stage(Stage.CLOSED)
    with pytest.raises(ProcedureError):
        profile.stage(Stage.CLOSED)


@pytest.mark.parametrize("profile_id", PROFILES)
def test_each_stage_is_acted_on_by_its_role(profile_id: str) -> None:
    profile = load_profile(profile_id)
    expected = ACTING_ROLE[profile_id]
    assert {s: profile.stage(s).role for s in expected} == expected


@pytest.mark.parametrize("profile_id", PROFILES)
def test_authorities_are_never_auto_approved(profile_id: str) -> None:
    profile = load_profile(profile_id)
    for stage in (Stage.APPRAISAL, Stage.DECISION, Stage.COMMENDATION):
        assert profile.stage(stage).final_policy is FinalPolicy.STAY_OPEN_ESCALATED
    assert profile.stage(Stage.REGISTRATION).final_policy is FinalPolicy.CLOSE_NOT_REGISTERED
    assert profile.stage(Stage.DOSSIER_SUBMISSION).final_policy is FinalPolicy.CLOSE_NOT_SUBMITTED


@pytest.mark.parametrize("profile_id", PROFILES)
def test_sourced_defaults_posting_5_and_decision_15_working_days(profile_id: str) -> None:
    profile = load_profile(profile_id)
    assert profile.posting_working_days == profile.stage(Stage.PUBLIC_POSTING).working_days == 5
    assert profile.stage(Stage.DECISION).working_days == 15 and profile.stage(Stage.DECISION).source
    assert profile.max_dossier_returns == 2 and profile.max_dossier_returns_basis.assumed


@pytest.mark.parametrize("profile_id", PROFILES)
def test_commune_ladder_climbs_to_the_chairman_then_the_appraiser_then_admin(profile_id: str) -> None:
    ladder = [rung.role for rung in load_profile(profile_id).stage(Stage.DOSSIER_SUBMISSION).escalation]
    appraiser = Role.DISTRICT_APPRAISER if profile_id == "district" else Role.APPRAISER
    assert ladder == [Role.COMMUNE_CHAIRMAN, appraiser, Role.ADMIN]


def test_objections_and_returns_loop_back() -> None:
    profile = load_profile("district")
    assert profile.stage(Stage.PUBLIC_POSTING).loops_back_to is Stage.COUNCIL_ASSESSMENT
    assert profile.stage(Stage.APPRAISAL).loops_back_to is Stage.DOSSIER_SUBMISSION


def test_district_commends_at_3_by_the_district_chairman_and_at_5_by_the_provincial_chairman() -> None:
    levels = {c.consecutive: c.authority_role for c in load_profile("district").commendations}
    assert levels == {3: Role.DISTRICT_CHAIRMAN, 5: Role.PROVINCIAL_CHAIRMAN}


def test_two_tier_appraising_office_and_deciding_authority_are_provincial_and_assumed() -> None:
    profile = load_profile("two-tier")
    assert "Sở Y tế" in profile.appraising_office and "tỉnh" in profile.deciding_authority
    assert profile.roles_basis.assumed and profile.roles_basis.note
    assert "huyện" in load_profile("district").deciding_authority


def _hanoi(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("started", "due"),
    [
        pytest.param(_hanoi(2024, 11, 4, 9), _hanoi(2024, 11, 15, 17), id="due_on_15_november_when_that_comes_first"),
        # 15 Nov 2025 is a Saturday
        pytest.param(_hanoi(2025, 11, 10, 9), _hanoi(2025, 11, 17, 17), id="a_saturday_runs_to_the_next_working_day"),
        pytest.param(_hanoi(2024, 11, 20, 9), _hanoi(2024, 12, 4, 17), id="started_after_15_november_working_days"),
    ],
)
def test_the_dossier_is_due_on_15_november_or_after_its_working_days(started: datetime, due: datetime) -> None:
    spec = load_profile("district").stage(Stage.DOSSIER_SUBMISSION)
    assert stage_due_at(spec, started, year=started.year) == due


def test_escalation_rungs_take_over_one_after_another() -> None:
    spec = load_profile("district").stage(Stage.APPRAISAL)
    due = datetime(2026, 2, 13, 17, 0, tzinfo=TZ)  # the Friday before Tết 2026
    assert escalation_due_times(spec, due) == [
        (Role.DISTRICT_CHAIRMAN, datetime(2026, 2, 25, 17, 0, tzinfo=TZ)),
        (Role.ADMIN, datetime(2026, 3, 4, 17, 0, tzinfo=TZ)),
    ]


def _district() -> dict[str, Any]:
    return yaml.safe_load((PROFILES_DIR / "district.yaml").read_text(encoding="utf-8"))


def test_bad_profile_file_names_file_field_and_reason(tmp_path: Path) -> None:
    data = _district()
    data["stages"][6]["role"] = "mayor"
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileFileError) as caught:
        load_profile_file(path)
    assert str(caught.value).startswith(f"{path}: stages[6].role: ")


def test_profile_with_stages_out_of_order_is_refused(tmp_path: Path) -> None:
    data = _district()
    data["stages"][0], data["stages"][1] = data["stages"][1], data["stages"][0]
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileFileError, match="stages: give one entry per stage in this order"):
        load_profile_file(path)
