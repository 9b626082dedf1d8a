"""Liveness and readiness: readiness checks PostgreSQL and Temporal."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import SessionDep, TemporalDep
from api.problems import ProblemBody
from services.errors import Refusal

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: PostgreSQL and Temporal answer",
    responses={503: {"model": ProblemBody, "description": "not ready: `checks` says which dependency fails"}},
)
async def readyz(session: SessionDep, temporal: TemporalDep) -> Readiness:
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
    failing = {name: state for name, state in checks.items() if state != "ok"}
    if failing:
        detail = "; ".join(f"{name} {state}" for name, state in failing.items())
        raise Refusal(503, "not_ready", detail, checks=checks)
    return Readiness(status="ready", checks=checks)
