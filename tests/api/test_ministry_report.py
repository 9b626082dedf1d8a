"""The report to the ministry as a step of the round: it opens when the province's round closes (the round activity),
the administrator reviews the draft and submits the hash they reviewed; submission freezes the snapshot, its hash goes
into the province's directory journal, and any change after it is refused — by the service and by PostgreSQL. The
ministry (a national role) sees every province's status and the national totals; a province's officials see only
their own province, and nobody else sees the national report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities.round_store import RoundStore
from audit.canonical import sha256_hex as snapshot_hash
from db.models import DirectoryEventRow, RoundReportRow
from domain.round_report import report
from domain.stages import Role, Stage
from services.ministry import roles
from tests.api.helpers import add_official, problem
from tests.faults.abuse_support import OTHER_PROVINCE
from tests.support import PROVINCE, ROUND_ID, Stack, form_for, running_stack, token_for
from tests.web.cases import close_case

URL = f"/v1/rounds/{ROUND_ID}/ministry-report"
NATIONAL = f"/v1/national/rounds/{ROUND_ID}"
REFUSED = {Stage.DECISION: form_for(Stage.DECISION, recognised=False, reasons=["Không đạt"])}


def bearer(official: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(official)}"}


async def _read(stack: Stack, headers: dict[str, str], province: str = PROVINCE) -> httpx.Response:
    return await stack.http.get(URL, params={"province": province}, headers=headers)


async def _close_round(stack: Stack) -> None:
    """What the round workflow does when the province's last case closes: record the report (activity)."""
    closed = report(ROUND_ID, PROVINCE, 104, [], target_share=0.8, now=datetime.now(UTC))
    await RoundStore(stack.sessions).record_round_report(closed)


async def _submit(stack: Stack, reviewed: str) -> httpx.Response:
    body = {"province": PROVINCE, "reviewed_hash": reviewed}
    return await stack.http.post(URL, json=body, headers=stack.headers("admin"))


async def _officials(stack: Stack) -> dict[str, dict[str, str]]:
    """The ministry's official and an administrator of another province."""
    async with stack.sessions() as session:
        assert await roles.grant(session, "mr-ministry", full_name="Lê Văn Bộ", email=None, now=datetime.now(UTC))
    await add_official(stack.sessions, "mr-other-admin", Role.ADMIN, OTHER_PROVINCE, None)
    return {"ministry": bearer("mr-ministry"), "other": bearer("mr-other-admin")}


