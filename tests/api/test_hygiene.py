"""Requests refused at the edge, before any route: NUL characters (PostgreSQL cannot store them, so a form carrying
one would pass the workflow's validator and then fail its projection for ever) and oversized bodies."""

from __future__ import annotations

import json

from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from infra.settings import Settings
from tests.api.helpers import problem, serve
from tests.support import SECRET


async def test_nul_characters_and_oversized_bodies_are_refused_before_any_route(
    temporal_env: WorkflowEnvironment, database_url: str
) -> None:
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    async with serve(create_app(settings, temporal=temporal_env.client)) as http:
        url = "/v1/tasks/qd06-2019:2027-11953-t01/complete"
        body = problem(await http.post(url, json={"registered": False, "note": "a\u0000b"}), 422, "invalid_request")
        assert "NUL" in body["detail"]
        problem(await http.get("/v1/tasks/abc%00def"), 422, "invalid_request")
        problem(await http.get("/v1/tasks", params={"unit": "1195\u00003"}), 422, "invalid_request")
        problem(
            await http.post(
                "/web/signin", content=b"token=abc%00", headers={"content-type": "application/x-www-form-urlencoded"}
            ),
            422,
            "invalid_request",
        )
        big = json.dumps({"note": "x" * (1 << 20)})
        problem(
            await http.post(url, content=big, headers={"content-type": "application/json"}), 413, "payload_too_large"
        )
        # an ordinary request passes through (and is refused for its own reason: no token)
        problem(await http.post(url, json={"registered": True}), 401, "unauthenticated")
