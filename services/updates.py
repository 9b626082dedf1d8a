"""Temporal Updates from the API: a validator's refusal becomes a problem with the workflow's own reason."""

from __future__ import annotations

import re
from typing import Any

from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.errors import Refusal

# How each refusal of a case workflow's validator maps to HTTP; other refusals answer 409 with their own code.
REFUSALS = {"forbidden": 403, "task_not_open": 409, "invalid_payload": 422, "not_started": 409}
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# What sending an Update can raise: the case refused it, Temporal answered an error, or Temporal did not answer in
# time (the update may or may not have been taken: the same update id sent again is answered once).
UpdateError = WorkflowUpdateFailedError | RPCError | WorkflowUpdateRPCTimeoutOrCancelledError
UPDATE_ERRORS = (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError)


def refusal(exc: UpdateError, *, case_id: str) -> Refusal:
    """The problem that tells the caller why the case refused (or could not take) the update."""
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError):
        return Refusal(
            503,
            "update_not_confirmed",
            f"case {case_id} did not confirm the update in time; send it again (same Idempotency-Key)",
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Refusal(409, "case_not_running", f"case {case_id} is not running")
        return Refusal(503, "temporal_unavailable", exc.message)
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type and _CODE.match(cause.type):
        field = cause.details[0] if cause.details and isinstance(cause.details[0], str) else None
        status = REFUSALS.get(cause.type, 409)
        if field:
            return Refusal(status, cause.type, f"{field}: {cause.message}", field=field)
        return Refusal(status, cause.type, cause.message)
    return Refusal(502, "update_failed", str(cause or exc))


async def update_refusal(exc: UpdateError, handle: WorkflowHandle[Any, Any], *, case_id: str) -> Refusal:
    """`refusal`, except for an update the server lost before a worker took it: Temporal then answers NOT_FOUND
    for a case that still runs (an update not yet accepted lives in the server's memory only, and a worker that dies
    with its workflow task loses it). That is no refusal: answer 503, and the same Idempotency-Key sends it again."""
    if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
        try:
            running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError:
            running = False
        if running:
            return Refusal(
                503,
                "update_not_delivered",
                f"case {case_id} did not take the update ({exc.message}); send it again (same Idempotency-Key)",
                headers={"Retry-After": "1"},
            )
    return refusal(exc, case_id=case_id)
