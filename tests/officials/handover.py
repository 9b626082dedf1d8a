"""Helpers of the tests where an official's open tasks change hands (deactivation, leave): register an official
through the API, give a case's open task to an official (a bulk reassign), wait for the read model to show who has
it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from db.models import TaskRow
from tests.support import PROVINCE, Stack


async def register(stack: Stack, official_id: str, unit: str) -> None:
    body = {
        "id": official_id,
        "province": PROVINCE,
        "full_name": "Trần Thị Kế",
        "email": f"{official_id}@hungyen.gov.vn",
        "roles": [{"role": "commune_officer", "unit_code": unit, "valid_from": "2025-07-01"}],
    }
    resp = await stack.http.post("/v1/officials", json=body, headers=stack.headers("admin"))
    assert resp.status_code == 201, resp.text


async def give(stack: Stack, case_id: str, official_id: str) -> None:
    """The case's open task assigned to the official (a bulk reassign), seen in the read model."""
    body = {
        "filter": {"province": PROVINCE, "case_ids": [case_id]},
        "dry_run": False,
        "reason": "giao việc",
        "official_id": official_id,
    }
    resp = await stack.http.post("/v1/bulk/reassign", json=body, headers=stack.headers("admin"))
    assert resp.status_code == 200 and resp.json()["applied"] == 1, resp.text
    await assignee(stack, case_id, official_id)


async def assignee(stack: Stack, case_id: str, official_id: str, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with stack.sessions() as session:
            found = await session.scalar(
                select(TaskRow.assignee_id).where(TaskRow.case_id == case_id, TaskRow.status == "open")
            )
        if found == official_id:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{case_id}: assigned to {found}, not {official_id}"
        await asyncio.sleep(0.05)
