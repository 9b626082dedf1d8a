"""Traces and the worker's runtime metrics (docs/observability.md).

Traces (OpenTelemetry) are off unless the standard environment asks for them (`tracing_exporter`): then one
official's action is one trace, from the API's request through the Temporal client's Update, the case workflow's
handling of it and the activity it runs, down to each SQL statement of the request and of the activity.

- `configure_tracing(service)`: the process's tracer provider, from OTEL_* (OTLP over HTTP when a collector is named).
- `connect()` (infra/temporal.py) puts `temporal_interceptors()` on every client the process makes, so the API's
  calls and the worker's workflows and activities are traced alike; `fastapi_telemetry` (the app's request spans)
  and `instrument_engine` (a span per SQL statement) do the rest.
- infra/log_context.py `add_trace_context`, a structlog processor: every log line written inside a span names its
  trace (and the case).

The worker's runtime metrics are the Temporal SDK's own (its Prometheus endpoint, `worker_runtime`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import opentelemetry.context
import opentelemetry.trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import worker
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

if TYPE_CHECKING:  # the API's type only: the worker imports this module and has no use for FastAPI
    from fastapi.telemetry import TelemetryConfig as FastApiTelemetry

TRACER_NAME = "xptt"
EXPORTERS = ("otlp", "console", "none")

_provider: TracerProvider | None = None


# -- the tracer provider ----------------------------------------------------------------------------------------------
def tracing_exporter(env: Mapping[str, str]) -> str | None:
    """Where spans go, from the standard variables: None (tracing off) under OTEL_SDK_DISABLED=true, or when neither
    OTEL_TRACES_EXPORTER nor an OTLP endpoint is set, so that nothing tries to reach a collector by default; else
    `otlp`, `console` (spans printed to stdout) or `none` (spans made, so log lines carry a trace id, and dropped)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    chosen = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if chosen:
        if chosen not in EXPORTERS:
            raise ValueError(f"OTEL_TRACES_EXPORTER: {chosen!r} is not one of {', '.join(EXPORTERS)}")
        return chosen
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return "otlp"
    return None


def _exporter(kind: str) -> SpanExporter | None:
    if kind == "otlp":
        # endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_* (HTTP/protobuf, port 4318)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if kind == "console":
        return ConsoleSpanExporter()
    return None


def configure_tracing(service: str, env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """This process's tracer provider as the environment asks (`tracing_exporter`), named OTEL_SERVICE_NAME or
    `service`; None when tracing is off. Also the global provider, for libraries that look there."""
    env = os.environ if env is None else env
    kind = tracing_exporter(env)
    if kind is None:
        return None
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or service})
    provider = TracerProvider(resource=resource)  # sampler from OTEL_TRACES_SAMPLER (default: parent, else all)
    exporter = _exporter(kind)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    use_tracer_provider(provider)
    opentelemetry.trace.set_tracer_provider(provider)
    return provider


def use_tracer_provider(provider: TracerProvider | None) -> None:
    """Trace with `provider` from now on (None: tracing off). Clients, apps and engines made before keep theirs."""
    global _provider
    _provider = provider


def tracer_provider() -> TracerProvider | None:
    return _provider


def _tracer() -> opentelemetry.trace.Tracer | None:
    return None if _provider is None else _provider.get_tracer(TRACER_NAME)


# -- Temporal ------------------------------------------------------------------------------------------------------
class CaseTracingWorkflowInterceptor(TracingWorkflowInboundInterceptor):
    """The SDK's workflow tracing, with one change: an Update is handled in the trace of the client that sent it
    (the official's request), linked to the workflow's own trace, instead of the other way round. An official's
    action is then one trace from the HTTP request to the SQL of the activity the Update runs."""

    def handle_update_validator(self, input: worker.HandleUpdateInput) -> None:
        with self._in_sender_trace(input, f"ValidateUpdate:{input.update}"):
            self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: worker.HandleUpdateInput) -> Any:
        with self._in_sender_trace(input, f"HandleUpdate:{input.update}"):
            return await self.next.handle_update_handler(input)

    @contextmanager
    def _in_sender_trace(self, input: worker.HandleUpdateInput, name: str) -> Iterator[None]:
        header = input.headers.get(self.header_key)
        carrier = self.payload_converter.from_payloads([header])[0] if header else None
        if not carrier:
            with self._top_level_workflow_context(success_is_complete=False):
                self._completed_span(name, kind=SpanKind.SERVER)
                yield
            return
        context = self._set_on_context(self.text_map_propagator.extract(carrier))
        token = opentelemetry.context.attach(context)
        try:
            self._completed_span(name, link_context_carrier=self._load_workflow_context_carrier(), kind=SpanKind.SERVER)
            yield
        finally:
            if opentelemetry.context.get_current() is context:
                opentelemetry.context.detach(token)


class CaseTracingInterceptor(TracingInterceptor):
    def workflow_interceptor_class(
        self, input: worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making function the workflow side calls
        return CaseTracingWorkflowInterceptor


def temporal_interceptors() -> list[TracingInterceptor]:
    """For `Client.connect`: the client's calls and the workers built on it, traced (none while tracing is off)."""
    tracer = _tracer()
    return [] if tracer is None else [CaseTracingInterceptor(tracer)]


def worker_runtime(bind_address: str) -> Runtime | None:
    """A Temporal runtime whose metrics (the SDK's: task slots, latencies, polls, failures...) are served for
    Prometheus on `bind_address` ("host:port", at /metrics); None for an empty address (the default runtime, no
    metrics endpoint). One per process and address: the endpoint lives as long as the runtime."""
    if not bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


# -- HTTP and SQL --------------------------------------------------------------------------------------------------
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: many, and telling nothing


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def fastapi_telemetry() -> FastApiTelemetry:
    """FastAPI's own OpenTelemetry (`FastAPI(telemetry=...)`): a server span per HTTP request, named by its route
    template (no ids), with this process's provider while tracing is on; nothing at all while it is off (FastAPI
    would otherwise turn itself on for any global provider). Metrics and logs are ours, not FastAPI's."""
    if _provider is None:
        return {"tracing": False, "metrics": False, "logs": False, "auto_configure": False}
    return {
        "tracer_provider": _provider,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "auto_configure": False,
        "exclude": _untraced,
    }


def instrument_engine(engine: AsyncEngine) -> None:
    """A client span per SQL statement the engine runs (its text with placeholders, never the values), while
    tracing is on."""
    tracer = _tracer()
    if tracer is None:
        return
    sync = engine.sync_engine
    database = sync.url.database or ""

    @event.listens_for(sync, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            f"{verb} {database}".strip(),
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": "postgresql", "db.namespace": database, "db.query.text": statement},
        )
        if context is not None:
            context._xptt_span = span

    @event.listens_for(sync, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        span = getattr(context, "_xptt_span", None)
        if span is not None:
            span.end()
            context._xptt_span = None

    @event.listens_for(sync, "handle_error")
    def _failed(error: Any) -> None:
        span = getattr(error.execution_context, "_xptt_span", None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(error.original_exception).__name__))
            span.end()
            error.execution_context._xptt_span = None
