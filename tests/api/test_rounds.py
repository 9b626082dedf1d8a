"""Rounds through the API: an admin opens a round for a province (one case per unit, idempotent), follows its
progress, and reads its report as JSON and CSV; a rehearsal round opens with its calendar in the present, a bad
rehearsal day is refused naming the field, and progress counts the units striving."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.routes import rounds as rounds_routes
from db.models import CaseRow
from domain.calendar import local_date
from domain.stages import Role
from domain.units import load_units
from infra.clock import today_vn
from services.seed import seed_units
from tests.api.helpers import add_official, problem
from tests.support import Stack, running_stack, token_for
from workflows.round import round_workflow_id

PROVINCE = "46"  # Thành phố Huế: 40 units; no other test starts cases there
ROUND = "qd06-2019:2027"
REHEARSAL = "qd06-2019:2029"  # the next round, opened in Huế only by the rehearsal test


async def _progress_when(
    stack: Stack, round_id: str, official: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The round's progress in the province once `done` holds of it (or after 30 s: the caller's asserts tell)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        progress: dict[str, Any] = (
            await stack.http.get(
                f"/v1/rounds/{round_id}/progress",
                params={"province": PROVINCE},
                headers={"Authorization": f"Bearer {token_for(official)}"},
            )
        ).json()
        if done(progress) or asyncio.get_running_loop().time() > deadline:
            return progress
        await asyncio.sleep(0.2)


async def test_an_admin_opens_a_round_and_reads_its_progress_and_report(
    temporal_env: WorkflowEnvironment,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        async with sessions() as session, session.begin():
            await seed_units(session, PROVINCE)
        admin = await add_official(sessions, "admin-hue", Role.ADMIN, PROVINCE, None)
        auditor = await add_official(sessions, "auditor-hue", Role.AUDITOR, PROVINCE, None)
        units = [u.code for u in load_units(PROVINCE)]
        headers = {"Authorization": f"Bearer {token_for(admin)}"}

        problem(
            await stack.http.post(
                "/v1/rounds", json={"round_id": ROUND, "province": PROVINCE}, headers=stack.headers("admin")
            ),
            403,
            "forbidden",
        )  # Hưng Yên's admin
        bad = problem(
            await stack.http.post(
                "/v1/rounds", json={"round_id": "qd06-2019:2026", "province": PROVINCE}, headers=headers
            ),
            422,
            "invalid_request",
        )
        assert bad["field"] == "round_id" and "2026" in bad["detail"]

        opened = await stack.http.post(
            "/v1/rounds", json={"round_id": ROUND, "province": PROVINCE, "target_share": 0.9}, headers=headers
        )
        assert opened.status_code == 200, opened.text
        assert opened.json()["cases"] == len(units) == 40
        again = await stack.http.post("/v1/rounds", json={"round_id": ROUND, "province": PROVINCE}, headers=headers)
        assert again.json()["cases"] == 40  # idempotent: the same cases
        # an opening that takes longer than the API waits answers 202 with what has started so far
        monkeypatch.setattr(rounds_routes, "OPEN_WAIT_SECONDS", 0.0)
        slow = await stack.http.post("/v1/rounds", json={"round_id": ROUND, "province": PROVINCE}, headers=headers)
        assert (slow.status_code, slow.json()["opening"], slow.json()["cases"]) == (202, True, 40)

        progress = await _progress_when(stack, ROUND, auditor, lambda p: p["cases"] == 40)
        assert (progress["units"], progress["cases"], progress["open"]) == (40, 40, 40)
        assert progress["by_stage"] == {"registration": 40}
        assert progress["workflow"]["units"] == 40  # the round workflow's own count

        # one unit declines to register
        task = next(
            t
            for t in (
                await stack.http.get("/v1/tasks", params={"mine": "false", "unit": units[0]}, headers=headers)
            ).json()
        )
        officer = await add_official(sessions, f"officer-{units[0]}", Role.COMMUNE_OFFICER, PROVINCE, units[0])
        resp = await stack.http.post(
            f"/v1/tasks/{task['id']}/complete",
            json={"registered": False, "note": "Chưa đủ"},
            headers={"Authorization": f"Bearer {token_for(officer)}"},
        )
        assert resp.status_code == 200, resp.text

        report = (
            await stack.http.get(f"/v1/rounds/{ROUND}/report", params={"province": PROVINCE}, headers=headers)
        ).json()
        assert (report["units"], report["not_registered"], report["recognised"]) == (40, 1, 0)
        assert report["recognised_share"] == 0 and report["final"] is False
        assert len(report["results"]) == 40
        csv_resp = await stack.http.get(
            f"/v1/rounds/{ROUND}/report", params={"province": PROVINCE, "format": "csv"}, headers=headers
        )
        assert csv_resp.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(csv_resp.text)))
        assert len(rows) == 40
        assert next(r for r in rows if r["unit_code"] == units[0])["outcome"] == "not_registered"

        assert report["recorded"] is None  # the round is open

        # every other unit declines too: the last case closing closes the round, which records its report
        for unit in units[1:]:
            officer = await add_official(sessions, f"officer-{unit}", Role.COMMUNE_OFFICER, PROVINCE, unit)
            as_officer = {"Authorization": f"Bearer {token_for(officer)}"}
            task = (await stack.http.get("/v1/tasks", params={"unit": unit}, headers=as_officer)).json()[0]
            resp = await stack.http.post(
                f"/v1/tasks/{task['id']}/complete", json={"registered": False, "note": "Chưa đủ"}, headers=as_officer
            )
            assert resp.status_code == 200, resp.text
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            report = (
                await stack.http.get(f"/v1/rounds/{ROUND}/report", params={"province": PROVINCE}, headers=headers)
            ).json()
            if report["recorded"] or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.3)
        assert report["final"] is True and report["not_registered"] == 40
        recorded = report["recorded"]
        assert (recorded["not_registered"], recorded["recognised"], recorded["meets_target"]) == (40, 0, False)
        assert recorded["target_share"] == 0.9

        problem(
            await stack.http.get("/v1/rounds/qd06-2019:2099/report", params={"province": PROVINCE}, headers=headers),
            404,
            "round_not_found",
        )


BAD_REHEARSAL_DAYS: list[tuple[object, str]] = [
    ("01/10/2027", "YYYY-MM-DD"),
    (1798675200, "YYYY-MM-DD"),  # a timestamp is not a day
    ("2027-10-01T00:00:00", "YYYY-MM-DD"),
    ("2027-02-30", "2027-02-30 is not a day of the calendar"),
    ("2099-10-01", "more than a year from today"),
]


async def test_a_bad_rehearsal_day_is_refused_naming_the_field_and_opens_nothing(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        async with sessions() as session, session.begin():
            await seed_units(session, PROVINCE)
        admin = await add_official(sessions, "admin-hue", Role.ADMIN, PROVINCE, None)
        for value, fragment in BAD_REHEARSAL_DAYS:
            body = {"round_id": REHEARSAL, "province": PROVINCE, "rehearsal_opens_on": value}
            bad = problem(
                await stack.http.post("/v1/rounds", json=body, headers={"Authorization": f"Bearer {token_for(admin)}"}),
                422,
                "invalid_request",
            )
            assert bad["field"] == "rehearsal_opens_on" and fragment in bad["detail"], (value, bad)
        async with sessions() as session:
            assert not await session.scalar(select(func.count()).select_from(CaseRow))
        with pytest.raises(RPCError):  # no round workflow either
            await temporal_env.client.get_workflow_handle(round_workflow_id(REHEARSAL, PROVINCE)).describe()


async def test_a_rehearsal_round_opens_in_the_present_and_its_progress_counts_the_units_striving(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        async with sessions() as session, session.begin():
            await seed_units(session, PROVINCE)
        admin = await add_official(sessions, "admin-hue", Role.ADMIN, PROVINCE, None)
        unit = load_units(PROVINCE)[0].code
        officer = await add_official(sessions, f"officer-{unit}", Role.COMMUNE_OFFICER, PROVINCE, unit)
        # Self-assessment four weeks from now: registration, moved with it, is open today (without the rehearsal
        # the 2029 round's period starts on 1 November 2027 and every case would wait for it, with no task).
        opens_on = today_vn() + timedelta(weeks=4)
        opened = await stack.http.post(
            "/v1/rounds",
            json={"round_id": REHEARSAL, "province": PROVINCE, "rehearsal_opens_on": opens_on.isoformat()},
            headers={"Authorization": f"Bearer {token_for(admin)}"},
        )
        assert opened.status_code == 200, opened.text
        assert opened.json()["cases"] == 40

        progress = await _progress_when(stack, REHEARSAL, admin, lambda p: p["cases"] == 40)
        assert progress["by_stage"] == {"registration": 40}
        assert (progress["open"], progress["striving"], progress["waiting_registration"]) == (40, 0, 0)

        as_officer = {"Authorization": f"Bearer {token_for(officer)}"}
        task = (await stack.http.get("/v1/tasks", params={"unit": unit}, headers=as_officer)).json()[0]
        assert task["stage"] == "registration"
        resp = await stack.http.post(
            f"/v1/tasks/{task['id']}/complete", json={"registered": True, "note": "Phấn đấu"}, headers=as_officer
        )
        assert resp.status_code == 200, resp.text

        progress = await _progress_when(stack, REHEARSAL, admin, lambda p: p["striving"] == 1)
        assert progress["by_stage"] == {"registration": 39, "self_assessment": 1}
        assert (progress["open"], progress["striving"], progress["waiting_registration"]) == (40, 1, 0)
        async with sessions() as session:
            waiting = await session.scalar(
                select(CaseRow.waiting_until).where(CaseRow.round_id == REHEARSAL, CaseRow.unit_code == unit)
            )
        # the rehearsal moves the calendar by whole weeks: self-assessment opens on that day or up to six days before
        assert waiting is not None and opens_on - timedelta(days=6) <= local_date(waiting) <= opens_on
