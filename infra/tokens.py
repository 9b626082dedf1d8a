"""Bearer tokens the product issues: signed JWTs naming an official (`sub`), and the list of revoked ones.

Each carries `iss`, `aud`, `iat`, an integer `exp` and a random `jti` (by which `xptt token revoke` recalls it); a
service token also carries `kind: service`, which gives it the longer lifetime cap. Roles and scopes are read from
the database, never from the token. The caps are checked where tokens are verified (`api.auth`); the issuer checks
them too, so it never hands out a token the API would refuse.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RevokedTokenRow

ALGORITHM = "HS256"
DEFAULT_AUDIENCE = "xptt"  # the default of XPTT_JWT_AUDIENCE
KIND_CLAIM = "kind"
SERVICE = "service"  # the `kind` of a service token


class TokenError(Exception):
    pass


def issue_token(
    official_id: str,
    *,
    secret: str,
    issuer: str,
    now: datetime,
    ttl: timedelta,
    audience: str = DEFAULT_AUDIENCE,
    service: bool = False,
    max_ttl: timedelta | None = None,
    jti: str | None = None,
) -> str:
    """A signed token; `max_ttl`: refuse a longer `ttl` (the cap of the token's kind)."""
    if not secret:
        raise TokenError("XPTT_JWT_SECRET is not set")
    if ttl <= timedelta(0):
        raise TokenError("a token's validity must be positive")
    if max_ttl is not None and ttl > max_ttl:
        kind = "a service token" if service else "a person's token"
        raise TokenError(f"{kind} lives at most {_span(max_ttl)} (asked: {_span(ttl)})")
    issued = int(now.timestamp())
    claims: dict[str, object] = {
        "sub": official_id,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": jti or uuid.uuid4().hex,
    }
    if service:
        claims[KIND_CLAIM] = SERVICE
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _span(ttl: timedelta) -> str:
    hours = ttl.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours > 24 and hours % 24 == 0 else f"{hours:g} hours"


def claims_of(token: str) -> dict[str, object]:
    """The claims of a token this process just issued (for printing its jti and expiry), unverified."""
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def revoke_token(session: AsyncSession, jti: str, *, reason: str | None, now: datetime) -> bool:
    """Put a jti on the revoked list; False when it was there already (the first reason stays)."""
    inserted = await session.execute(
        insert(RevokedTokenRow)
        .values(jti=jti, reason=reason, revoked_at=now)
        .on_conflict_do_nothing(index_elements=[RevokedTokenRow.jti])
        .returning(RevokedTokenRow.jti)
    )
    return inserted.scalar_one_or_none() is not None


async def is_revoked(session: AsyncSession, jti: str) -> bool:
    found = await session.execute(select(RevokedTokenRow.jti).where(RevokedTokenRow.jti == jti))
    return found.scalar_one_or_none() is not None


def utcnow() -> datetime:
    return datetime.now(UTC)
