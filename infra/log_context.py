"""What every log line says of its context (infra/logs.py): the trace and span it was written in (when tracing is
on, infra/telemetry.py), and the case it concerns where the line itself does not name it. Light on purpose: every
process imports it with its logging."""

from __future__ import annotations

import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import opentelemetry.trace

CASE_WORKFLOW = "RecognitionCaseWorkflow"

# The HTTP request being served (its ASGI scope, which routing fills in place): set by api/metrics.py.
request_scope: ContextVar[MutableMapping[str, Any] | None] = ContextVar("xptt_request_scope", default=None)
_TASK_ID = re.compile(r"^(?P<case>.+)-t\d+$")  # domain/case.py: a task id is "<case id>-t<nn>"


def _case_of_request() -> str | None:
    scope = request_scope.get()
    params = scope.get("path_params") if scope is not None else None
    if not params:
        return None
    if isinstance(params.get("case_id"), str):
        return str(params["case_id"])
    task = params.get("task_id")
    found = _TASK_ID.match(task) if isinstance(task, str) else None
    return found["case"] if found else None


def _case_of_activity() -> str | None:
    activity = sys.modules.get("temporalio.activity")  # not loaded: no activity runs in this process
    if activity is None or not activity.in_activity():
        return None
    info = activity.info()
    return str(info.workflow_id) if info.workflow_type == CASE_WORKFLOW and info.workflow_id else None


def add_trace_context(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: `trace_id` and `span_id` of the current span (when one is being traced), and `case_id`
    where the line does not name it: the case an activity of a case works for, or the case (or task) an HTTP
    request's path names."""
    ctx = opentelemetry.trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event_dict.setdefault("span_id", format(ctx.span_id, "016x"))
    if "case_id" not in event_dict:
        case_id = _case_of_activity() or _case_of_request()
        if case_id:
            event_dict["case_id"] = case_id
    return event_dict
