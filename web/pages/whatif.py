"""The policy what-if on the pages (services/whatif): a form to upload a draft rule set (and a criteria mapping) and
pick a round and a province (the ministry: or the nation); the answer on the same page: the shares under both rule
sets against the target, the threshold search, the units whose result flips and why (not for the ministry outside the
provinces it oversees: it reads no case). A refusal is said in the page's language with its specifics
(web/text_whatif.refusal_text). Nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from api.deps import SessionDep
from services.errors import Refusal
from services.whatif import service
from services.whatif.schemas import WhatIfRequest
from services.whatif.xlsx import caps_text, count_share, flip_text, found_text, meets_text, side_text, target_text
from web.i18n import Translator, lang_of
from web.pages.common import WebPrincipal, check_csrf, error_page, render
from web.text_whatif import refusal_text

router = APIRouter(include_in_schema=False)
PAGE = "/web/what-if"
HELPERS: dict[str, Any] = {
    "side_text": side_text,
    "caps_text": caps_text,
    "count_share": count_share,
    "flip_text": flip_text,
    "found_text": found_text,
    "meets_text": meets_text,
    "target_text": target_text,
}


async def _upload(form: Any, name: str) -> tuple[bytes, str] | None:
    item = form.get(name)
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    return await item.read(), item.filename


def _request(asked: dict[str, str]) -> WhatIfRequest:
    """The form's round and province as the service asks for them; a Refusal naming them when they are not."""
    try:
        return WhatIfRequest(round_id=asked["round_id"], province=asked["province"] or None)
    except ValueError:  # pydantic's ValidationError
        raise Refusal(
            422, "invalid_request", "round_id/province: not a round or a province", said="wi_err_round_province"
        ) from None


@router.get(PAGE, response_class=HTMLResponse)
async def form_page(request: Request, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    try:
        options = await service.choices(session, principal)
    except Refusal as exc:
        return error_page(request, principal, exc)
    return render(request, "whatif.html", principal=principal, options=options, asked={}, **HELPERS)


@router.post(PAGE, response_class=HTMLResponse)
async def run_page(request: Request, principal: WebPrincipal, session: SessionDep) -> HTMLResponse:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")), back=PAGE, principal=principal)
    asked = {k: str(form.get(k) or "") for k in ("round_id", "province")}
    t = Translator(lang_of(request))
    try:
        options = await service.choices(session, principal)
    except Refusal as exc:
        return error_page(request, principal, exc)
    context: dict[str, Any] = {"principal": principal, "options": options, "asked": asked, **HELPERS}
    draft = await _upload(form, "draft")
    try:
        if draft is None:
            raise Refusal(
                422, "invalid_request", "draft: no file was chosen", field="draft", said="wi_err_missing_draft"
            )
        out = await service.run(
            session,
            principal,
            _request(asked),
            draft=draft,
            mapping=await _upload(form, "mapping"),
            now=datetime.now(UTC),
        )
    except Refusal as exc:
        return render(request, "whatif.html", status=exc.status, refused=refusal_text(t, exc), problem=exc, **context)
    names = {s.code: s.name for s in out.provinces}
    return render(request, "whatif.html", out=out, names=names, **context)
