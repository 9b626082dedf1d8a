"""Idempotency-Key: one key, one body (IETF draft "The Idempotency-Key HTTP Header Field").

A retry with the same key sends the same Temporal update ids again, so the case answers the first result. Sent with
another body, the same key would answer that first result too, as if the second body had been taken: instead the
first body's fingerprint (SHA-256 of its canonical JSON) is kept per (key, official, route), and another body under
the same key is refused with 422 `idempotency_key_mismatch`, the draft's answer.

The fingerprint is written in its own short transaction before anything is sent, with one statement that inserts it
or reads the one already there (no read-then-write race between two requests carrying the same key).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import IdempotencyKeyRow
from services.errors import Refusal

FIELD = "Idempotency-Key"


def fingerprint(body: Any) -> str:
    """SHA-256 (hex) of the body's canonical JSON: keys sorted, no spaces, text as UTF-8."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def claim(session: AsyncSession, *, key: str, official_id: str, route: str, body: Any) -> None:
    """Keep the body's fingerprint as the first under (key, official, route), or check it against the one kept:
    another body raises Refusal 422 `idempotency_key_mismatch`. Commits: the claim stands whatever follows."""
    mine = fingerprint(body)
    new = insert(IdempotencyKeyRow).values(key=key, official_id=official_id, route=route, fingerprint=mine)
    upsert = new.on_conflict_do_update(
        index_elements=[IdempotencyKeyRow.key, IdempotencyKeyRow.official_id, IdempotencyKeyRow.route],
        set_={"key": new.excluded.key},  # a no-op that makes RETURNING give the row already there
    ).returning(IdempotencyKeyRow.fingerprint)
    first = await session.scalar(upsert)
    await session.commit()
    if first != mine:
        raise Refusal(
            422,
            "idempotency_key_mismatch",
            f"{FIELD}: this key was first sent to {route} with another body; a retry sends the same body, and "
            "another request takes a new key",
            field=FIELD,
        )
