"""An update Temporal answers NOT_FOUND for: a lost update of a running case is 503 (send it again), a case that does
not run is 409 case_not_running. Temporal answers NOT_FOUND for both: the first when a worker died holding the
workflow task that carried the update (the faults suite meets it when it SIGKILLs the worker)."""

from __future__ import annotations

import uuid

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from services.rounds.opening import start_case
from services.updates import update_refusal
from tests.builders import start_input
from tests.support import ROUND_ID, fresh_unit
from workflows.case import RecognitionCaseWorkflow


async def test_a_lost_update_of_a_running_case_is_sent_again_and_a_closed_one_is_refused(
    temporal_env: WorkflowEnvironment,
) -> None:
    client = temporal_env.client
    inp = start_input(fresh_unit())
    case_id = inp.case_id
    # No worker polls this queue: the case runs (as far as Temporal knows) and takes no update.
    await start_case(client, inp, task_queue=f"nobody-{uuid.uuid4()}")
    lost = RPCError(f"workflow not found for ID: {case_id}", RPCStatusCode.NOT_FOUND, b"")
    handle = client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
    problem = await update_refusal(lost, handle, case_id=case_id)
    assert (problem.status, problem.code) == (503, "update_not_delivered")
    assert problem.headers == {"Retry-After": "1"}

    await handle.terminate("test over")
    problem = await update_refusal(lost, handle, case_id=case_id)
    assert (problem.status, problem.code) == (409, "case_not_running")

    gone = f"{ROUND_ID}-never-{uuid.uuid4().hex[:6]}"
    problem = await update_refusal(lost, client.get_workflow_handle(gone), case_id=gone)
    assert (problem.status, problem.code) == (409, "case_not_running")

    unavailable = RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b"")
    assert (await update_refusal(unavailable, handle, case_id=case_id)).code == "temporal_unavailable"

    # Temporal did not answer in time: the update may have been taken; the same update id sent again is answered once.
    timed_out = await update_refusal(WorkflowUpdateRPCTimeoutOrCancelledError(), handle, case_id=case_id)
    assert (timed_out.status, timed_out.code, timed_out.headers) == (503, "update_not_confirmed", {"Retry-After": "1"})
