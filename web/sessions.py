"""The pages' sessions, kept in PostgreSQL (`web_sessions`, migration 0008).

Signing in (a pasted token, or the OIDC provider's ID token) opens a session: a random id goes into the browser's
HttpOnly cookie, and only its SHA-256 is stored, with the official, how they signed in, the jti of the token it was
opened with, and when it was created, expires and was revoked. It expires after `XPTT_SESSION_HOURS` or with the
token, whichever comes first. Signing out revokes it here, so a copy of the cookie stops working too; so does
revoking the token it was opened with (`xptt token revoke`). The cookie never holds a token.

These functions take the request's database session and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RevokedTokenRow, WebSessionRow

SESSION_COOKIE = "xptt_session"
MAX_ID_LENGTH = 100  # a longer cookie is no id of ours: not even hashed
KEEP_ENDED = timedelta(days=1)  # an official's ended sessions are dropped this long after they expired


@dataclass(frozen=True)
class Opened:
    session_id: str  # for the cookie only: the table keeps its digest
    expires_at: datetime


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def open_session(
    db: AsyncSession,
    *,
    official_id: str,
    method: str,
    token_jti: str | None,
    token_expires_at: datetime,
    now: datetime,
    length: timedelta,
) -> Opened:
    """A new session for the official, until `now + length` or the token's expiry, whichever is first."""
    session_id = secrets.token_urlsafe(32)
    expires_at = min(now + length, token_expires_at)
    await db.execute(
        delete(WebSessionRow).where(
            WebSessionRow.official_id == official_id, WebSessionRow.expires_at < now - KEEP_ENDED
        )
    )
    db.add(
        WebSessionRow(
            id_hash=digest(session_id),
            official_id=official_id,
            method=method,
            token_jti=token_jti,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
    )
    await db.flush()
    return Opened(session_id, expires_at)


async def session_official(db: AsyncSession, session_id: str, *, now: datetime) -> str | None:
    """The official a live session names: not revoked, not expired, its token not revoked; else None."""
    if not session_id or len(session_id) > MAX_ID_LENGTH:
        return None
    revoked_token = exists().where(RevokedTokenRow.jti == WebSessionRow.token_jti)
    found = await db.execute(
        select(WebSessionRow.official_id).where(
            WebSessionRow.id_hash == digest(session_id),
            WebSessionRow.revoked_at.is_(None),
            WebSessionRow.expires_at > now,
            ~revoked_token,
        )
    )
    return found.scalar_one_or_none()


async def close_session(db: AsyncSession, session_id: str, *, now: datetime) -> None:
    """Sign-out: the session is revoked (a session already ended stays as it was)."""
    if not session_id or len(session_id) > MAX_ID_LENGTH:
        return
    await db.execute(
        update(WebSessionRow)
        .where(WebSessionRow.id_hash == digest(session_id), WebSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
