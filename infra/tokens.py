"""Bearer tokens: signed JWTs naming an official (`sub`).

Roles and scopes are read from the database, never from the token.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"


class TokenError(Exception):
    pass


def issue_token(official_id: str, *, secret: str, issuer: str, now: datetime, ttl: timedelta) -> str:
    if not secret:
        raise TokenError("XPTT_JWT_SECRET is not set")
    claims = {"sub": official_id, "iss": issuer, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, *, secret: str, issuer: str) -> str:
    """Return the official id the token names, or raise TokenError with the reason."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=issuer, options={"require": ["sub", "exp", "iss"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"the token is not valid: {exc}") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenError("the token names no official")
    return sub


def utcnow() -> datetime:
    return datetime.now(UTC)
