"""Starting notification deliveries from workflow code.

A module of its own, imported by the workflows through the sandbox's pass-through (it holds no workflow and no
state): a case run then loads neither this module nor the delivery workflows' module afresh. The delivery workflow
is named by its type, `NotificationDeliveryWorkflow` (workflows/notification.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

from notify.payloads import DeliverNotificationInput

NOTIFY_QUEUE_SUFFIX = "-notify"
DELIVERY_WORKFLOW = "NotificationDeliveryWorkflow"


def notify_task_queue(task_queue: str) -> str:
    """The delivery queue that belongs to a case queue (itself when given a delivery queue)."""
    return task_queue if task_queue.endswith(NOTIFY_QUEUE_SUFFIX) else task_queue + NOTIFY_QUEUE_SUFFIX


async def dispatch_notifications(outbox_ids: Sequence[str]) -> None:
    """From workflow code: start one delivery per outbox id. Deterministic (ids come from an activity result);
    an id whose delivery already runs is left to it."""

    async def start(outbox_id: str) -> None:
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                DELIVERY_WORKFLOW,
                DeliverNotificationInput(outbox_id=outbox_id),
                id=outbox_id,
                task_queue=notify_task_queue(workflow.info().task_queue),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )

    await asyncio.gather(*(start(i) for i in outbox_ids))
