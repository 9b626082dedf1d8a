"""Opaque keyset cursors: the last row of a page (its sort key and id), so the next page starts right after it.

Keyset pages neither skip nor repeat rows when rows are inserted between requests: a row is on the page after the
cursor exactly when its (sort key, id) comes after the cursor's. A cursor is client input like any other: its sort key
must be an instant with its offset that can be expressed in UTC (not 0001-01-01 east of UTC, not 9999-12-31 west of
it), or the cursor is refused (422), never sent to PostgreSQL.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.errors import Refusal
from services.fields import Id, Instant


class Cursor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sort: str = Field(max_length=10)
    key: Instant | None  # the sort key of the last row (None: a row without a due time)
    id: Id


def encode(cursor: Cursor) -> str:
    raw = json.dumps(cursor.model_dump(mode="json"), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, *, sort: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data: Any = json.loads(raw)
        cursor = Cursor.model_validate(data)
    except (binascii.Error, ValueError, UnicodeDecodeError, ValidationError):
        raise Refusal(422, "invalid_cursor", "cursor: not a cursor this API returned", field="cursor") from None
    if cursor.sort != sort:
        raise Refusal(
            422,
            "invalid_cursor",
            f"cursor: it belongs to a listing sorted by {cursor.sort}, not {sort}",
            field="cursor",
        )
    return cursor
