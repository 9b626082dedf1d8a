"""Helpers of the observability tests: a scrape read into {(name, labels): value}, and a client of the test's
Temporal server made the way the product makes its own (infra/temporal.py `connect`)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from infra.temporal import connect

Sample = tuple[str, frozenset[tuple[str, str]]]


def parse(text: str) -> dict[Sample, float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: Mapping[Sample, float], name: str, **labels: str) -> float:
    """The sample's value; 0 for a series not (yet) shown."""
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient, url: str = "/metrics") -> dict[Sample, float]:
    resp = await http.get(url)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain"), resp.headers
    return parse(resp.text)


async def product_client(env: WorkflowEnvironment, runtime: Runtime | None = None) -> Client:
    """A client of `env`'s server through `connect`, as the API and the worker make theirs."""
    settings = Settings.model_validate({"TEMPORAL_ADDRESS": env.client.service_client.config.target_host})
    return await connect(settings, runtime=runtime)
