"""Liveness and readiness: readiness checks PostgreSQL and Temporal."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import SessionDep, TemporalDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(session: SessionDep, temporal: TemporalDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await session.execute(text("select 1"))
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"failing: {type(exc).__name__}"
    try:
        ok = await temporal.service_client.check_health()
        checks["temporal"] = "ok" if ok else "failing: not serving"
    except Exception as exc:
        checks["temporal"] = f"failing: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )
