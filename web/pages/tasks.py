"""The official's inbox, a task with its stage's form (and the live score total and verdict), and completing it."""

from __future__ import annotations

import inspect
import re
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import SessionDep, TemporalDep
from api.routes import tasks as task_routes
from domain.errors import ScoreError
from domain.forms import REQUIRED_DOSSIER
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Stage
from domain.verdict import Verdict, evaluate
from services.access import Principal
from services.errors import Refusal
from web.i18n import lang_of
from web.pages.common import WebPrincipal, check_csrf, error_page, form_of, render
from web.payloads import input_for, payload_for
from web.refusals import score_error_text, score_refusal_text

router = APIRouter(include_in_schema=False)


@router.get("/web/tasks", response_class=HTMLResponse)
async def inbox(request: Request, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    route = task_routes.list_tasks
    given: dict[str, Any] = {"principal": principal, "session": session, "request": request, "response": Response()}
    wanted = inspect.signature(route).parameters
    tasks = await route(**{k: v for k, v in given.items() if k in wanted}, mine=True, status="open", limit=200)
    return render(request, "tasks.html", principal=principal, tasks=tasks)


def _score_values(form: dict[str, str]) -> dict[int, int]:
    out = {}
    for name, value in form.items():
        criterion = name.removeprefix("score-")
        # a criterion that is not a number is left to the validator, which names it
        if name.startswith("score-") and criterion.isdecimal() and re.fullmatch(r"-?\d+", value.strip()):
            out[int(criterion)] = int(value)
    return out


def preview_of(detail: task_routes.TaskDetailOut, form: dict[str, str], lang: str) -> dict[str, Any] | None:
    """The running total and the verdict the scores would give (domain.verdict), or the score it cannot take."""
    if detail.form is None or detail.form.scoring is None:
        return None
    scores = _score_values(form) if form else {int(k): v for k, v in detail.form.scoring.prefill.items()}
    rule_set = load_rule_set(detail.case.rule_set_id)
    total = sum(scores.values())
    try:
        verdict: Verdict | None = evaluate(rule_set, LocalityType(detail.case.locality_type), scores)
        error = None
    except ScoreError as exc:
        verdict, error = None, f"{exc.criterion}: {score_error_text(exc, lang)}"
    return {
        "total": total,
        "max_total": rule_set.max_total,
        "threshold": detail.form.scoring.threshold,
        "verdict": verdict,
        "error": error,
    }


async def _task_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    task_id: str,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    try:
        detail = await task_routes.get_task(task_id=task_id, principal=principal, session=session)
    except Refusal as exc:
        return error_page(request, principal, exc)
    values = form or {}
    if not values and detail.form and detail.form.scoring:
        values = {f"score-{k}": str(v) for k, v in detail.form.scoring.prefill.items()}
    return render(
        request,
        "task.html",
        status=status,
        principal=principal,
        task=detail,
        values=values,
        errors=errors or {},
        preview=preview_of(detail, values, lang_of(request)),
        documents=REQUIRED_DOSSIER,
        attempt=uuid.uuid4().hex,  # one submission, one Update id: a double click is the same update
    )


@router.get("/web/tasks/{task_id}", response_class=HTMLResponse)
async def task_page(request: Request, task_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    return await _task_page(request, principal, session, task_id)


@router.post("/web/tasks/{task_id}/preview", response_class=HTMLResponse)
async def task_preview(request: Request, task_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    form = await form_of(request)
    check_csrf(request, form.get("csrf", ""), back=f"/web/tasks/{task_id}", principal=principal)
    if request.headers.get("X-Requested-With") == "fetch":  # the script asks for the preview box alone
        detail = await task_routes.get_task(task_id=task_id, principal=principal, session=session)
        return render(request, "_preview.html", preview=preview_of(detail, form, lang_of(request)))
    return await _task_page(request, principal, session, task_id, form=form)


@router.post("/web/tasks/{task_id}", response_class=HTMLResponse, response_model=None)
async def task_submit(
    request: Request, task_id: str, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep
) -> HTMLResponse | RedirectResponse:
    form = await form_of(request)
    check_csrf(request, form.get("csrf", ""), back=f"/web/tasks/{task_id}", principal=principal)
    detail = await task_routes.get_task(task_id=task_id, principal=principal, session=session)
    payload = payload_for(Stage(detail.stage), form)
    try:
        await task_routes.complete_task(
            task_id=task_id,
            principal=principal,
            session=session,
            temporal=temporal,
            payload=payload,
            idempotency_key=form.get("attempt") or None,
        )
    except Refusal as exc:
        field = exc.extra.get("field")
        message = exc.detail.split(": ", 1)[1] if field and exc.detail.startswith(f"{field}: ") else exc.detail
        if field and field.split(".")[0] == "scores":
            rule_set = load_rule_set(detail.case.rule_set_id)
            message = score_refusal_text(field, message, form, rule_set, lang_of(request))
        errors = {input_for(field): message}
        return await _task_page(request, principal, session, task_id, form=form, errors=errors, status=exc.status)
    return RedirectResponse(f"/web/cases/{detail.case_id}?done=1", status_code=303)
