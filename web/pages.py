"""The pages: each calls the API's own route function (the same scoping, queries, Updates and refusals) and renders
its answer. Sign-in keeps the bearer token in an HttpOnly cookie; POSTs carry a token derived from it (CSRF)."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import func, select

from api.auth import AuthError, TokenVerifier
from api.bulk import BulkFilter
from api.deps import SessionDep, TemporalDep, get_principal, principal_of
from api.policy import Principal, admin_provinces, overseen_provinces
from api.problems import Problem
from api.round_reports import ReportOut
from api.routes import board as board_routes
from api.routes import bulk as bulk_routes
from api.routes import cases as case_routes
from api.routes import rounds as round_routes
from api.routes import tasks as task_routes
from db.models import CaseRow, ProvinceRow
from domain.errors import ScoreError
from domain.forms import REQUIRED_DOSSIER
from domain.round_report import DEFAULT_TARGET_SHARE
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Stage
from domain.verdict import Verdict, evaluate
from infra.settings import Settings
from web.i18n import COOKIE as LANG_COOKIE
from web.i18n import Translator, lang_of
from web.payloads import input_for, payload_for
from web.refusals import score_error_text, score_refusal_text

TOKEN_COOKIE = "xptt_token"
SIGNIN_COOKIE = "xptt_signin"  # how the official last signed in ("oidc"): an expired session goes back that way
SESSION_SECONDS = 12 * 3600
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

router = APIRouter(include_in_schema=False)


def local(at: datetime | None) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if at else "—"


templates.env.filters["local"] = local


def csrf_of(token: str) -> str:
    return hmac.new(b"xptt-web-csrf", token.encode(), hashlib.sha256).hexdigest()[:32]


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    token = request.cookies.get(TOKEN_COOKIE, "")
    if context.get("principal") is not None and "oversight" not in context:  # the board link, for those it serves
        context["oversight"] = bool(overseen_provinces(context["principal"]))
    response = templates.TemplateResponse(
        request,
        name,
        {"t": Translator(lang), "lang": lang, "csrf": csrf_of(token) if token else "", "now": datetime.now(UTC)}
        | context,
        status_code=status,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


class SignInRequired(Exception):
    pass


async def web_principal(request: Request, session: SessionDep) -> Principal:
    """The official the session cookie names: a token as the API takes it, or the ID token of an OIDC sign-in."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise SignInRequired
    verifier: TokenVerifier = request.app.state.verifier
    try:
        official_id = await verifier.official_id(token, id_tokens=True)
    except AuthError as exc:
        if exc.status == 401:
            raise SignInRequired from None
        raise Problem(exc.status, exc.code, exc.detail) from None
    principal = await principal_of(session, official_id)
    if principal is None:
        raise SignInRequired
    return principal


def secure_cookies(request: Request) -> bool:
    """Cookies only over https: the request came that way, or the public address is https (behind a TLS proxy)."""
    settings = getattr(request.app.state, "settings", None)
    public = settings.public_url if isinstance(settings, Settings) else ""
    return request.url.scheme == "https" or public.startswith("https://")


def start_session(
    request: Request, response: Response, token: str, *, max_age: int | None = None, via: str = "token"
) -> None:
    """Sign in: the token in an HttpOnly cookie that every page verifies again (until the token expires)."""
    secure = secure_cookies(request)
    age = SESSION_SECONDS if max_age is None else max(0, min(max_age, SESSION_SECONDS))
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=age)
    response.set_cookie(SIGNIN_COOKIE, via, httponly=True, samesite="lax", secure=secure, max_age=30 * 86400)


WebPrincipal = Annotated[Principal, Depends(web_principal)]


class CsrfRefused(Exception):
    """A page form posted without the CSRF token of the signed-in official: answered with the HTML error page."""

    def __init__(self, back: str, principal: Principal | None = None) -> None:
        super().__init__("the form is stale or came from another site: reload the page")
        self.back = back
        self.principal = principal


def check_csrf(request: Request, csrf: str, *, back: str, principal: Principal | None = None) -> None:
    token = request.cookies.get(TOKEN_COOKIE, "")
    if not token or not hmac.compare_digest(csrf.encode(), csrf_of(token).encode()):
        raise CsrfRefused(back, principal)


def csrf_refused_page(request: Request, exc: CsrfRefused) -> HTMLResponse:
    t = Translator(lang_of(request))
    return render(
        request,
        "error.html",
        status=403,
        principal=exc.principal,
        headline=t("csrf_title"),
        message=t("csrf_refused"),
        code="csrf_refused",
        back=exc.back,
        back_label=t("back_to_form"),
    )


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/web/tasks", status_code=303)


