"""Request dependencies: the database session, the Temporal client, and the authenticated official."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import AuthError, TokenVerifier, Verified
from infra.settings import Settings
from services.access import Principal, principal_of
from services.errors import Refusal

__all__ = ["Principal", "PrincipalDep", "SessionDep", "TemporalDep", "authenticate", "get_principal"]

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description=(
        "A JWT naming the official in `sub`, with `aud`, an integer `exp` within the lifetime cap: from the OIDC "
        "provider (RS256/ES256) or `xptt token` (HS256, with a `jti`)"
    ),
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
        raise Refusal(
            401,
            "unauthenticated",
            "send an Authorization: Bearer <token> header",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    verified = await authenticate(request, session, credentials.credentials.strip())
    principal = await principal_of(session, verified.official_id)
    if principal is None:
        raise Refusal(401, "unknown_official", f"official {verified.official_id} is not registered or not active")
    return principal


async def authenticate(request: Request, session: AsyncSession, token: str) -> Verified:
    """The token verified (signature, claims, lifetime cap, not revoked), or the refusal with its code."""
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.authenticate(token, session)
    except AuthError as exc:
        headers = {"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'} if exc.status == 401 else None
        raise Refusal(exc.status, exc.code, exc.detail, headers=headers) from None


PrincipalDep = Annotated[Principal, Depends(get_principal)]
