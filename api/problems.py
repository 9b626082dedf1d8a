"""Errors as RFC 9457 problem+json, each with a stable `code`; never a bare 500. The services refuse with
`services.errors.Refusal`; this module is how the API says it."""

from __future__ import annotations

import socket
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.errors import Refusal

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"


class ProblemBody(BaseModel):
    """An error (RFC 9457). `code` is stable: clients branch on it; `detail` names the field and the reason."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="urn:xptt:problem:<code>")
    title: str
    status: int
    code: str = Field(description="stable machine-readable reason, e.g. forbidden, task_not_open, invalid_payload")
    detail: str
    field: str | None = Field(default=None, description="the request field at fault, when one is")


WHY = {
    400: "Bad request",
    401: "No token, or a missing, expired, forged or unknown-official token",
    403: "Authenticated, but the role or scope does not allow it (the reason is in `detail`)",
    404: "Not found, or outside your units",
    409: "Conflicts with the case's state (e.g. the task is no longer open)",
    422: "A field is missing or invalid (`field` names it)",
    502: "Temporal refused the request unexpectedly",
    503: "PostgreSQL, Temporal or the token issuer cannot be reached now",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it can refuse with, documented as problem+json."""
    return {s: {"description": WHY[s], "model": ProblemBody} for s in sorted({401, 422, *statuses})}


def problem_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"urn:xptt:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install_openapi(app: FastAPI) -> None:
    """Every error response in the published schema is application/problem+json with the Problem schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        ref = {"$ref": "#/components/schemas/Problem"}
        for path, path_item in schema.get("paths", {}).items():
            for operation in path_item.values():
                # What any route can answer, whether or not it says so: no valid token, a role or scope the policy
                # refuses, a bad input, no such thing.
                responses = operation.setdefault("responses", {})
                if operation.get("security"):
                    responses.setdefault("401", {"description": WHY[401]})
                    responses.setdefault("403", {"description": WHY[403]})
                if operation.get("parameters") or operation.get("requestBody"):
                    responses.setdefault("422", {"description": WHY[422]})
                if "{" in path:
                    responses.setdefault("404", {"description": WHY[404]})
                for status, response in responses.items():
                    if status.isdigit() and int(status) >= 400:
                        response["content"] = {MEDIA_TYPE: {"schema": ref}}
                        if int(status) == 422:
                            response["description"] = WHY[422]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# Refused, reset, unresolvable, timed out, dropped mid-statement, or no pooled connection free in time.
UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    SATimeoutError,
)


def database_unreachable(exc: BaseException) -> bool:
    """A failure to reach PostgreSQL (refused, dropped, timed out), as opposed to a fault in the request."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UNREACHABLE):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def install(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def _refusal(_: Request, exc: Refusal) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        # a body that is missing, null or not an object is at fault as a whole: its field is "body"
        field = ".".join(str(p) for p in first["loc"] if p != "body") or ".".join(map(str, first["loc"])) or "request"
        return problem_response(422, "invalid_request", f"{field}: {first['msg']}", field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # the body is not JSON (FastAPI's parser): a bad input like any other
            return problem_response(422, "invalid_request", f"body: {exc.detail}", field="body")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if database_unreachable(exc):
            log.warning("database_unavailable", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
            return problem_response(
                503, "database_unavailable", "the database cannot be reached; try again shortly", {"Retry-After": "5"}
            )
        log.exception("request_failed", path=request.url.path)
        return problem_response(500, "internal_error", "the request failed; it has been logged")

    install_openapi(app)