def _oidc_name(request: Request) -> str | None:
    """The OIDC provider's name for the sign-in button ("" when unnamed), or None when OIDC sign-in is off."""
    provider = getattr(request.app.state, "oidc", None)
    return None if provider is None else str(provider.name)


@router.get("/web/signin", response_class=HTMLResponse)
async def signin_page(request: Request) -> HTMLResponse:
    return render(request, "signin.html", error=None, oidc=_oidc_name(request))


@router.post("/web/signin", response_class=HTMLResponse, response_model=None)
async def signin(
    request: Request, session: SessionDep, token: Annotated[str, Form()] = ""
) -> HTMLResponse | RedirectResponse:
    token = token.strip()
    try:
        await get_principal(request, session, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token))
    except Problem as exc:
        return render(request, "signin.html", status=401, error=exc.detail, oidc=_oidc_name(request))
    response = RedirectResponse("/web/tasks", status_code=303)
    start_session(request, response, token)
    return response


@router.post("/web/signout")
async def signout() -> RedirectResponse:
    response = RedirectResponse("/web/signin", status_code=303)
    response.delete_cookie(TOKEN_COOKIE)
    response.delete_cookie(SIGNIN_COOKIE)
    return response


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
    except Problem as exc:
        return render(request, "error.html", status=exc.status, principal=principal, problem=exc)
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
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.get("csrf", ""), back=f"/web/tasks/{task_id}", principal=principal)
    if request.headers.get("X-Requested-With") == "fetch":  # the script asks for the preview box alone
        detail = await task_routes.get_task(task_id=task_id, principal=principal, session=session)
        return render(request, "_preview.html", preview=preview_of(detail, form, lang_of(request)))
    return await _task_page(request, principal, session, task_id, form=form)


@router.post("/web/tasks/{task_id}", response_class=HTMLResponse, response_model=None)
async def task_submit(
    request: Request, task_id: str, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep
) -> HTMLResponse | RedirectResponse:
    form = {k: str(v) for k, v in (await request.form()).items()}
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
    except Problem as exc:
        field = exc.extra.get("field")
        message = exc.detail.split(": ", 1)[1] if field and exc.detail.startswith(f"{field}: ") else exc.detail
        if field and field.split(".")[0] == "scores":
            rule_set = load_rule_set(detail.case.rule_set_id)
            message = score_refusal_text(field, message, form, rule_set, lang_of(request))
        errors = {input_for(field): message}
        return await _task_page(request, principal, session, task_id, form=form, errors=errors, status=exc.status)
    return RedirectResponse(f"/web/cases/{detail.case_id}?done=1", status_code=303)


@router.get("/web/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    try:
        case = await case_routes.get_case(case_id=case_id, principal=principal, session=session)
        timeline = await case_routes.get_timeline(case_id=case_id, principal=principal, session=session)
    except Problem as exc:
        return render(request, "error.html", status=exc.status, principal=principal, problem=exc)
    return render(
        request,
        "case.html",
        principal=principal,
        case=case,
        timeline=timeline,
        done=bool(request.query_params.get("done")),
    )


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
    except Problem as exc:
        return render(request, "error.html", status=exc.status, principal=principal, problem=exc)
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
    form = {k: str(v) for k, v in (await request.form()).items()}
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
    except (Problem, ValueError) as exc:
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


@router.get("/web/rounds/{round_id}", response_class=HTMLResponse)
async def round_page(
    request: Request, round_id: str, province: str, principal: WebPrincipal, session: SessionDep, temporal: TemporalDep
) -> HTMLResponse:
    try:
        progress = await round_routes.progress(
            round_id=round_id, principal=principal, session=session, temporal=temporal, province=province
        )
        report = await round_routes.report(
            round_id=round_id, principal=principal, session=session, province=province, format="json"
        )
    except Problem as exc:
        return render(request, "error.html", status=exc.status, principal=principal, problem=exc)
    assert isinstance(report, ReportOut)
    target = report.recorded.target_share if report.recorded else DEFAULT_TARGET_SHARE
    share = (report.recognised / report.units) if report.units else 0.0
    return render(
        request,
        "round.html",
        principal=principal,
        progress=progress,
        report=report,
        share=share,
        target=target,
        stages=[s.value for s in Stage],
    )
