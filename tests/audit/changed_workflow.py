"""A deliberately changed case workflow, registered under the real one's name: its first command differs from what
every recorded case history holds, so replaying a real history on it must report non-determinism. (A workflow must
live in an importable module for the sandbox, hence this file.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow


@workflow.defn(name="RecognitionCaseWorkflow", sandboxed=False)
class ChangedRecognitionCaseWorkflow:
    @workflow.run
    async def run(self, inp: dict[str, Any]) -> None:
        await workflow.execute_activity("notify_someone_first", inp, start_to_close_timeout=timedelta(seconds=5))
