"""`xptt deploy`: safe deploys of the workers (docs/deploys.md). `check` replays the histories of the running cases
and rounds against this checkout's workflow code; `promote` makes the new workers' version current, after the same
check; `status` shows the deployment's versions. Over Temporal only (no database).

Exit codes: 0 passed / promoted; 1 some running workflows fail the replay (promotion refused); 2 bad input, Temporal
unreachable or the server refused the promotion."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.table import Table
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError

import glossary
from cli.common import console, err_console, fail
from cli.ops import EXIT_PARTIAL, EXIT_USAGE
from domain.units import load_units
from infra.logs import configure_logging
from infra.settings import get_settings
from infra.temporal import connect
from services.deploy.check import CheckInputError, check_running
from services.deploy.promote import PromoteRefused, promote
from services.deploy.schemas import CheckReport, Failure
from services.deploy.versioning import CODE_PREFIX, build_id_of, code_build_id, describe_deployment
from web.i18n import Translator

app = typer.Typer(help="Safe deploys: check the running cases against the new workflow code, then promote it.")
T = Translator("vi")  # what people read is Vietnamese (glossary)
R = TypeVar("R")

SAMPLE = typer.Option(20, "--sample", min=1, help="running workflows replayed per stage and rule set, oldest first")
ALL = typer.Option(False, "--all", help="replay every running case and round (overrides --sample)")
PROVINCE = typer.Option(None, "--province", help="only this province's cases and rounds (two-digit code)")
FORMAT = typer.Option("table", "--format", help="table | json")


def _quiet_core() -> None:
    """The SDK core's own lines (each replay's failing workflow task) go to the log on stderr: stdout carries the
    table or the JSON."""
    forward = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    quiet = LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"), forwarding=forward)
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=quiet)), error_if_already_set=False)


def _run(work: Callable[[Client], Awaitable[R]]) -> R:
    s = get_settings()
    configure_logging(s.log_level, s.log_format)  # to stderr
    _quiet_core()

    async def main() -> R:
        return await work(await connect(s))

    try:
        return asyncio.run(main())
    except CheckInputError as exc:
        fail(f"--{exc.field}: {exc.reason}", EXIT_USAGE)
    except (OSError, RuntimeError, RPCError) as exc:
        fail(T("cli_unreachable", what=T("cli_temporal_at", address=s.temporal_address), detail=exc), EXIT_USAGE)


def _progress(done: int, total: int) -> None:
    if done == total or done % 50 == 0:
        err_console.print(T("dep_progress", done=done, total=total), highlight=False)


def _stage(stage: str | None) -> str:
    return glossary.term("stage", stage) if stage else ""


def _unit(code: str | None, names: dict[str, str]) -> str:
    return f"{names.get(code, code)} ({code})" if code else ""


def _failure_rows(failures: list[Failure]) -> Table:
    names = {u.code: u.name for u in load_units()}
    table = Table(title=T("dep_failures_title", n=len(failures)))
    for header in ("dep_workflow", "dep_kind", "dep_unit", "dep_stage", "dep_reason"):
        table.add_column(T(header))
    for f in failures:
        w = f.workflow
        place = _unit(w.unit_code, names) or glossary.province_name(w.province_code or "")
        table.add_row(
            w.workflow_id, T(f"dep_kind_{w.kind}"), place, _stage(w.stage), f"{T(f'dep_why_{f.kind}')}: {f.message}"
        )
    return table


def _show(report: CheckReport, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(report.model_dump(mode="json") | {"passed": report.passed}, ensure_ascii=False, indent=2))
        return
    scope = glossary.province_name(report.province_code) if report.province_code else T("dep_scope_all")
    sample = T("dep_sample_n", n=report.sample) if report.sample else T("dep_sample_all")
    table = Table(title=f"{T('dep_title', build=report.build_id)} — {scope}, {sample}")
    for header in ("dep_kind", "dep_rule_set", "dep_stage", "dep_running", "dep_checked", "dep_failed"):
        table.add_column(
            T(header), justify="right" if header in ("dep_running", "dep_checked", "dep_failed") else "left"
        )
    for g in report.groups:
        table.add_row(
            T(f"dep_kind_{g.kind}"),
            glossary.term("rule_set", g.rule_set_id),
            _stage(g.stage),
            str(g.running),
            str(g.checked),
            str(g.failed),
            style="red" if g.failed else None,
        )
    table.add_row(T("dep_total"), "", "", str(report.running), str(report.checked), str(len(report.failures)))
    console.print(table)
    if report.failures:
        console.print(_failure_rows(report.failures))
        console.print(T("dep_failed_summary", failed=len(report.failures), checked=report.checked), highlight=False)
    else:
        console.print(T("dep_passed", checked=report.checked), highlight=False)


def _check_format(fmt: str) -> str:
    if fmt not in ("table", "json"):
        fail(T("cli_format", value=fmt, choices="table, json"), EXIT_USAGE)
    return fmt


@app.command("check")
def check_cmd(sample: int = SAMPLE, all_: bool = ALL, province: str | None = PROVINCE, fmt: str = FORMAT) -> None:
    """Replay the running cases and rounds against this checkout's workflow code; exit 1 naming those that fail."""
    _check_format(fmt)
    s = get_settings()
    err_console.print(T("dep_listing"), highlight=False)
    report = _run(
        lambda client: check_running(
            client,
            task_queue=s.task_queue,
            per_group=None if all_ else sample,
            province_code=province,
            sandbox=s.worker_workflow_sandbox,
            build_id=build_id_of(s) or code_build_id(),
            progress=_progress,
        )
    )
    _show(report, fmt)
    raise typer.Exit(0 if report.passed else EXIT_PARTIAL)


