"""GET /metrics for Prometheus (docs/observability.md): the API's own request figures and the product's gauges.

- `RequestMetrics`, the outermost middleware: one count and one latency observation per request, labelled by method,
  route template (`/v1/tasks/{task_id}/complete`: never a raw path, so no id ever becomes a label) and status. A
  request no route matched is `route="none"`.
- The product's gauges (services/metrics/) are read at scrape time, at most once per XPTT_METRICS_CACHE_SECONDS.

Who may scrape: a client on the loopback interface (a Prometheus or agent beside the API, `make run`), or any
client sending `Authorization: Bearer <XPTT_METRICS_TOKEN>` when that is set. Anyone else gets 403. The figures are
counts by stage and province, no personal data; but a province's backlog is not for the public either, and the
API's port faces the officials. A reverse proxy on the same machine must not forward /metrics (uvicorn's proxy
headers name the real client to the API only when the proxy sets X-Forwarded-For).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import HttpMiddleware
from infra.log_context import request_scope
from services.errors import Refusal
from services.metrics.gauges import ProductGauges

router = APIRouter(tags=["health"])

# The API's answers are mostly a few milliseconds (reads) to a second (an Update through Temporal).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The app's registry: the request figures and, once the app runs, the product's gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "xptt_http_requests", "HTTP requests answered, by method, route template and status.", labels,
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "xptt_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.gauges: ProductGauges | None = None

    def product_gauges(self, app_state: Any) -> ProductGauges:
        if self.gauges is None:
            settings = app_state.settings
            self.gauges = ProductGauges(app_state.sessions, app_state.temporal, ttl=settings.metrics_cache_seconds)
            self.registry.register(self.gauges)
        return self.gauges


def route_template(scope: Scope) -> str:
    """The template of the route that answered (`/v1/cases/{case_id}`), `none` when no route matched."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else "none"


class RequestMetrics(HttpMiddleware):
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before it starts a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = request_scope.set(scope)  # the log lines of this request name the case its path names
        try:
            await self.app(scope, receive, sending)
        finally:
            request_scope.reset(token)
            method = scope["method"] if scope["method"] in METHODS else "other"  # no series per invented method
            labels = (method, route_template(scope), str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)


def may_scrape(request: Request, token: str) -> bool:
    """With a metrics token set, only its bearer (compared in constant time): a proxy on the same machine makes
    every client look like loopback. Without one, a loopback client that came through no proxy."""
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    state = request.app.state
    if not may_scrape(request, state.settings.metrics_token):
        raise Refusal(403, "forbidden", "metrics need the metrics token (or, when none is set, a loopback client)")
    collected: ApiMetrics = state.metrics
    await collected.product_gauges(state).refresh()
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    """The /metrics route and the request figures, measured around everything else (install last)."""
    app.state.metrics = ApiMetrics()
    app.include_router(router)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
