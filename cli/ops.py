"""Running a service from the command line, in process: a session, a Temporal client and the principal — an
official named with --as (resolved as a request's token is), or the operator over one province."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from cli.common import T as say
from cli.common import database, fail, refusal_text, settings_with_database
from domain.access import RoleScope
from domain.stages import Role
from infra.temporal import connect
from services.access import Principal, principal_of
from services.errors import Refusal

T = TypeVar("T")

# Exit codes: 0 done, 1 done but some cases refused or failed, 2 could not run (input, scope, services), 3 not found.
EXIT_PARTIAL, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3


def operator(province: str | None, *, ministry: bool = False) -> Principal:
    """Whoever runs the CLI with the database's URL reads a province as its administrator would (and, asked for the
    national report, as the ministry would); with no province, no province's administrator (the ministry's view)."""
    scopes = () if province is None else (RoleScope(role=Role.ADMIN, province_code=province, unit_code=None),)
    return Principal(official_id="cli-operator", full_name="operator", scopes=scopes, ministry=ministry)


def run(
    work: Callable[[AsyncSession, Client, Principal], Awaitable[T]],
    *,
    official: str | None = None,
    province: str | None = None,
) -> T:
    """`work(session, client, principal)`: the principal is the active official `official`, else the operator over
    `province`. A refusal ends the command with its reason (exit 3 not found, else 2)."""
    if (official is None) == (province is None):
        raise ValueError("run as an official or as the operator over a province")
    s = settings_with_database()

    async def main() -> T:
        async with database(s) as sessions, sessions() as session:
            principal = operator(province) if province is not None else await principal_of(session, official or "")
            if principal is None:
                fail(say("cli_official_inactive", official=official), EXIT_USAGE)
            client = await connect(s)
            return await work(session, client, principal)

    try:
        return asyncio.run(main())
    except Refusal as exc:
        fail(refusal_text(exc), EXIT_NOT_FOUND if exc.status == 404 else EXIT_USAGE)
    except (OSError, RuntimeError) as exc:
        fail(say("cli_unreachable", what=say("cli_pg_temporal"), detail=exc), EXIT_USAGE)
