"""Request dependencies: the database session, the Temporal client, and the authenticated official."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import AuthError, TokenVerifier
from api.policy import Principal
from api.problems import Problem
from db.models import OfficialRow, RoleAssignmentRow
from domain.access import RoleScope
from domain.stages import Role
from infra.settings import Settings

__all__ = ["Principal", "PrincipalDep", "SessionDep", "TemporalDep", "get_principal"]

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT naming the official in `sub`: from the OIDC provider (RS256/ES256) or `xptt token` (HS256)",
)


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

_CHALLENGE = 'Bearer realm="xptt"'


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials.strip():
        raise Problem(
            401,
            "unauthenticated",
            "send an Authorization: Bearer <token> header",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    verifier: TokenVerifier = request.app.state.verifier
    try:
        official_id = await verifier.official_id(credentials.credentials.strip())
    except AuthError as exc:
        headers = {"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'} if exc.status == 401 else None
        raise Problem(exc.status, exc.code, exc.detail, headers=headers) from None
    principal = await principal_of(session, official_id)
    if principal is None:
        raise Problem(401, "unknown_official", f"official {official_id} is not registered or not active")
    return principal


async def principal_of(session: AsyncSession, official_id: str) -> Principal | None:
    """The active official with their role assignments (None: unknown or inactive); the web pages and CLI use it too."""
    # One round trip: the official and their assignments (none: one row of NULLs), in the order they were granted.
    rows = (
        await session.execute(
            select(
                OfficialRow.id,
                OfficialRow.full_name,
                OfficialRow.active,
                RoleAssignmentRow.role,
                RoleAssignmentRow.province_code,
                RoleAssignmentRow.unit_code,
            )
            .outerjoin(RoleAssignmentRow, RoleAssignmentRow.official_id == OfficialRow.id)
            .where(OfficialRow.id == official_id)
            .order_by(RoleAssignmentRow.id)
        )
    ).all()
    if not rows or not rows[0].active:
        return None
    scopes = tuple(
        RoleScope(role=Role(r.role), province_code=r.province_code, unit_code=r.unit_code)
        for r in rows
        if r.role is not None and r.province_code is not None
    )
    return Principal(official_id=rows[0].id, full_name=rows[0].full_name, scopes=scopes)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
