"""Request dependencies: the database session, the Temporal client, and the authenticated official."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.problems import Problem
from db.models import OfficialRow, RoleAssignmentRow
from domain.access import RoleScope
from domain.stages import Role
from infra.settings import Settings
from infra.tokens import TokenError, verify_token


@dataclass(frozen=True)
class Principal:
    official_id: str
    full_name: str
    scopes: tuple[RoleScope, ...]


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


async def get_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "unauthenticated", "send an Authorization: Bearer <token> header")
    settings: Settings = request.app.state.settings
    try:
        official_id = verify_token(token.strip(), secret=settings.jwt_secret, issuer=settings.jwt_issuer)
    except TokenError as exc:
        raise Problem(401, "invalid_token", str(exc)) from None
    official = await session.get(OfficialRow, official_id)
    if official is None or not official.active:
        raise Problem(401, "unknown_official", f"official {official_id} is not registered or not active")
    rows = (
        await session.execute(select(RoleAssignmentRow).where(RoleAssignmentRow.official_id == official_id))
    ).scalars()
    scopes = tuple(RoleScope(role=Role(r.role), province_code=r.province_code, unit_code=r.unit_code) for r in rows)
    return Principal(official_id=official.id, full_name=official.full_name, scopes=scopes)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