async def test_the_report_opens_at_the_rounds_close_and_freezes_when_submitted(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        who = await _officials(stack)
        admin = stack.headers("admin")
        await close_case(stack, {})
        await close_case(stack, REFUSED)

        early = (await _read(stack, admin)).json()
        assert (early["status"], early["due_on"]) == ("in_progress", None)
        assert problem(await _submit(stack, early["draft_hash"]), 409)["code"] == "report_not_open"

        target = {"province": PROVINCE, "first_year": 2026, "last_year": 2030, "share_percent": 90, "plan": "KH 12"}
        assert (await stack.http.put("/v1/targets", json=target, headers=admin)).status_code == 200
        await _close_round(stack)
        await _close_round(stack)  # the activity retried: one task, still open
        async with stack.sessions() as session:
            recorded = await session.get(RoundReportRow, (ROUND_ID, PROVINCE))
        assert recorded is not None  # the province's target for 2027, not the 0.8 the round was opened with
        assert (recorded.report["target_share"], recorded.report["meets_target"]) == (0.9, False)
        opened = (await _read(stack, admin)).json()
        assert (opened["status"], opened["due_on"]) == ("due", "2028-01-31")  # 31 January after the 2027 round
        draft = opened["draft"]
        assert (draft["recognised"], draft["not_recognised"]) == (1, 1)
        assert opened["draft_hash"] == snapshot_hash(draft)

        await _refusals_before_submission(stack, who, opened["draft_hash"])

        await close_case(stack, {})  # the report changes after it was reviewed
        changed = await _submit(stack, opened["draft_hash"])
        assert problem(changed, 409)["field"] == "reviewed_hash"
        reviewed = (await _read(stack, admin)).json()
        assert reviewed["draft"]["recognised"] == 2 and reviewed["draft_hash"] != opened["draft_hash"]

        both = await asyncio.gather(*(_submit(stack, reviewed["draft_hash"]) for _ in range(2)))  # at once
        assert sorted(r.status_code for r in both) == [200, 409], [r.text for r in both]
        done = next(r for r in both if r.status_code == 200)
        assert problem(next(r for r in both if r.status_code == 409), 409)["code"] == "report_already_submitted"
        frozen = done.json()
        assert frozen["status"] == "submitted" and frozen["snapshot_hash"] == reviewed["draft_hash"]
        assert frozen["snapshot"] == reviewed["draft"] and frozen["draft"] is None
        await _journalled(stack, frozen)
        await _after_submission(stack, who, frozen)
        await _national(stack, who, frozen)


async def _refusals_before_submission(stack: Stack, who: dict[str, dict[str, str]], reviewed: str) -> None:
    wrong = await _submit(stack, "0" * 64)
    assert problem(wrong, 409)["code"] == "report_changed"
    bad = await _submit(stack, "not-a-hash")
    assert problem(bad, 422)["field"] == "reviewed_hash"
    body = {"province": PROVINCE, "reviewed_hash": reviewed}
    for headers in (stack.headers("auditor"), who["ministry"], who["other"]):
        refused = await stack.http.post(URL, json=body, headers=headers)
        assert problem(refused, 403)["code"] == "forbidden"
    assert (await _read(stack, who["other"])).status_code == 403  # another province's officials see nothing
    ministry = (await _read(stack, who["ministry"])).json()
    assert ministry["status"] == "due" and ministry["draft"] is None and ministry["draft_hash"] is None


async def _journalled(stack: Stack, frozen: dict[str, Any]) -> None:
    async with stack.sessions() as session:
        rows = (
            await session.scalars(
                select(DirectoryEventRow).where(
                    DirectoryEventRow.province_code == PROVINCE, DirectoryEventRow.action == "ministry_report_submitted"
                )
            )
        ).all()
    assert len(rows) == 1  # the second submission wrote nothing
    row = rows[0]
    assert row.seq == frozen["journal_seq"]
    assert row.payload == {"round_id": ROUND_ID, "snapshot_hash": frozen["snapshot_hash"]}
    assert row.actor_id is not None and row.actor_id == frozen["submitted_by"]


async def _after_submission(stack: Stack, who: dict[str, dict[str, str]], frozen: dict[str, Any]) -> None:
    again = await _submit(stack, frozen["snapshot_hash"])
    assert problem(again, 409)["code"] == "report_already_submitted"
    await close_case(stack, {})  # the round's cases move on; the report sent does not
    kept = (await _read(stack, stack.headers("admin"))).json()
    assert kept["snapshot"] == frozen["snapshot"] and kept["snapshot_hash"] == frozen["snapshot_hash"]
    for headers in (stack.headers("admin"), stack.headers("auditor"), who["ministry"]):
        verified = await stack.http.get(f"{URL}/verify", params={"province": PROVINCE}, headers=headers)
        assert verified.json()["ok"] is True, verified.text
    async with stack.sessions() as session:
        with pytest.raises(DBAPIError, match="was submitted"):
            await session.execute(
                text("UPDATE ministry_reports SET snapshot_hash = :h WHERE round_id = :r"),
                {"h": "1" * 64, "r": ROUND_ID},
            )
        await session.rollback()
        with pytest.raises(DBAPIError, match="was submitted"):
            await session.execute(text("DELETE FROM ministry_reports WHERE round_id = :r"), {"r": ROUND_ID})
        await session.rollback()
    await _tampered(stack, who)


async def _tampered(stack: Stack, who: dict[str, dict[str, str]]) -> None:
    """Past the trigger (a superuser disabling it), an altered snapshot no longer verifies."""
    async with stack.sessions() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            text(
                "UPDATE ministry_reports SET snapshot = jsonb_set(snapshot, '{recognised}', '99') WHERE round_id = :r"
            ),
            {"r": ROUND_ID},
        )
    out = (await stack.http.get(f"{URL}/verify", params={"province": PROVINCE}, headers=who["ministry"])).json()
    assert out["ok"] is False and out["recomputed_hash"] != out["stored_hash"] == out["journal_hash"]
    async with stack.sessions() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            text("UPDATE ministry_reports SET snapshot = jsonb_set(snapshot, '{recognised}', '2') WHERE round_id = :r"),
            {"r": ROUND_ID},
        )


async def _national(stack: Stack, who: dict[str, dict[str, str]], frozen: dict[str, Any]) -> None:
    for headers in (stack.headers("admin"), stack.headers("auditor"), who["other"]):
        assert problem(await stack.http.get(NATIONAL, headers=headers), 403)["code"] == "forbidden"
    national = (await stack.http.get(NATIONAL, headers=who["ministry"])).json()
    statuses = {p["province"]: p for p in national["provinces"]}
    assert len(statuses) == 34
    mine = statuses[PROVINCE]
    assert (mine["status"], mine["snapshot_hash"]) == ("submitted", frozen["snapshot_hash"])
    assert (mine["units"], mine["recognised"]) == (frozen["snapshot"]["units"], 2)
    assert statuses[OTHER_PROVINCE]["status"] == "not_opened"
    totals = national["totals"]
    assert (totals["provinces"], totals["submitted"], totals["recognised"]) == (34, 1, 2)
    assert totals["units"] == frozen["snapshot"]["units"]
    assert totals["recognised_share"] == round(2 / frozen["snapshot"]["units"], 4)
    ministry_view = (await _read(stack, who["ministry"])).json()
    assert ministry_view["snapshot"] == frozen["snapshot"]
