"""The bare floor for step throughput: a workflow that takes N Updates, each running one no-op activity, and ends.

Run as its own worker process, like the product's worker: `python -m bench.bare` (TEMPORAL_ADDRESS,
TEMPORAL_TASK_QUEUE).
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@activity.defn(name="bare_noop")
async def noop(step: int) -> int:
    return step


@workflow.defn(name="BareStepsWorkflow")
class BareStepsWorkflow:
    def __init__(self) -> None:
        self.done = 0

    @workflow.run
    async def run(self, steps: int) -> int:
        await workflow.wait_condition(lambda: self.done >= steps)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.done

    @workflow.update
    async def step(self, n: int) -> int:
        result: int = await workflow.execute_activity(noop, n, start_to_close_timeout=timedelta(seconds=30))
        self.done += 1
        return result

    @step.validator
    def _check(self, n: int) -> None:
        if n < 0:
            raise ValueError("negative step")


async def main() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(
        client, task_queue=os.environ["TEMPORAL_TASK_QUEUE"], workflows=[BareStepsWorkflow], activities=[noop]
    ):
        print("worker_started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
