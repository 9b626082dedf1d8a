"""Requests the API refuses before any route sees them: bodies too large, NUL characters anywhere (PostgreSQL
cannot store them, so a form carrying one would be accepted by the workflow and then fail its projection), and JSON
that a route's parser would read as something else than it says.

Python's JSON parser takes `Infinity`, `-Infinity` and `NaN`, which JSON does not have, and reads `1e309` as an
infinite float; once in a payload, such a number is written on as `null` (and a form would accept a note of `null`).
An integer of thousands of digits cannot be read at all (a ValueError), and an object that repeats a key keeps the last
value silently. Each is refused here with 422, naming where it sits (e.g. `note`, `scores.3`).
"""

from __future__ import annotations

import json
import math
from email.message import Message as MimeHeader
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from api.middleware import HttpMiddleware

MAX_BODY = 1 << 20  # 1 MiB: the largest form (a dossier's references) is a few kilobytes
MAX_INT_DIGITS = 4000  # below Python's limit on reading an integer from text (4,300 digits)


class RequestHygiene(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if b"%00" in raw_path or "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _refuse(send, 422, "invalid_request", "the request's path or query contains a NUL character", "path")
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await _refuse(send, 413, "payload_too_large", f"the body exceeds {MAX_BODY} bytes")
                return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        form = content_type.startswith(b"application/x-www-form-urlencoded")
        # A file upload (multipart: an officials' spreadsheet) is binary: the route that reads it refuses a NUL in
        # the text it takes from it (services/officials/rules.py).
        binary = content_type.startswith(b"multipart/form-data")
        if not binary and (b"\x00" in body or b"\\u0000" in body or (form and b"%00" in body)):
            await _refuse(send, 422, "invalid_request", "the body contains a NUL character (\\u0000)", "body")
            return
        problem = json_problem(body) if body and _is_json(scope) else None
        if problem is not None:
            await _refuse(send, 422, "invalid_request", f"{problem[0]}: {problem[1]}", problem[0])
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, detail: str, field: str | None = None) -> None:
    payload: dict[str, Any] = {
        "type": f"urn:xptt:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if field:
        payload["field"] = field
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_json(scope: Scope) -> bool:
    """Whether a route would read the body as JSON: no content type, or a JSON one (FastAPI's rule)."""
    value = dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1")
    if not value:
        return True
    header = MimeHeader()
    header["content-type"] = value
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class _Unreadable:
    """A JSON value the API does not take, with why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _constant(text: str) -> _Unreadable:
    return _Unreadable(f"{text} is not a JSON number; numbers must be finite")


def _float(text: str) -> float | _Unreadable:
    value = float(text)
    if math.isfinite(value):
        return value
    return _Unreadable(f"{text[:40]} is beyond the range of numbers; numbers must be finite")


def _int(text: str) -> int | _Unreadable:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return _Unreadable(f"an integer of {len(text.lstrip('-'))} digits is beyond the range of numbers")
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            return {**seen, key: _Unreadable("the key appears twice in one object")}
        seen[key] = value
    return seen


def json_problem(body: bytes) -> tuple[str, str] | None:
    """Where a JSON body holds what the API does not take (a number that is not finite or too long to read, a key
    repeated in one object) and why: (field, reason). None when there is none, or when the body is not JSON at all
    (the route's parser refuses that)."""
    try:
        document = json.loads(
            body, parse_constant=_constant, parse_float=_float, parse_int=_int, object_pairs_hook=_object
        )
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[list[str], Any]] = [([], document)]
    while stack:  # depth first, in document order
        path, value = stack.pop()
        if isinstance(value, _Unreadable):
            return ".".join(path) or "body", value.reason
        if isinstance(value, dict):
            stack += [([*path, str(k)], v) for k, v in reversed(value.items())]
        elif isinstance(value, list):
            stack += [([*path, str(i)], v) for i, v in reversed(list(enumerate(value)))]
    return None
