"""One official's action is one trace: the API's request, the Temporal client's Update, the case workflow's handling
of it (in the worker, here in this process), the activity it runs, and the SQL of both sides, under one trace id.
And every log line written inside a span names its trace (and the case)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.stages import Stage
from infra.log_context import add_trace_context, request_scope
from infra.telemetry import instrument_engine, tracing_exporter, use_tracer_provider
from tests.builders import complete
from tests.observability.support import product_client
from tests.support import form_for, running_stack

REQUEST = "POST /v1/tasks/{task_id}/complete"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process, into memory, for one test (then off again)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        use_tracer_provider(None)
        provider.shutdown()


def _sql_under(all_spans: list[ReadableSpan], ancestor: ReadableSpan) -> list[ReadableSpan]:
    """The SQL spans that descend from `ancestor`."""
    by_id = {s.context.span_id: s for s in all_spans}

    def descends(span: ReadableSpan) -> bool:
        parent = span.parent
        while parent is not None:
            if parent.span_id == ancestor.context.span_id:
                return True
            above = by_id.get(parent.span_id)
            parent = above.parent if above is not None else None
        return False

    return [s for s in all_spans if (s.attributes or {}).get("db.system.name") == "postgresql" and descends(s)]


async def test_a_task_completion_is_one_trace_from_the_request_to_the_sql_of_its_activity(
    spans: InMemorySpanExporter,
    temporal_env: WorkflowEnvironment,
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    instrument_engine(engine)  # the worker's activities write through this test's engine
    client = await product_client(temporal_env)  # with the tracing interceptor, as the API's and the worker's
    async with running_stack(client, database_url, sessions) as stack:
        case_id = await stack.start_case()
        task = await stack.open_task(case_id, "commune_officer")
        spans.clear()
        await complete(stack, task, "commune_officer", form_for(Stage.REGISTRATION))
        deadline = asyncio.get_running_loop().time() + 10
        while not [s for s in spans.get_finished_spans() if s.name == REQUEST]:  # ended once the answer is sent
            assert asyncio.get_running_loop().time() < deadline, [s.name for s in spans.get_finished_spans()]
            await asyncio.sleep(0.02)

    finished = list(spans.get_finished_spans())
    (request,) = [s for s in finished if s.name == REQUEST]
    trace = [s for s in finished if s.context.trace_id == request.context.trace_id]
    named = {s.name: s for s in trace}
    for name in (
        "StartWorkflowUpdate:complete_task",
        "ValidateUpdate:complete_task",
        "HandleUpdate:complete_task",
        "StartActivity:record_transition",
        "RunActivity:record_transition",
    ):
        assert name in named, (name, sorted(named))
    assert named["StartWorkflowUpdate:complete_task"].parent is not None
    handled = named["HandleUpdate:complete_task"]
    assert handled.links, "the Update's handling links to the case workflow's own trace"
    assert handled.links[0].context.trace_id != request.context.trace_id
    assert (named["RunActivity:record_transition"].attributes or {}).get("temporalWorkflowID") == case_id
    # SQL on both sides: the API's reads under the request, the activity's transaction under the activity
    activity_sql = _sql_under(trace, named["RunActivity:record_transition"])
    assert any("INSERT INTO audit_events" in str((s.attributes or {}).get("db.query.text")) for s in activity_sql)
    api_sql = [s for s in _sql_under(trace, request) if s not in activity_sql]
    assert api_sql, sorted(named)
    assert all(s.context.trace_id == request.context.trace_id for s in activity_sql + api_sql)


def test_log_lines_name_the_current_trace_and_the_case_the_request_path_names(spans: InMemorySpanExporter) -> None:
    from infra.telemetry import tracer_provider

    provider = tracer_provider()
    assert provider is not None
    token = request_scope.set({"path_params": {"task_id": "qd06-2019:2027-33001-t03"}})
    try:
        with provider.get_tracer("test").start_as_current_span("work") as span:
            line = add_trace_context(None, "info", {"event": "x"})
        outside = add_trace_context(None, "info", {"event": "y", "case_id": "named-by-the-line"})
    finally:
        request_scope.reset(token)
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
    assert line["case_id"] == "qd06-2019:2027-33001"
    assert "trace_id" not in outside and outside["case_id"] == "named-by-the-line"
    assert add_trace_context(None, "info", {"event": "z"}) == {"event": "z"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "none"}, "none"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, None),
    ],
)
def test_tracing_is_off_unless_the_environment_names_an_exporter(env: dict[str, str], expected: str | None) -> None:
    assert tracing_exporter(env) == expected


def test_an_unknown_exporter_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER: 'jaeger' is not one of otlp, console, none"):
        tracing_exporter({"OTEL_TRACES_EXPORTER": "jaeger"})
