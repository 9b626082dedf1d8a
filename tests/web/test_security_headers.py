"""Every page (sign-in, inbox, task, case, board, bulk, round, an error page) and the API's answers carry the
Content-Security-Policy, X-Frame-Options, Referrer-Policy and X-Content-Type-Options headers; what the pages render
holds nothing the policy would block (no style attribute, no inline script or event handler); the OpenAPI UI keeps
only the directives it can live with; cookies are Secure behind https."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from temporalio.testing import WorkflowEnvironment

from api import headers, problems
from api.headers import SecurityHeaders
from domain.stages import Stage
from tests.builders import complete
from tests.support import PROVINCE, ROUND_ID, Stack, form_for, running_stack
from tests.web.test_pages import csrf, sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def policy(resp: httpx.Response) -> dict[str, str]:
    directives = (d.strip().split(None, 1) for d in resp.headers["content-security-policy"].split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def assert_guarded(resp: httpx.Response, what: str, *, csp: dict[str, str] | None = None) -> None:
    assert policy(resp) == (csp or PAGE_POLICY), f"{what}: {resp.headers.get('content-security-policy')}"
    assert resp.headers.get("x-frame-options") == "DENY", what
    assert resp.headers.get("referrer-policy") in ("same-origin", "no-referrer"), what
    assert resp.headers.get("x-content-type-options") == "nosniff", what


class InlineCode(HTMLParser):
    """What a strict policy blocks in a page: style attributes, inline scripts, event-handler attributes, inline
    <style> elements, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.found += [f"<{tag} {name}=…>" for name in a if name == "style" or name.startswith("on")]
        if tag == "script" and not a.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        if (a.get("href") or "").strip().lower().startswith("javascript:"):
            self.found.append(f"<{tag} href=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_no_template_carries_what_the_policy_blocks() -> None:
    for template in sorted(TEMPLATES.glob("*.html")):
        assert inline_code(template.read_text(encoding="utf-8")) == [], template.name


async def test_every_page_and_answer_carries_the_headers_and_nothing_the_policy_blocks(stack: Stack) -> None:
    case_id = await stack.start_case()
    reg = await stack.open_task(case_id, "commune_officer")
    await complete(stack, reg, "commune_officer", form_for(Stage.REGISTRATION))
    task = await stack.open_task(case_id, "commune_officer")
    pages: dict[str, httpx.Response] = {}
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
        pages["sign-in"] = await web.get("/web/signin")
        await sign_in(web, stack, "commune_officer")
        pages["inbox"] = await web.get("/web/tasks")
        pages["task"] = await web.get(f"/web/tasks/{task['id']}")
        pages["case"] = await web.get(f"/web/cases/{case_id}")
        pages["csrf refused"] = await web.post(f"/web/tasks/{task['id']}", data={"csrf": "0" * 32})
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
        await sign_in(web, stack, "admin")
        pages["board"] = await web.get("/web/board")
        pages["bulk"] = await web.post(
            "/web/bulk/extend-due",
            data={"csrf": csrf(pages["board"].text), "reason": "bão", "add_working_days": "2", "stage": "x"},
        )
        dry = await web.post(
            "/web/bulk/extend-due",
            data={"csrf": csrf(pages["board"].text), "reason": "bão", "add_working_days": "2"},
        )
        pages["bulk dry run"] = dry
        pages["round"] = await web.get(f"/web/rounds/{ROUND_ID}", params={"province": PROVINCE})
        pages["not found"] = await web.get("/web/cases/qd06-2019:2027-99999")
    expected = {
        "sign-in": 200,
        "inbox": 200,
        "task": 200,
        "case": 200,
        "csrf refused": 403,
        "board": 200,
        "bulk": 422,
        "bulk dry run": 200,
        "round": 200,
        "not found": 404,
    }
    assert {name: r.status_code for name, r in pages.items()} == expected
    for name, resp in pages.items():
        assert resp.headers["content-type"].startswith("text/html"), name
        assert_guarded(resp, name)
        assert inline_code(resp.text) == [], name
    assert "<svg" in pages["round"].text  # drawn with presentation attributes, which the policy allows
    assert 'id="matched"' in pages["bulk dry run"].text and 'id="unfiltered"' in pages["bulk dry run"].text

    answers = {
        "API": await stack.http.get("/v1/me", headers=stack.headers("admin")),
        "API refusal": await stack.http.get("/v1/me"),
        "body too large": await stack.http.post("/v1/me/notifications/read", content=b"x" * (2 << 20)),
        "health": await stack.http.get("/healthz"),
        "static": await stack.http.get("/web/static/app.css"),
        "home": await stack.http.get("/"),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "API": 200,
        "API refusal": 401,
        "body too large": 413,
        "health": 200,
        "static": 200,
        "home": 303,
    }
    for name, resp in answers.items():
        assert_guarded(resp, name)
    docs = await stack.http.get("/docs")
    assert docs.status_code == 200
    assert_guarded(docs, "docs", csp={"frame-ancestors": "'none'", "base-uri": "'none'", "object-src": "'none'"})


async def test_the_last_resort_500_carries_the_headers_too() -> None:
    app = FastAPI()
    problems.install(app)  # as create_app does: its handler of any exception answers from the outermost layer
    headers.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        resp = await client.get("/boom")
    assert (resp.status_code, resp.json()["code"]) == (500, "internal_error")
    assert_guarded(resp, "500")


async def test_a_header_a_route_sets_itself_is_kept() -> None:
    async def own(_: Request) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Referrer-Policy": "no-referrer"})

    app = SecurityHeaders(Starlette(routes=[Route("/own", own)]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        resp = await client.get("/own")
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert_guarded(resp, "own")


def cookies_of(resp: httpx.Response) -> list[str]:
    found = resp.headers.get_list("set-cookie")
    assert found, f"the sign-in set no cookie: {resp.status_code} {resp.text[:200]}"
    return found


async def test_cookies_are_secure_behind_a_proxy_saying_https_and_not_over_plain_http(stack: Stack) -> None:
    token = {"token": stack.tokens["admin"]}
    plain = await stack.http.post("/web/signin", data=token)
    assert plain.status_code == 303
    assert all("secure" not in c.lower() for c in cookies_of(plain))  # http: a Secure cookie would be dropped
    # a TLS proxy on the same host says the browser came over https (uvicorn trusts 127.0.0.1's X-Forwarded-*)
    proxied = await stack.http.post("/web/signin", data=token, headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 303
    assert all("; secure" in c.lower() for c in cookies_of(proxied)), cookies_of(proxied)


async def test_cookies_are_secure_when_the_public_address_is_https(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    https = {"PUBLIC_URL": "https://xptt.example.vn"}
    async with running_stack(temporal_env.client, database_url, sessions, settings=https) as stack:
        # TLS ends at a proxy that sets no header: the public address decides, and the cookies are Secure
        public = await stack.http.post("/web/signin", data={"token": stack.tokens["admin"]})
        assert public.status_code == 303
        assert all("; secure" in c.lower() and "httponly" in c.lower() for c in cookies_of(public))
