"""The HTTP API (FastAPI) under /v1: officials' tasks, cases; OpenAPI at /docs and /openapi.json."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from temporalio.client import Client

import web
from api import headers, problems
from api import metrics as api_metrics
from api.auth import JwksCache, TokenVerifier
from api.hygiene import RequestHygiene
from api.oidc import OidcProvider
from api.routes import audit as audit_routes
from api.routes import board, bulk, cases, health, me, ministry, my_notifications, officials, rounds, targets, tasks
from api.routes import history as history_routes
from api.routes import whatif as whatif_routes
from db.session import make_engine, make_session_factory
from infra.heap import freeze_start_heap
from infra.logs import configure_logging
from infra.settings import Settings, get_settings
from infra.telemetry import configure_tracing, fastapi_telemetry, instrument_engine
from infra.temporal import connect


def _lifespan(
    settings: Settings, temporal: Client | None, *, configure_logs: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shut-down: the token verifier, the database pool and the Temporal client on `app.state`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if configure_logs:
            configure_logging(settings.log_level, settings.log_format)
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set: the API reads the case projection from PostgreSQL")
        http = httpx.AsyncClient()
        # the web pages' OIDC sign-in; its discovery document names the keys when XPTT_JWKS_URL does not
        oidc = OidcProvider(settings, client=http) if settings.oidc_enabled else None
        jwks = (
            JwksCache(
                settings.jwks_url,
                client=http,
                ttl_seconds=settings.jwks_cache_seconds,
                min_refresh_seconds=settings.jwks_min_refresh_seconds,
                locate=oidc.jwks_uri if oidc is not None and not settings.jwks_url else None,
            )
            if settings.jwks_url or oidc is not None
            else None
        )
        app.state.oidc = oidc
        app.state.verifier = TokenVerifier(settings, jwks=jwks)  # refuses to start with no way to verify tokens
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        instrument_engine(engine)  # a span per SQL statement while tracing is on
        app.state.settings = settings
        app.state.sessions = make_session_factory(engine)
        app.state.temporal = temporal or await connect(settings)
        freeze_start_heap()  # the start-up's objects out of the collector's full passes (infra/heap.py)
        try:
            yield
        finally:
            await engine.dispose()
            await http.aclose()

    return lifespan


def create_app(
    settings: Settings | None = None, *, temporal: Client | None = None, configure_logs: bool = False
) -> FastAPI:
    settings = settings or get_settings()

    app = FastAPI(
        title="xptt",
        summary="Recognition of child-friendly communes: tasks, cases, decisions",
        description=(
            "Officials complete their tasks; administrators watch what is stuck and act on it in bulk; auditors read "
            "each case's timeline. Every request carries a bearer JWT naming the official; roles and unit scopes come "
            "from the database. Errors are application/problem+json with a stable `code`."
        ),
        version="0.1.0",
        lifespan=_lifespan(settings, temporal, configure_logs=configure_logs),
        telemetry=fastapi_telemetry(),  # a span per request while tracing is on (infra/telemetry.py)
    )
    problems.install(app)
    app.add_middleware(RequestHygiene)
    headers.install(app)  # outermost: CSP, framing, referrer, nosniff on every response, errors included
    features = (health, me, my_notifications, tasks, cases, audit_routes, board, bulk, rounds, ministry)
    for feature in (*features, officials, targets, history_routes, whatif_routes):
        app.include_router(feature.router)
    web.install(app)  # the officials' and administrators' pages (web/)
    api_metrics.install(app)  # GET /metrics, and the request figures around everything above
    return app


# `uvicorn api.main:app`: settings from the environment, read when the server starts; traces as OTEL_* asks.
configure_tracing("xptt-api")
app = create_app(configure_logs=True)
