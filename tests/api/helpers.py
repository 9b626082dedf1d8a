"""Helpers of the API tests: the app served by uvicorn on a loopback port, officials of other scopes, problems."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import OfficialRow, RoleAssignmentRow
from domain.stages import Role
from infra.embedded import free_port

UNIT_ROLES = (Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR, Role.COMMUNE_CHAIRMAN)
PROVINCE_ROLES = (Role.APPRAISER, Role.CHAIRMAN, Role.ADMIN, Role.AUDITOR)
ROLES = UNIT_ROLES + PROVINCE_ROLES
OTHER_PROVINCE = "12"  # Lai Châu: no test starts cases there


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a real loopback port, and an HTTP client for it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            yield http
    finally:
        server.should_exit = True
        await serving


async def add_official(
    sessions: async_sessionmaker[AsyncSession], official_id: str, role: Role, province: str, unit: str | None
) -> str:
    async with sessions() as session, session.begin():
        await session.execute(
            insert(OfficialRow)
            .values(id=official_id, full_name=f"Cán bộ {official_id}", email=f"{official_id}@example.invalid")
            .on_conflict_do_nothing()
        )
        await session.execute(
            insert(RoleAssignmentRow)
            .values(official_id=official_id, role=role.value, province_code=province, unit_code=unit)
            .on_conflict_do_nothing()
        )
    return official_id


async def seed_other_scopes(
    sessions: async_sessionmaker[AsyncSession], *, other_unit: str, other_province: str = OTHER_PROVINCE
) -> dict[Role, str]:
    """One official per role outside the stack's scope: commune roles on another unit of the same province,
    province roles over another province."""
    ids = {}
    for role in ROLES:
        if role in UNIT_ROLES:
            ids[role] = await add_official(sessions, f"other-{role.value}-{other_unit}", role, "33", other_unit)
        else:
            ids[role] = await add_official(sessions, f"other-{role.value}-{other_province}", role, other_province, None)
    return ids


def problem(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body: dict[str, Any] = resp.json()
    if code is not None:
        assert body["code"] == code, body
    assert body["detail"], body
    return body
