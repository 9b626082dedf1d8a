"""Bulk actions by filter: a dry run counts and samples, changing nothing; applying reaches every match in batches
(not one page), each through the case's validated Update, journalled with the admin as actor; a retry with the same
Idempotency-Key changes nothing twice; refusals are counted per item with their reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from db.models import AuditEventRow, CaseRow, TaskRow
from domain.rounds import parse_round
from domain.stages import Stage
from domain.units import load_units
from services.bulk.schemas import BulkFilter
from services.rounds.opening import ensure_round, start_case
from tests.api.helpers import problem
from tests.builders import start_input
from tests.support import PROVINCE, Stack, form_for

# 100 units x 5 rounds = 500 cases; other tests use round 2027 (cases) and 2034 (opening by the API)
BULK_ROUNDS = ["qd06-2019:2029", "qd06-2019:2032", "qd06-2019:2037", "qd06-2019:2039", "qd06-2019:2042"]


async def _start_many(stack: Stack, rounds: list[str], units: list[str]) -> list[str]:
    async with stack.sessions() as session, session.begin():
        for rnd in rounds:
            await ensure_round(session, parse_round(rnd), "two-tier")
    gate = asyncio.Semaphore(50)

    async def one(rnd: str, unit: str) -> str:
        inp = start_input(unit, round_id=rnd)
        async with gate:
            await start_case(stack.client, inp, task_queue=stack.task_queue)
        return inp.case_id

    ids = await asyncio.gather(*(one(r, u) for r in rounds for u in units))
    await _wait_for(
        stack,
        lambda n: n >= len(ids),
        select(func.count()).select_from(TaskRow).where(TaskRow.status == "open", TaskRow.case_id.in_(ids)),
    )
    return list(ids)


async def _wait_for(stack: Stack, done: Any, query: Any, timeout: float = 120) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with stack.sessions() as session:
            value = int(await session.scalar(query) or 0)
        if done(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {timeout} s; last value {value}")
        await asyncio.sleep(0.2)


async def _bulk(stack: Stack, action: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = {**stack.headers("admin"), **({"Idempotency-Key": key} if key else {})}
    resp = await stack.http.post(f"/v1/bulk/{action}", json=body, headers=headers, timeout=300)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


async def test_bulk_extend_reaches_all_500_matching_cases_in_batches(stack: Stack) -> None:
    units = [u.code for u in load_units(PROVINCE)][-100:]
    ids = await _start_many(stack, BULK_ROUNDS, units)
    assert len(ids) == 500
    new_due = (datetime.now(UTC) + timedelta(days=45)).replace(microsecond=0)
    body = {
        "filter": {"province": PROVINCE, "stages": ["registration"]},
        "reason": "Tết: gia hạn đăng ký",
        "new_due_at": new_due.isoformat(),
        "batch_size": 120,
    }

    dry = await _bulk(stack, "extend-due", {**body, "dry_run": True})
    assert (dry["matched"], dry["applied"], dry["refused"], dry["failed"]) == (500, 0, {}, 0)
    assert len(dry["sample"]) == 20 and {s["case_id"] for s in dry["sample"]} <= set(ids)
    async with stack.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditEventRow).where(AuditEventRow.action == "due_extended")
            )
            == 0
        )

    started = asyncio.get_running_loop().time()
    applied = await _bulk(stack, "extend-due", {**body, "dry_run": False}, key="tet-2030")
    took = asyncio.get_running_loop().time() - started
    print(f"bulk extend of 500 cases: {took:.1f} s")
    assert (applied["matched"], applied["applied"], applied["refused"], applied["failed"]) == (500, 500, {}, 0)
    assert applied["matched"] == dry["matched"]
    assert applied["batches"] == 5  # 120 + 120 + 120 + 120 + 20
    async with stack.sessions() as session:
        moved = await session.scalar(
            select(func.count())
            .select_from(TaskRow)
            .where(TaskRow.status == "open", TaskRow.due_at == new_due, TaskRow.case_id.in_(ids))
        )
        journal = (
            await session.execute(
                select(AuditEventRow.case_id, AuditEventRow.actor_id).where(AuditEventRow.action == "due_extended")
            )
        ).all()
    assert moved == 500
    assert sorted(c for c, _ in journal) == sorted(ids)
    assert {a for _, a in journal} == {f"demo-admin-{PROVINCE}"}

    # the same request again (a client retry): the same update ids, so nothing is journalled twice
    again = await _bulk(stack, "extend-due", {**body, "dry_run": False}, key="tet-2030")
    assert again["applied"] == 500
    async with stack.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditEventRow).where(AuditEventRow.action == "due_extended")
            )
            == 500
        )


async def test_hold_release_reassign_and_remind_by_filter_with_per_item_outcomes(stack: Stack) -> None:
    units = [u.code for u in reversed(load_units(PROVINCE)) if u.code != stack.unit_code][:4]
    ids = await _start_many(stack, ["qd06-2019:2044"], units)
    own = await stack.start_case()  # the stack's unit: its officials hold the commune roles there
    task = await stack.open_task(own, "commune_officer")
    every = [*ids, own]

    held = await _bulk(stack, "hold", {"filter": {"case_ids": every}, "reason": "thanh tra", "dry_run": False})
    assert (held["matched"], held["applied"]) == (5, 5)
    async with stack.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.on_hold)) == 5
    # a held case takes no completion; the refusal names why, and nothing changes
    body = problem(
        await stack.http.post(
            f"/v1/tasks/{task['id']}/complete",
            json=form_for(Stage.REGISTRATION),
            headers=stack.headers("commune_officer"),
        ),
        409,
        "case_on_hold",
    )
    assert "hold" in body["detail"]
    # holding again matches nothing: held cases are not held twice
    assert (await _bulk(stack, "hold", {"filter": {"case_ids": every}, "reason": "x", "dry_run": True}))["matched"] == 0
    board = (await stack.http.get("/v1/board", params={"failing": "false"}, headers=stack.headers("admin"))).json()
    assert board["totals"]["on_hold"] == 5
    released = await _bulk(stack, "release", {"filter": {"on_hold": True}, "reason": "xong", "dry_run": False})
    assert (released["matched"], released["applied"]) == (5, 5)

    # reassign: the stack's commune officer holds the role only over their own unit
    officer = f"demo-officer-{stack.unit_code}"
    body_r = {"filter": {"case_ids": every}, "reason": "nghỉ phép", "official_id": officer}
    dry = await _bulk(stack, "reassign", {**body_r, "dry_run": True})
    assert (dry["matched"], dry["refused"]) == (5, {"assignee_lacks_role": 4}), dry
    done = await _bulk(stack, "reassign", {**body_r, "dry_run": False})
    assert (done["matched"], done["applied"], done["refused"]) == (5, 1, {"assignee_lacks_role": 4})
    assert {r["case_id"] for r in done["refusals"]} == set(ids)
    async with stack.sessions() as session:
        assignees = dict(
            (await session.execute(select(TaskRow.case_id, TaskRow.assignee_id).where(TaskRow.status == "open"))).all()
        )
    assert assignees[own] == officer and all(assignees[i] is None for i in ids)
    unknown = problem(
        await stack.http.post(
            "/v1/bulk/reassign", json={**body_r, "official_id": "ghost"}, headers=stack.headers("admin")
        ),
        422,
        "invalid_request",
    )
    assert unknown["field"] == "official_id"

    reminded = await _bulk(stack, "remind", {"filter": {"units": units[:2]}, "dry_run": False})
    assert (reminded["matched"], reminded["applied"]) == (2, 2)
    await _wait_for(
        stack,
        lambda n: n == 2,
        select(func.count()).select_from(AuditEventRow).where(AuditEventRow.action == "task_nudged"),
    )

    # a filter naming another province is refused outright
    body_p = problem(
        await stack.http.post(
            "/v1/bulk/hold", json={"filter": {"province": "01"}, "reason": "x"}, headers=stack.headers("admin")
        ),
        403,
        "forbidden",
    )
    assert "01" in body_p["detail"]
    bad = problem(
        await stack.http.post("/v1/bulk/extend-due", json={"reason": "x"}, headers=stack.headers("admin")),
        422,
        "invalid_request",
    )
    assert "new_due_at" in bad["detail"]


def test_a_filter_names_cases_only_with_a_condition_besides_the_province() -> None:
    assert BulkFilter().conditions() == []
    assert BulkFilter(province=PROVINCE, units=[], stages=[]).conditions() == []  # empty lists select nothing apart
    assert BulkFilter(province=PROVINCE, overdue=False).conditions() == ["overdue"]  # "not overdue" is a condition
    assert BulkFilter(stages=[Stage.REGISTRATION], round="qd06-2019:2027").conditions() == ["stages", "round"]
    # every field but the province narrows the match (queries.matches reads each): a new one counts as well
    assert set(BulkFilter.model_fields) - {"province"} == {
        "units",
        "stages",
        "round",
        "case_ids",
        "overdue",
        "escalated",
        "on_hold",
        "due_before",
        "due_after",
    }


async def test_acting_on_a_whole_province_needs_all_and_a_dry_run_counts_it_first(stack: Stack) -> None:
    units = [u.code for u in reversed(load_units(PROVINCE)) if u.code != stack.unit_code][4:7]
    ids = await _start_many(stack, ["qd06-2019:2044"], units)  # units the other tests of 2044 leave

    async def held() -> int:
        async with stack.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.on_hold)) or 0)

    async def journalled() -> int:
        async with stack.sessions() as session:
            query = select(func.count()).select_from(AuditEventRow).where(AuditEventRow.action == "case_held")
            return int(await session.scalar(query) or 0)

    # a dry run needs no `all`: it shows how many the whole province is
    for body in ({"reason": "rà soát"}, {"filter": {"province": PROVINCE, "units": []}, "reason": "rà soát"}):
        dry = await _bulk(stack, "hold", body)
        assert (dry["dry_run"], dry["matched"], dry["applied"]) == (True, 3, 0), dry
    journal_before = await journalled()
    for body in (
        {"filter": {}, "dry_run": False, "reason": "rà soát"},
        {"filter": {"province": PROVINCE}, "dry_run": False, "reason": "rà soát"},
        {"filter": {"province": PROVINCE, "units": [], "stages": []}, "dry_run": False, "reason": "rà soát"},
        {"filter": {"province": PROVINCE}, "dry_run": False, "all": False, "reason": "rà soát"},
    ):
        resp = await stack.http.post("/v1/bulk/hold", json=body, headers=stack.headers("admin"))
        refused = problem(resp, 422, "empty_filter")
        assert refused["field"] == "filter" and "all" in refused["detail"], refused
    assert (await held(), await journalled()) == (0, journal_before)  # nothing changed

    # one condition besides the province is enough; `all: true` takes the whole province
    one = await _bulk(stack, "hold", {"filter": {"units": units[:1]}, "dry_run": False, "reason": "rà soát"})
    assert (one["matched"], one["applied"]) == (1, 1)
    every = await _bulk(
        stack, "hold", {"filter": {"province": PROVINCE}, "dry_run": False, "all": True, "reason": "rà soát"}
    )
    assert (every["matched"], every["applied"], every["refused"]) == (2, 2, {})
    assert await held() == len(ids)