@app.command("promote")
def promote_cmd(
    build_id: str | None = typer.Option(None, "--build-id", help="the new workers' build id (default WORKER_BUILD_ID)"),
    sample: int | None = typer.Option(
        None, "--sample", min=1, help="replay only this many per stage and rule set (default: every running one)"
    ),
    fmt: str = FORMAT,
) -> None:
    """Check every running case and round of every province as `xptt deploy check --all` does (the promotion
    switches the whole deployment), then make the new workers' version current; refused when the check fails, or
    when the build id names other workflow code than this checkout's."""
    _check_format(fmt)
    s = get_settings()
    build = build_id or build_id_of(s)
    if not build:
        fail(T("dep_no_build"), EXIT_USAGE)
    here = code_build_id()
    if build.startswith(CODE_PREFIX) and build != here:  # checked here, run there: refuse
        fail(T("dep_refused_other_code", build=build, here=here), EXIT_USAGE)
    version = WorkerDeploymentVersion(s.worker_deployment_name, build)
    err_console.print(T("dep_listing"), highlight=False)
    try:
        report = _run(
            lambda client: promote(
                client,
                version,
                task_queue=s.task_queue,
                per_group=sample,
                sandbox=s.worker_workflow_sandbox,
                progress=_progress,
            )
        )
    except PromoteRefused as exc:
        if exc.report is not None:
            _show(exc.report, fmt)
        message = T(f"dep_refused_{exc.reason}", build=version.to_canonical_string(), detail=exc.detail)
        fail(message, EXIT_PARTIAL if exc.reason == "check_failed" else EXIT_USAGE)
    _show(report, fmt)
    done = T("dep_promoted", deployment=s.worker_deployment_name, build=build)
    (err_console if fmt == "json" else console).print(done, highlight=False)  # stdout stays JSON


@app.command("status")
def status_cmd() -> None:
    """The deployment's current version and the versions the server knows, with their status."""
    s = get_settings()
    state = _run(lambda client: describe_deployment(client, s.worker_deployment_name))
    table = Table(title=T("dep_status_title", deployment=s.worker_deployment_name))
    table.add_column(T("dep_version"))
    table.add_column(T("dep_status"))
    for build, status in sorted((state.versions if state else {}).items()):
        table.add_row(build, T(f"dep_st_{status}"))
    console.print(table)
    current = state.current_build_id if state else None
    console.print(f"{T('dep_current')}: {current or T('dep_none')}", highlight=False)
