"""Request dependencies: the database session, the Temporal client, and the authenticated official."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import AuthError, TokenVerifier, Verified
from db.readonly import ReadOnly
from infra.settings import Settings
from services.access import Principal, principal_and_revocation
from services.errors import Refusal

__all__ = [
    "Principal",
    "PrincipalDep",
    "ReadDep",
    "ReadPrincipalDep",
    "SessionDep",
    "TemporalDep",
    "authenticate",
    "get_principal",
]

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


async def get_read_db(request: Request) -> AsyncIterator[ReadOnly]:
    """For a route that only reads: its statements run through the driver on one pooled connection, taken at the
    first read, with no transaction around them (`db.readonly`); a route that writes takes `SessionDep`."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    db = ReadOnly(factory.kw["bind"])
    try:
        yield db
    finally:
        await db.close()


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadDep = Annotated[ReadOnly, Depends(get_read_db)]
TemporalDep = Annotated[Client, Depends(get_temporal)]

_CHALLENGE = 'Bearer realm="xptt"'


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return await _principal(request, session, credentials)


async def get_read_principal(
    request: Request,
    db: ReadDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """`get_principal` for a route that only reads, on its reads (`ReadDep`)."""
    return await _principal(request, db, credentials)


async def _principal(
    request: Request, db: ReadOnly | AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The official behind the bearer token: the token verified (`TokenVerifier.verify`), not revoked, the official
    it signs in registered and active, with their roles. A token of the product (the usual case) reads the revoked
    list and the official in one round trip; a provider's token first finds the official its subject signs in."""
    if credentials is None or not credentials.credentials.strip():
        raise Refusal(
            401,
            "unauthenticated",
            "send an Authorization: Bearer <token> header",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    token = credentials.credentials.strip()
    verifier: TokenVerifier = request.app.state.verifier
    try:
        verified = await verifier.verify(token)
        if verified.issuer is not None:  # a provider's token: revoked, then whom it signs in, as `authenticate`
            verified = await verifier.authenticate(token, db)
            principal, revoked = await principal_and_revocation(db, verified.official_id, jti=None)
        else:
            principal, revoked = await principal_and_revocation(db, verified.official_id, jti=verified.jti)
        if revoked:
            raise AuthError("token_revoked", "this token was revoked; get a new one")
    except AuthError as exc:
        raise _refusal(exc) from None
    if principal is None:
        raise Refusal(401, "unknown_official", f"official {verified.official_id} is not registered or not active")
    return principal


def _refusal(exc: AuthError) -> Refusal:
    headers = {"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'} if exc.status == 401 else None
    return Refusal(exc.status, exc.code, exc.detail, headers=headers)


async def authenticate(request: Request, session: AsyncSession, token: str) -> Verified:
    """The token verified (signature, claims, lifetime cap, not revoked), or the refusal with its code."""
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.authenticate(token, session)
    except AuthError as exc:
        raise _refusal(exc) from None


PrincipalDep = Annotated[Principal, Depends(get_principal)]
ReadPrincipalDep = Annotated[Principal, Depends(get_read_principal)]
