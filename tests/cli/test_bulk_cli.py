"""`xptt bulk` against a running stack: a dry run counts and changes nothing; --apply moves the due date of every
match, journalled; bad options exit 2 naming the option."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import AuditEventRow, CaseRow, TaskRow
from domain.stages import Role
from tests.support import ACTOR_KEYS, Stack, xptt


async def _xptt(env: dict[str, str], *args: str) -> tuple[int, str]:
    code, out, err = await xptt(env, *args)
    return code, out + err


@pytest.fixture
def env(temporal_env: WorkflowEnvironment, database_url: str) -> dict[str, str]:
    """What the command needs of the stack: its database, its Temporal server, the key the services sign with."""
    return {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "XPTT_ACTOR_KEYS": ACTOR_KEYS,
    }


def _bulk(action: str, stack: Stack, reason: str, *more: str, province: str = "33") -> list[str]:
    """`xptt bulk ACTION` by the province's administrator, with its reason and `more` options."""
    admin = next(o.id for o in stack.officials if o.role == Role.ADMIN)
    return ["bulk", action, "--province", province, "--as", admin, "--reason", reason, *more]


async def test_bulk_extend_dry_run_then_apply(
    stack: Stack, env: dict[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    case_id = await stack.start_case()
    task = await stack.open_task(case_id, "commune_officer")
    base = _bulk("extend", stack, "lũ lụt", "--add-working-days", "5", "--unit", stack.unit_code)

    code, out = await _xptt(env, *base)
    assert code == 0, out
    assert "chạy thử" in out and case_id in out

    async def due() -> object:
        async with sessions() as session:
            return await session.scalar(select(TaskRow.due_at).where(TaskRow.id == task["id"]))

    before = await due()
    code, out = await _xptt(env, *base, "--apply")
    assert code == 0, out
    assert "đã áp dụng" in out
    assert await due() > before  # type: ignore[operator]
    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEventRow.action).where(AuditEventRow.case_id == case_id)))
    assert actions.count("due_extended") == 1

    code, out = await _xptt(env, *_bulk("extend", stack, "r", "--new-due-at", "2027-12-01T17:00:00"))
    assert code == 2 and "time zone" in out
    code, out = await _xptt(env, *_bulk("hold", stack, "r", province="3"))
    assert code == 2 and "province" in out


async def test_bulk_apply_without_any_filter_needs_all(
    stack: Stack, env: dict[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    case_id = await stack.start_case()
    await stack.open_task(case_id, "commune_officer")
    whole = _bulk("hold", stack, "thanh tra toàn tỉnh")

    async def held() -> bool:
        async with sessions() as session:
            return bool(await session.scalar(select(CaseRow.on_hold).where(CaseRow.id == case_id)))

    code, out = await _xptt(env, *whole)  # the dry run counts the whole province and says what applying needs
    assert code == 0 and case_id in out and "--all" in out, out
    code, out = await _xptt(env, *whole, "--apply")
    assert code == 2 and "filter: Bộ lọc chỉ nêu tỉnh" in out and "Dùng --all để xác nhận." in out, out
    assert not await held()
    code, out = await _xptt(env, *whole, "--apply", "--all")
    assert code == 0 and "đã áp dụng" in out, out
    assert await held()
