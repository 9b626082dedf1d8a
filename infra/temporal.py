"""One way to reach Temporal: the pydantic data converter on every client, worker and test; the tracing
interceptors while tracing is on (infra/telemetry.py), which the workers built on the client inherit."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from infra.settings import Settings
from infra.telemetry import temporal_interceptors


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client of the configured server; `runtime`: the worker's (its metrics endpoint), else the default one."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=temporal_interceptors(),
        runtime=runtime,
    )
