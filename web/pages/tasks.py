"""The official's inbox, a task with its stage's form (and the live score total and verdict), and completing it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import SessionDep, TemporalDep
from domain.forms import REQUIRED_DOSSIER
from domain.rulesets import load_rule_set
from domain.stages import Stage
from services.access import Principal
from services.errors import Refusal
from services.inbox import service as tasks
from services.inbox.schemas import InboxQuery
from web.form_refusals import form_refusal_text
from web.i18n import Translator, lang_of
from web.pages.common import WebPrincipal, check_csrf, error_page, form_of, render
from web.payloads import input_for, payload_for
from web.preview import preview_of
from web.refusals import score_refusal_text

router = APIRouter(include_in_schema=False)


@router.get("/web/tasks", response_class=HTMLResponse)
async def inbox(request: Request, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    query = InboxQuery(mine=True, status="open", limit=200)
    page = await tasks.list_tasks(session, principal, query, now=datetime.now(UTC))
    return render(request, "tasks.html", principal=principal, tasks=page.items)


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
        detail = await tasks.get_task(session, principal, task_id, now=datetime.now(UTC))
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
        detail = await tasks.get_task(session, principal, task_id, now=datetime.now(UTC))
        return render(request, "_preview.html", preview=preview_of(detail, form, lang_of(request)))
    return await _task_page(request, principal, session, task_id, form=form)


@router.post("/web/tasks/{task_id}", response_class=HTMLResponse, response_model=None)
async def task_submit(
    request: Request, task_id: str, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep
) -> HTMLResponse | RedirectResponse:
    form = await form_of(request)
    check_csrf(request, form.get("csrf", ""), back=f"/web/tasks/{task_id}", principal=principal)
    detail = await tasks.get_task(session, principal, task_id, now=datetime.now(UTC))
    payload = payload_for(Stage(detail.stage), form)
    try:
        await tasks.complete_task(session, temporal, principal, task_id, payload, form.get("attempt") or None)
    except Refusal as exc:
        field = exc.extra.get("field")
        message = exc.detail.split(": ", 1)[1] if field and exc.detail.startswith(f"{field}: ") else exc.detail
        if field and field.split(".")[0] == "scores":
            rule_set = load_rule_set(detail.case.rule_set_id)
            message = score_refusal_text(field, message, form, rule_set, lang_of(request))
        elif exc.code == "invalid_payload":
            message = form_refusal_text(message, lang_of(request))
        elif lang_of(request) != "en":  # the case's refusal (on hold, not started, done) in the glossary's words
            message = Translator(lang_of(request)).refusal(exc.code, exc.detail, exc.extra)
        errors = {input_for(field): message}
        return await _task_page(request, principal, session, task_id, form=form, errors=errors, status=exc.status)
    return RedirectResponse(f"/web/cases/{detail.case_id}?done=1", status_code=303)
