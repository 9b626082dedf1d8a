"""Rounds through the API: an admin opens a round for a province (one case per unit, idempotent), follows its
progress, and reads its report as JSON and CSV."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.routes import rounds as rounds_routes
from domain.stages import Role
from domain.units import load_units
from services.seed import seed_units
from tests.api.helpers import add_official, problem
from tests.support import running_stack, token_for

PROVINCE = "46"  # Thành phố Huế: 40 units; no other test starts cases there
ROUND = "qd06-2019:2027"


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

        deadline = asyncio.get_running_loop().time() + 30
        while True:
            progress = (
                await stack.http.get(
                    f"/v1/rounds/{ROUND}/progress",
                    params={"province": PROVINCE},
                    headers={"Authorization": f"Bearer {token_for(auditor)}"},
                )
            ).json()
            if progress["cases"] == 40 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
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
