"""The published OpenAPI document: every route is described, every refusal it can give is documented as
problem+json; and a property-based run (schemathesis) over the spec against the running app finds no 5xx and no
response off the documented schema."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from infra.settings import Settings
from tests.support import PROVINCE, SECRET, running_stack, token_for

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def spec() -> dict[str, Any]:
    settings = Settings.model_validate({"DATABASE_URL": "postgresql://unused/unused", "XPTT_JWT_SECRET": SECRET})
    return create_app(settings).openapi()


def test_every_route_is_documented_with_its_problem_responses() -> None:
    doc = spec()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail"} <= set(problem["required"])
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert len(operations) >= 15
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("summary") or op.get("description"), f"{where} has no description"
        responses = op["responses"]
        assert any(s.startswith("2") for s in responses), f"{where} documents no success"
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, where
                assert response["description"], where
        if not path.startswith("/v1/"):
            continue
        assert op.get("security") == [{"HTTPBearer": []}], f"{where} is not marked as needing a bearer token"
        assert "401" in responses, f"{where} does not document 401"
        has_input = op.get("parameters") or op.get("requestBody")
        if has_input:
            assert "422" in responses, f"{where} takes input but does not document 422"
        if "{" in path:
            assert "404" in responses, f"{where} names a resource but does not document 404"
    assert "HTTPValidationError" not in doc["components"]["schemas"]


async def _schemathesis(base: str, token: str, workdir: Path, *, parameters: dict[str, str] | None = None) -> str:
    """Run schemathesis against the running app; returns its output, fails the test on any finding."""
    config = workdir / "schemathesis.toml"
    lines = ["[parameters]", *(f'"{k}" = "{v}"' for k, v in (parameters or {}).items())]
    config.write_text("\n".join(lines) + "\n")
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
        "response_headers_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        os.environ.get("XPTT_FUZZ_EXAMPLES", "25"),
        "--seed",
        "20271101",
        "--workers",
        "1",  # several workers race in CPython's ast.parse (hypothesis describing lambdas) and crash the run
        "--request-timeout",
        "30",
        # opening a real round starts a case per unit on the Temporal server the tests share: test_rounds covers it
        "--exclude-path",
        "/v1/rounds",
        "-H",
        f"Authorization: Bearer {token}",
        "--report-dir",
        str(workdir),
    ]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=workdir,  # its example database lands there, not in the work tree
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    summary = text[text.find("SUMMARY") - 40 :] if "SUMMARY" in text else text[-6000:]
    found = min((i for i in (text.find("FAILURES"), text.find("ERRORS")) if i >= 0), default=max(0, len(text) - 8000))
    assert proc.returncode == 0, text[found : found + 12000]
    return summary


async def test_fuzzing_the_spec_finds_no_server_error_and_no_response_off_its_schema(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        case_id = await stack.start_case()
        task = await stack.open_task(case_id, "commune_officer")
        base = str(stack.http.base_url).rstrip("/")
        # the administrator over every route, with whatever identifiers the fuzzer makes up
        (tmp_path / "admin").mkdir()
        print(await _schemathesis(base, token_for(f"demo-admin-{PROVINCE}"), tmp_path / "admin"))
        # the commune officer on their real task and case: random forms reach the case workflow's validator
        (tmp_path / "officer").mkdir()
        summary = await _schemathesis(
            base,
            token_for(f"demo-officer-{stack.unit_code}"),
            tmp_path / "officer",
            parameters={"path.task_id": task["id"], "path.case_id": case_id, "path.round_id": "qd06-2019:2027"},
        )
        print(summary)
