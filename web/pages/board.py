"""The administrators' board of stuck approvals and failed notifications, and the bulk due-date extension (a dry
run first; a filter naming nothing but the province applies only with the confirming box ticked)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import SessionDep, TemporalDep
from domain.stages import Stage
from services.access import admin_provinces
from services.board.service import board_view
from services.bulk import service as bulk
from services.bulk.schemas import BulkFilter, ExtendDueRequest
from services.errors import Refusal
from web.i18n import Translator, lang_of
from web.pages.common import WebPrincipal, check_csrf, error_page, form_of, render

router = APIRouter(include_in_schema=False)


def _refused(request: Request, exc: Exception) -> str:
    """Why the bulk form was refused, in the page's language: the page's own words for a filter naming only the
    province (its box to tick), the glossary's for a service's refusal."""
    t = Translator(lang_of(request))
    if isinstance(exc, Refusal):
        return t("empty_filter") if exc.code == "empty_filter" else t.refusal(exc.code, exc.detail, exc.extra)
    return str(exc)


@router.get("/web/board", response_class=HTMLResponse)
async def board_page(
    request: Request, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep, province: str | None = None
) -> HTMLResponse:
    try:
        view = await board_view(session, temporal, principal, province=province, now=datetime.now(UTC))
    except Refusal as exc:
        return error_page(request, principal, exc)
    return render(
        request,
        "board.html",
        principal=principal,
        admin=bool(admin_provinces(principal)),
        stages=[s.value for s in Stage if s not in (Stage.CLOSED,)],
        **dict(view),  # the board (with the open cases by stage), the rounds, the provinces' names, failed notices
    )


@router.post("/web/bulk/extend-due", response_class=HTMLResponse)
async def bulk_extend(
    request: Request, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep
) -> HTMLResponse:
    form = await form_of(request)
    check_csrf(request, form.get("csrf", ""), back="/web/board#bulk", principal=principal)
    dry_run = form.get("apply") != "yes"
    # the confirm button repeats the dry run's operation id: a retry changes nothing twice
    operation = form.get("operation") or str(uuid.uuid4())
    try:
        filt = BulkFilter(
            province=form.get("province") or None,
            stages=[Stage(form["stage"])] if form.get("stage") else None,
            units=[form["unit"].strip()] if form.get("unit", "").strip() else None,
            overdue=True if form.get("overdue") == "yes" else None,
        )
        req = ExtendDueRequest(
            filter=filt,
            dry_run=dry_run,
            all=form.get("all") == "yes",
            reason=form.get("reason", "").strip(),
            add_working_days=int(form.get("add_working_days") or 0) or None,
        )
        result = await bulk.run(
            session, temporal, principal, "extend_due", req, idempotency_key=operation, now=datetime.now(UTC)
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        return render(
            request,
            "bulk.html",
            status=422,
            principal=principal,
            result=None,
            form=form,
            error=f"{where}: {first['msg']}",
            operation=operation,
        )
    except (Refusal, ValueError) as exc:
        return render(
            request,
            "bulk.html",
            status=getattr(exc, "status", 422),
            principal=principal,
            result=None,
            form=form,
            error=_refused(request, exc),
            operation=operation,
        )
    return render(
        request,
        "bulk.html",
        principal=principal,
        result=result,
        form=form,
        error=None,
        operation=operation,
        unfiltered=not filt.conditions(),
    )
