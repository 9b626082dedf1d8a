"""The refusal every service raises: a stable code, a status the front doors map (HTTP status, exit code, page), the
reason, and the field at fault when there is one."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request a service will not carry out, and why. `code` is stable (clients branch on it); `status` is the
    HTTP status it answers with (403 not allowed, 404 absent or out of scope, 409 conflicts with the case's state,
    422 bad input, 503 a dependency cannot be reached); `extra` carries e.g. `field`."""

    def __init__(self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
        self.extra = extra
