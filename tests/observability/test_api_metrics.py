"""GET /metrics on the API: the request figures by route template, and the product's gauges read from PostgreSQL
moving as a case moves."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from domain.stages import Stage
from infra.settings import Settings
from services.metrics.gauges import ProductGauges
from tests.builders import complete
from tests.observability.support import scrape, value
from tests.support import PROVINCE, ROUND_ID, SECRET, form_for, running_stack

COMPLETE_ROUTE = "/v1/tasks/{task_id}/complete"


async def test_a_step_moves_the_request_counter_and_the_open_tasks_of_its_stage_and_province(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    fresh = {"XPTT_METRICS_CACHE_SECONDS": "0"}  # every scrape reads PostgreSQL again
    async with running_stack(temporal_env.client, database_url, sessions, settings=fresh) as stack:
        before = await scrape(stack.http)
        case_id = await stack.start_case()
        task = await stack.open_task(case_id, "commune_officer")
        opened = await scrape(stack.http)

        def tasks(scraped: dict, stage: Stage) -> float:  # type: ignore[type-arg]
            return value(scraped, "xptt_open_tasks", stage=stage.value, province=PROVINCE)

        assert tasks(opened, Stage.REGISTRATION) == tasks(before, Stage.REGISTRATION) + 1
        open_cases = {"round": ROUND_ID, "province": PROVINCE, "status": "open", "outcome": "none"}
        assert value(opened, "xptt_cases", **open_cases) == value(before, "xptt_cases", **open_cases) + 1

        await complete(stack, task, "commune_officer", form_for(Stage.REGISTRATION))
        after = await scrape(stack.http)
        assert tasks(after, Stage.REGISTRATION) == tasks(before, Stage.REGISTRATION)
        assert ("xptt_open_tasks", frozenset({("stage", "registration"), ("province", PROVINCE)})) in after, (
            "a series once shown stays, at its count, when that drops to nothing"
        )
        assert tasks(after, Stage.SELF_ASSESSMENT) == tasks(opened, Stage.SELF_ASSESSMENT) + 1
        assert value(after, "xptt_cases", **open_cases) == value(opened, "xptt_cases", **open_cases)

        completed = {"method": "POST", "route": COMPLETE_ROUTE, "status": "200"}
        assert value(after, "xptt_http_requests_total", **completed) == 1
        assert value(after, "xptt_http_request_duration_seconds_count", **completed) == 1
        assert value(after, "xptt_http_requests_total", method="GET", route="/v1/tasks", status="200") >= 1
        routes = {dict(labels).get("route", "") for (name, labels) in after if name == "xptt_http_requests_total"}
        assert not [r for r in routes if case_id in r or task["id"] in r], routes  # templates, never ids
        assert value(after, "xptt_product_gauges_up", source="postgres") == 1
        assert value(after, "xptt_outbox_oldest_due_seconds") >= 0


async def test_the_gauges_are_read_again_only_once_their_cache_has_aged(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = [0.0]
    gauges = ProductGauges(sessions, temporal_env.client, ttl=10, clock=lambda: clock[0])
    await gauges.refresh()
    first = gauges.snapshot
    assert first is not None
    clock[0] = 9.9
    await gauges.refresh()
    assert gauges.snapshot is first  # a scrape storm within the cache's age reads nothing
    clock[0] = 10.0
    await gauges.refresh()
    assert gauges.snapshot is not None and gauges.snapshot is not first


async def test_metrics_refuse_a_remote_client_without_the_metrics_token(
    temporal_env: WorkflowEnvironment, database_url: str
) -> None:
    base = {"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET}
    key = "scrape-" + "s" * 30
    remote, loopback = "203.0.113.7", "127.0.0.1"
    for host, token, sent, expected in [
        (remote, "", {}, 403),
        (remote, "", {"Authorization": "Bearer anything"}, 403),
        (remote, key, {"Authorization": "Bearer wrong"}, 403),
        (remote, key, {"Authorization": f"Bearer {key}"}, 200),
        (loopback, "", {}, 200),
        (loopback, "", {"X-Forwarded-For": "203.0.113.7"}, 403),  # a proxy on the same machine passed it on
        (loopback, key, {}, 403),  # with a token set, loopback is no pass
        (loopback, key, {"Authorization": f"Bearer {key}"}, 200),
    ]:
        app = create_app(Settings.model_validate(base | {"XPTT_METRICS_TOKEN": token}), temporal=temporal_env.client)
        local = httpx.ASGITransport(app=app, client=(host, 40000))
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=local, base_url="http://x") as http:
            resp = await http.get("/metrics", headers=sent)
        assert resp.status_code == expected, (host, token, sent, resp.text)
        if expected == 403:
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert resp.json()["code"] == "forbidden"
            assert "xptt_" not in resp.text
        else:
            assert "xptt_http_requests" in resp.text


async def test_an_invented_method_adds_no_series_of_its_own(
    temporal_env: WorkflowEnvironment, database_url: str
) -> None:
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    app = create_app(settings, temporal=temporal_env.client)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as http:
        for method in ("ZZ0", "ZZ1", "ZZ2"):
            await http.request(method, "/v1/tasks")
        text = (await http.get("/metrics")).text
    assert "ZZ" not in text
    assert 'method="other"' in text
