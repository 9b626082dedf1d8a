"""The administrators' board of stuck approvals, and the bulk due-date extension (a dry run first)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import func, select

from api.bulk import BulkFilter
from api.deps import SessionDep, TemporalDep
from api.routes import board as board_routes
from api.routes import bulk as bulk_routes
from db.models import CaseRow, ProvinceRow
from domain.stages import Stage
from services.access import admin_provinces, overseen_provinces
from services.errors import Refusal
from web.pages.common import WebPrincipal, check_csrf, error_page, form_of, render

router = APIRouter(include_in_schema=False)


@router.get("/web/board", response_class=HTMLResponse)
async def board_page(
    request: Request, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep, province: str | None = None
) -> HTMLResponse:
    try:
        provinces = sorted(overseen_provinces(principal)) if province is None else [province]
        counts = (
            await session.execute(
                select(CaseRow.stage, func.count())
                .where(CaseRow.province_code.in_(provinces), CaseRow.status == "open")
                .group_by(CaseRow.stage)
            )
        ).all()
        rounds = (
            await session.execute(
                select(CaseRow.round_id, CaseRow.province_code)
                .where(CaseRow.province_code.in_(provinces))
                .distinct()
                .order_by(CaseRow.round_id.desc(), CaseRow.province_code)
            )
        ).all()
        stuck = await board_routes.board(principal=principal, session=session, temporal=temporal, province=province)
        names = dict(
            (await session.execute(select(ProvinceRow.code, ProvinceRow.name).where(ProvinceRow.code.in_(provinces))))
            .tuples()
            .all()
        )
    except Refusal as exc:
        return error_page(request, principal, exc)
    order = [s.value for s in Stage]
    by_stage = sorted(counts, key=lambda r: order.index(r[0]) if r[0] in order else 99)
    return render(
        request,
        "board.html",
        principal=principal,
        board=stuck,
        by_stage=by_stage,
        rounds=rounds,
        province_names=names,
        admin=bool(admin_provinces(principal)),
        stages=[s.value for s in Stage if s not in (Stage.CLOSED,)],
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
        req = bulk_routes.ExtendDueRequest(
            filter=filt,
            dry_run=dry_run,
            reason=form.get("reason", "").strip(),
            add_working_days=int(form.get("add_working_days") or 0) or None,
        )
        result = await bulk_routes.extend_due(
            req=req, principal=principal, session=session, temporal=temporal, idempotency_key=operation
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
            error=str(getattr(exc, "detail", exc)),
            operation=operation,
        )
    return render(request, "bulk.html", principal=principal, result=result, form=form, error=None, operation=operation)
