"""The pre-deploy check: replay the histories of the cases and rounds running now against the workflow code about
to be deployed (this checkout's), with the worker's own sandbox. A case runs for a year and never continues as new,
so every change of its workflow must replay every history it may meet; recorded histories in tests/histories cover
the shapes the tests thought of, this covers the ones that are live.

Cases are sampled per (stage, rule set), the oldest first: they have run the longest on the oldest code, so they
are the likeliest to take a branch a change forgot to patch. Rounds are few and sampled per rule set.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

import structlog
from temporalio.client import Client, WorkflowExecution, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from domain.stages import Stage
from services.deploy.schemas import CheckReport, Failure, FailureKind, Group, Kind, RunningWorkflow
from services.deploy.versioning import code_build_id
from workflows.case_attrs import PROVINCE_CODE, ROUND_ID, STAGE, UNIT_CODE
from workflows.registry import WORKFLOWS, SandboxMode, warm_domain, workflow_runner

log = structlog.get_logger(__name__)

CASE_TYPE = "RecognitionCaseWorkflow"
ROUND_TYPE = "AssessmentRoundWorkflow"
ROUND_PREFIX = "round-"  # workflows/round.py round_workflow_id: round-<rule set>:<year>-<province>
PROVINCE = re.compile(r"^\d{2}$")
MESSAGE_LIMIT = 200
FETCH_CONCURRENCY = 20

Progress = Callable[[int, int], None]


class CheckInputError(ValueError):
    """A bad option of the check: `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _case(wf: WorkflowExecution) -> RunningWorkflow:
    attrs = wf.typed_search_attributes
    round_id = attrs.get(ROUND_ID) or ""
    return RunningWorkflow(
        workflow_id=wf.id,
        run_id=wf.run_id,
        kind="case",
        rule_set_id=round_id.partition(":")[0],
        stage=attrs.get(STAGE),
        province_code=attrs.get(PROVINCE_CODE),
        unit_code=attrs.get(UNIT_CODE),
    )


def _round(wf: WorkflowExecution) -> RunningWorkflow:
    round_id, _, province = wf.id.removeprefix(ROUND_PREFIX).rpartition("-")
    return RunningWorkflow(
        workflow_id=wf.id,
        run_id=wf.run_id,
        kind="round",
        rule_set_id=round_id.partition(":")[0],
        province_code=province or None,
    )


async def list_running(
    client: Client, *, task_queue: str, province_code: str | None = None
) -> list[tuple[datetime, RunningWorkflow]]:
    """Every running case and round on `task_queue` (of one province when given), with its start time."""
    base = f"ExecutionStatus = 'Running' AND TaskQueue = '{task_queue}'"
    cases = f"WorkflowType = '{CASE_TYPE}' AND {base}"
    if province_code is not None:
        cases += f" AND ProvinceCode = '{province_code}'"
    found: list[tuple[datetime, RunningWorkflow]] = []
    async for wf in client.list_workflows(cases):
        found.append((wf.start_time, _case(wf)))
    async for wf in client.list_workflows(f"WorkflowType = '{ROUND_TYPE}' AND {base}"):
        chosen = _round(wf)
        if province_code is None or chosen.province_code == province_code:
            found.append((wf.start_time, chosen))
    return found


GroupKey = tuple[Kind, str, str | None]
STAGE_ORDER = {s.value: i for i, s in enumerate(Stage)}


def _key(w: RunningWorkflow) -> GroupKey:
    return (w.kind, w.rule_set_id, w.stage)


def sample(
    running: Sequence[tuple[datetime, RunningWorkflow]], per_group: int | None
) -> tuple[list[RunningWorkflow], dict[GroupKey, int]]:
    """The oldest `per_group` of each group (None: all), and how many run in each group."""
    groups: dict[GroupKey, list[tuple[datetime, RunningWorkflow]]] = defaultdict(list)
    for started, w in running:
        groups[_key(w)].append((started, w))
    chosen: list[RunningWorkflow] = []
    for members in groups.values():
        members.sort(key=lambda m: (m[0], m[1].workflow_id))
        chosen += [w for _, w in (members if per_group is None else members[:per_group])]
    return chosen, {k: len(v) for k, v in groups.items()}


def shorten(reason: str, limit: int = MESSAGE_LIMIT) -> str:
    """The gist of a replay failure: the nondeterminism message without the SDK's wrapping, on one line."""
    found = re.search(r"Nondeterminism error:\s*(.*)", reason, re.S)
    text = found.group(1) if found else reason
    text = re.split(r"\\n|\n|\\?\", source:|, stack_trace", text, maxsplit=1)[0]
    text = " ".join(text.replace('\\"', '"').split()).strip(" \"'}")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failure_kind(exc: Exception) -> FailureKind:
    return "nondeterminism" if isinstance(exc, NondeterminismError) or "ondeterminism" in str(exc) else "error"


async def _histories(
    client: Client, chosen: Sequence[RunningWorkflow], unreadable: dict[str, str]
) -> AsyncIterator[WorkflowHistory]:
    """The histories of `chosen`, fetched FETCH_CONCURRENCY at a time; the ones that cannot be read go to
    `unreadable` (workflow id → reason)."""

    async def fetch(w: RunningWorkflow) -> WorkflowHistory | None:
        try:
            return await client.get_workflow_handle(w.workflow_id, run_id=w.run_id).fetch_history()
        except RPCError as exc:
            unreadable[w.workflow_id] = str(exc)
            return None

    for start in range(0, len(chosen), FETCH_CONCURRENCY):
        batch = await asyncio.gather(*(fetch(w) for w in chosen[start : start + FETCH_CONCURRENCY]))
        for history in batch:
            if history is not None:
                yield history


async def replay(
    client: Client,
    chosen: Sequence[RunningWorkflow],
    *,
    workflows: Sequence[type] = WORKFLOWS,
    sandbox: SandboxMode = "isolated",
    progress: Progress | None = None,
) -> list[Failure]:
    """Replay each of `chosen` against `workflows`; the ones that fail, with the reason shortened."""
    warm_domain()
    by_id = {w.workflow_id: w for w in chosen}
    replayer = Replayer(
        workflows=list(workflows), data_converter=pydantic_data_converter, workflow_runner=workflow_runner(sandbox)
    )
    unreadable: dict[str, str] = {}
    failures: list[Failure] = []
    done = 0
    async with replayer.workflow_replay_iterator(_histories(client, chosen, unreadable)) as results:
        async for result in results:
            done += 1
            if result.replay_failure is not None:
                exc = result.replay_failure
                w = by_id[result.history.workflow_id]
                failures.append(Failure(workflow=w, kind=_failure_kind(exc), message=shorten(str(exc))))
                log.warning("replay_failed", workflow_id=w.workflow_id, reason=str(exc)[:500])
            if progress is not None:
                progress(done + len(unreadable), len(chosen))
    for workflow_id, reason in unreadable.items():
        failures.append(Failure(workflow=by_id[workflow_id], kind="unreadable", message=shorten(reason)))
    return sorted(failures, key=lambda f: f.workflow.workflow_id)


async def check_running(
    client: Client,
    *,
    task_queue: str,
    per_group: int | None,
    province_code: str | None = None,
    workflows: Sequence[type] = WORKFLOWS,
    sandbox: SandboxMode = "isolated",
    build_id: str | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """List the running cases and rounds, replay `per_group` of each (stage, rule set) group (None: all), report."""
    if per_group is not None and per_group < 1:
        raise CheckInputError("sample", "must be at least 1 (or check every running workflow)")
    if province_code is not None and not PROVINCE.fullmatch(province_code):
        raise CheckInputError("province", f"“{province_code}” is not a two-digit province code")
    started = datetime.now(UTC)
    running = await list_running(client, task_queue=task_queue, province_code=province_code)
    chosen, sizes = sample(running, per_group)
    failures = await replay(client, chosen, workflows=workflows, sandbox=sandbox, progress=progress)
    checked: dict[GroupKey, int] = defaultdict(int)
    failed: dict[GroupKey, int] = defaultdict(int)
    for w in chosen:
        checked[_key(w)] += 1
    for f in failures:
        failed[_key(f.workflow)] += 1
    groups = [
        Group(kind=k[0], rule_set_id=k[1], stage=k[2], running=n, checked=checked[k], failed=failed[k])
        for k, n in sorted(sizes.items(), key=lambda kv: (kv[0][0], kv[0][1], STAGE_ORDER.get(kv[0][2] or "", -1)))
    ]
    log.info(
        "deploy_check_done",
        running=len(running),
        checked=len(chosen),
        failed=len(failures),
        seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
    )
    return CheckReport(
        build_id=build_id or code_build_id(),
        sample=per_group,
        province_code=province_code,
        running=len(running),
        checked=len(chosen),
        groups=groups,
        failures=failures,
    )
