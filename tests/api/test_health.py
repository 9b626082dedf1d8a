"""Liveness and readiness: readiness answers 503 naming the dependency that fails, PostgreSQL or Temporal."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from infra.embedded import free_port
from infra.settings import Settings
from infra.tokens import issue_token, utcnow
from tests.api.helpers import problem, serve
from tests.support import SECRET


async def test_readiness_checks_postgres_and_temporal(temporal_env: WorkflowEnvironment, database_url: str) -> None:
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"postgres": "ok", "temporal": "ok"}}

    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"
    settings = Settings.model_validate({"DATABASE_URL": nowhere, "XPTT_JWT_SECRET": SECRET})
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:
        body = problem(await http.get("/readyz"), 503, "not_ready")
        assert body["checks"]["postgres"].startswith("failing") and body["checks"]["temporal"] == "ok"
        assert "postgres" in body["detail"]
        assert (await http.get("/healthz")).status_code == 200

    lost = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter)
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    async with serve(create_app(settings, temporal=lost)) as http:
        body = problem(await http.get("/readyz"), 503, "not_ready")
        assert body["checks"] == {"postgres": "ok", "temporal": body["checks"]["temporal"]}
        assert body["checks"]["temporal"].startswith("failing")


async def test_a_request_that_cannot_reach_postgres_is_a_503_to_retry_not_a_500(
    temporal_env: WorkflowEnvironment,
) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"
    settings = Settings.model_validate({"DATABASE_URL": nowhere, "XPTT_JWT_SECRET": SECRET})
    token = issue_token("someone", secret=SECRET, issuer=settings.jwt_issuer, now=utcnow(), ttl=timedelta(hours=1))
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:
        resp = await http.get("/v1/tasks?mine=true", headers={"Authorization": f"Bearer {token}"})
        body = problem(resp, 503, "database_unavailable")
        assert resp.headers["retry-after"] == "5"
        assert "database" in body["detail"]
