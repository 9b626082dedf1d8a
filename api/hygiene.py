"""Requests the API refuses before any route sees them: bodies too large, and NUL characters anywhere (PostgreSQL
cannot store them, so a form carrying one would be accepted by the workflow and then fail its projection)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1 << 20  # 1 MiB: the largest form (a dossier's references) is a few kilobytes


class RequestHygiene:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
        form = dict(scope.get("headers", [])).get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded")
        if b"\x00" in body or b"\\u0000" in body or (form and b"%00" in body):
            await _refuse(send, 422, "invalid_request", "the body contains a NUL character (\\u0000)", "body")
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
