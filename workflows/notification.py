"""Delivery of notifications: one `NotificationDeliveryWorkflow` per outbox row (workflow id = outbox id) and the
`NotificationDigestWorkflow` that gathers a day's held email into one message per official.

Deliveries run on their own task queue, `<case task queue>-notify`, so a slow or absent mail server never holds up
case work; the worker polls both queues. Workflows that record state changes hand the outbox ids returned by
their activity to `dispatch_notifications`, which starts the deliveries as abandoned children: the case does not
wait for mail, and a closing case does not cancel its last messages.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotificationDelivery
    from domain.calendar import local_date
    from notify.payloads import (
        BuildDigestsInput,
        BuildDigestsResult,
        DeliverNotificationInput,
        DeliveryOutcome,
        DigestInput,
        MarkFailedInput,
        NotificationRef,
    )
    from workflows.dispatch import NOTIFY_QUEUE_SUFFIX, dispatch_notifications, notify_task_queue

DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SEND_TIMEOUT = timedelta(seconds=90)
# The send heartbeats (activities/notify.py): an attempt whose worker died is retried after this, not SEND_TIMEOUT.
SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)


__all__ = ["NOTIFY_QUEUE_SUFFIX", "dispatch_notifications", "notify_task_queue"]


@workflow.defn
class NotificationDeliveryWorkflow:
    @workflow.run
    async def run(self, inp: DeliverNotificationInput) -> DeliveryOutcome:
        ref = NotificationRef(outbox_id=inp.outbox_id)
        plan = await workflow.execute_activity_method(
            NotificationDelivery.plan_delivery,
            ref,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if not plan.send:
            return DeliveryOutcome(outbox_id=inp.outbox_id, status=plan.status)
        if plan.deliver_after is not None:
            wait = (plan.deliver_after - workflow.now()).total_seconds()
            if wait > 0:  # quiet hours
                await workflow.sleep(wait)
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=inp.retry_initial_seconds),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=inp.retry_max_interval_seconds),
            maximum_attempts=inp.max_attempts,
            non_retryable_error_types=["notification_missing"],
        )
        try:
            return await workflow.execute_activity_method(
                NotificationDelivery.deliver,
                ref,
                start_to_close_timeout=SEND_TIMEOUT,
                heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=timedelta(seconds=inp.give_up_after_seconds),
                retry_policy=retry,
            )
        except ActivityError as exc:
            cause = exc.cause
            reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
            workflow.logger.warning("delivery of %s gave up: %s", inp.outbox_id, reason)
            return await workflow.execute_activity_method(
                NotificationDelivery.mark_failed,
                MarkFailedInput(outbox_id=inp.outbox_id, error=f"retries exhausted: {reason}"),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )


@workflow.defn
class NotificationDigestWorkflow:
    """Started daily by the schedule `xptt-notification-digest` (services/notification_schedule.py), or by hand
    for a given day."""

    @workflow.run
    async def run(self, inp: DigestInput) -> BuildDigestsResult:
        day = inp.day or local_date(workflow.now())
        built = await workflow.execute_activity_method(
            NotificationDelivery.build_daily_digests,
            BuildDigestsInput(day=day, hour=inp.hour),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=DB_RETRY,
        )
        await dispatch_notifications(built.outbox_ids)
        return built
