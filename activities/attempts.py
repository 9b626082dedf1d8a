"""The failing attempts of the case workflows' activities, kept in PostgreSQL (`activity_failures`, migration 0016) so
that the administrators' board (services/board) reads them in one query instead of describing every running case in
Temporal.

A worker interceptor around each activity of a watched workflow type (the case workflow):

- an attempt that raises upserts the row of its workflow and activity type: the attempt that failed (Temporal's
  pending activity is then at the next one), the error as Temporal records it (truncated), when this run of failures
  began and the latest failure, and the case, unit, province and stage when the activity's input carries them;
- a later attempt (attempt > 1) that succeeds deletes the row; so does a failure that ends the retries (a
  non-retryable error, the retry policy's last attempt): Temporal then has no pending activity to show either;
- the first attempt's success, the normal path of every step, issues no statement at all.

Local activities count too: the case records its transitions by one (workflows/case.py), and Temporal never lists a
local activity as pending, so describing the workflow could not show that it keeps failing; this table does. An
attempt that never returns (its worker died or hung until the start-to-close timeout) is not recorded; the next
attempt that raises is.

Recording never changes the activity's outcome: it runs on an engine of its own (one connection, short connect and
statement timeouts, the whole write bounded in time) and a failure of it is logged and swallowed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import and_, case, delete, func, or_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable
from temporalio import activity
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from db.models_attempts import ActivityFailureRow
from db.session import async_url

log = structlog.get_logger(__name__)

# The workflow types whose failing activities are recorded: the board's items are per case.
WATCHED_WORKFLOWS = frozenset({"RecognitionCaseWorkflow"})
ERROR_LIMIT = 1000  # characters of the error kept
RECORD_TIMEOUT = 2.0  # seconds: connecting, each statement, and the whole write
IDENTITY = ("case_id", "unit_code", "province_code", "stage")


def failure_message(exc: BaseException) -> str:
    """The message Temporal records for an activity that raised `exc` (its failure converter's)."""
    return exc.message if isinstance(exc, FailureError) else str(exc)


def retries_end(info: activity.Info, exc: BaseException) -> bool:
    """Temporal will not run another attempt after this failure."""
    if isinstance(exc, ApplicationError) and exc.non_retryable:
        return True
    policy = info.retry_policy
    if policy is None:
        return False
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return True
    kind = exc.type if isinstance(exc, ApplicationError) and exc.type else type(exc).__name__
    return kind in (policy.non_retryable_error_types or ())


def _text(value: Any) -> str | None:
    value = getattr(value, "value", value)  # an enum member (a stage)
    return value if isinstance(value, str) and value else None


def identity(info: activity.Info, args: Sequence[Any]) -> dict[str, str | None]:
    """The case, unit, province and stage an activity's input names (a transition's snapshot carries all of them; a
    history load names the unit, an archive the case); the case is the workflow's id otherwise."""
    arg = args[0] if args else None
    snapshot = getattr(arg, "case", None)
    found: dict[str, str | None] = {}
    for name in IDENTITY:
        found[name] = _text(getattr(snapshot, name, None)) or _text(getattr(arg, name, None))
    found["case_id"] = found["case_id"] or info.workflow_id
    return found


class FailedAttempts(Interceptor):
    """The worker interceptor (pass it in the worker's `interceptors`); `close()` it when the worker stops."""

    def __init__(self, engine: AsyncEngine, *, timeout: float = RECORD_TIMEOUT) -> None:
        self.engine = engine
        self.timeout = timeout

    @classmethod
    def connect(
        cls, database_url: str, *, timeout: float = RECORD_TIMEOUT, name: str = "xptt-attempts"
    ) -> FailedAttempts:
        """On an engine of its own: one connection (opened at the first failure, not before), `timeout` seconds to
        connect and per statement, `name` as the connection's application_name."""
        engine = create_async_engine(
            async_url(database_url),
            pool_size=1,
            max_overflow=0,
            pool_timeout=timeout,
            pool_pre_ping=True,
            connect_args={
                "timeout": timeout,
                "command_timeout": timeout,
                "server_settings": {"application_name": name, "statement_timeout": str(int(timeout * 1000))},
            },
        )
        return cls(engine, timeout=timeout)

    async def close(self) -> None:
        await self.engine.dispose()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Recording(next, self)

    async def failed(self, info: activity.Info, args: Sequence[Any], exc: BaseException) -> None:
        if retries_end(info, exc):
            if info.attempt > 1:
                await self._write("retries_ended", info, self._delete(info))
            return
        row = ActivityFailureRow
        stmt = insert(row).values(
            workflow_id=info.workflow_id,
            activity_type=info.activity_type,
            workflow_type=info.workflow_type,
            run_id=info.workflow_run_id,
            failed_attempt=info.attempt,
            last_error=failure_message(exc)[:ERROR_LIMIT],
            first_failed_at=func.now(),
            last_failed_at=func.now(),
            **identity(info, args),
        )
        new = stmt.excluded
        # A new run of failures: another run of the workflow, or an attempt that does not follow the one recorded.
        fresh = or_(row.run_id.is_distinct_from(new.run_id), new.failed_attempt <= row.failed_attempt)
        kept = {name: func.coalesce(new[name], getattr(row, name)) for name in IDENTITY}
        stmt = stmt.on_conflict_do_update(
            index_elements=[row.workflow_id, row.activity_type],
            set_={
                "workflow_type": new.workflow_type,
                "run_id": new.run_id,
                "failed_attempt": new.failed_attempt,
                "last_error": new.last_error,
                "last_failed_at": new.last_failed_at,
                "first_failed_at": case((fresh, new.first_failed_at), else_=row.first_failed_at),
                **kept,  # what this attempt's input did not name, an earlier one's did
            },
        )
        await self._write("failed", info, stmt)

    async def recovered(self, info: activity.Info) -> None:
        await self._write("recovered", info, self._delete(info))

    @staticmethod
    def _delete(info: activity.Info) -> Executable:
        row = ActivityFailureRow
        return delete(row).where(and_(row.workflow_id == info.workflow_id, row.activity_type == info.activity_type))

    async def _write(self, what: str, info: activity.Info, stmt: Executable) -> None:
        try:
            async with asyncio.timeout(self.timeout), self.engine.begin() as conn:
                await conn.execute(stmt)
        except Exception as exc:  # the activity's outcome is never ours to change
            log.warning(
                "activity_attempt_not_recorded",
                what=what,
                workflow_id=info.workflow_id,
                activity_type=info.activity_type,
                attempt=info.attempt,
                error=f"{type(exc).__name__}: {exc}",
            )


class _Recording(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, attempts: FailedAttempts) -> None:
        super().__init__(next)
        self.attempts = attempts

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.workflow_type not in WATCHED_WORKFLOWS:
            return await self.next.execute_activity(input)
        try:
            result = await self.next.execute_activity(input)
        except Exception as exc:
            await self.attempts.failed(info, input.args, exc)
            raise
        if info.attempt > 1:  # only after a failure: the first attempt's success costs nothing
            await self.attempts.recovered(info)
        return result
