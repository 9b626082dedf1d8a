"""The worker's Temporal SDK metrics for Prometheus (WORKER_METRICS_ADDRESS): served by the runtime the worker's
client connects with, they answer with the SDK's temporal_ metrics once a workflow ran."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from infra.embedded import free_port
from infra.telemetry import worker_runtime
from tests.observability.support import parse, product_client
from tests.support import running_stack


async def test_the_worker_runtime_serves_temporal_metrics_after_a_workflow_ran(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert worker_runtime("") is None  # empty address: no endpoint, the default runtime
    address = f"127.0.0.1:{free_port()}"
    client = await product_client(temporal_env, worker_runtime(address))
    async with running_stack(client, database_url, sessions) as stack, httpx.AsyncClient(timeout=10) as http:
        case_id = await stack.start_case()
        await stack.open_task(case_id, "commune_officer")  # the case workflow ran and recorded its opening
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            resp = await http.get(f"http://{address}/metrics")
            assert resp.status_code == 200, resp.text
            scraped = parse(resp.text)
            recorded = [
                v
                for (name, labels), v in scraped.items()
                if name == "temporal_activity_execution_latency_count"
                and ("activity_type", "record_transition") in labels
            ]
            if recorded or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
    assert recorded and sum(recorded) >= 1, sorted({name for name, _ in scraped})
    names = {name for name, _ in scraped}
    assert "temporal_worker_task_slots_available" in names, sorted(names)
    slots = {
        dict(labels).get("worker_type") for (name, labels) in scraped if name == "temporal_worker_task_slots_available"
    }
    assert {"WorkflowWorker", "ActivityWorker"} <= slots, slots
