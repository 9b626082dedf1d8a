"""Sign-in with an OIDC provider (authorization code, PKCE, state, nonce) against a small provider served over real
HTTP on 127.0.0.1: the official lands on their inbox signed in as the token sign-in does, and each way the sign-in
can fail (state, the provider's error, the token exchange, the ID token, an account that is no official) is a page
that says so in the page's language and signs nobody in. An official imported with an OIDC issuer and subject signs in
by them; one without a pair still signs in by their id as the subject."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from infra.embedded import free_port
from services.access import principal_of
from services.officials import importer, service
from tests.support import PROVINCE, Stack, running_stack
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

PROVIDER_NAME = "VNeID (thử nghiệm)"


def official(stack: Stack, role: str) -> str:
    return next(o.id for o in stack.officials if o.role.value == role)


@contextlib.asynccontextmanager
async def oidc_stack(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[Stack, Provider]]:
    """The stack with the web pages' OIDC sign-in configured for the provider (no XPTT_JWKS_URL: the keys' address
    comes from the provider's discovery document)."""
    provider = Provider().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider.redirect_uri = f"{base}/web/oidc/callback"
    settings = {
        "PUBLIC_URL": base,
        "XPTT_OIDC_ISSUER": provider.issuer,
        "XPTT_OIDC_CLIENT_ID": CLIENT_ID,
        "XPTT_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "XPTT_OIDC_PROVIDER_NAME": PROVIDER_NAME,
    }
    try:
        async with running_stack(temporal_env.client, database_url, sessions, settings=settings, port=port) as stack:
            provider.subject = official(stack, "commune_officer")
            yield stack, provider
    finally:
        provider.stop()


async def begin(web: httpx.AsyncClient) -> str:
    """Press the sign-in button and let the provider answer: the callback address it sends the browser to."""
    login = await web.get("/web/oidc/login")
    assert login.status_code == 303, login.text
    assert login.headers["location"].startswith("http://127.0.0.1:")
    back = await web.get(login.headers["location"])
    assert back.status_code == 302, back.text
    return back.headers["location"]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def refused_page(resp: httpx.Response, status: int, *texts: str) -> None:
    assert resp.status_code == status, (resp.status_code, resp.text[:800])
    assert resp.headers["content-type"].startswith("text/html")
    for text in texts:
        assert text in resp.text, (text, resp.text[:1500])
    assert 'href="/web/signin"' in resp.text  # a way back


async def test_an_official_signs_in_with_the_provider_and_lands_on_their_inbox(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with (
        oidc_stack(temporal_env, database_url, sessions) as (stack, provider),
        httpx.AsyncClient(base_url=stack.http.base_url, timeout=30, follow_redirects=True) as web,
    ):
        page = await web.get("/web/signin")
        assert 'id="oidc-signin" href="/web/oidc/login"' in page.text
        assert f"Đăng nhập bằng {PROVIDER_NAME}" in page.text
        assert 'for="token"' in page.text  # the token sign-in stays

        inbox = await web.get("/web/oidc/login")
        assert inbox.status_code == 200, inbox.text[:800]
        assert inbox.url.path == "/web/tasks"
        assert [r.status_code for r in inbox.history] == [303, 302, 303]  # to the provider, back, to the inbox
        assert "Việc của tôi" in inbox.text and "Nguyễn Thị Lan" in inbox.text
        assert not provider.bad_requests  # client id, redirect URI, S256 challenge, state and nonce were all sent
        assert len(provider.seen) == 1 and provider.seen[0]["code_verifier"]  # the provider checked PKCE
        session_cookie = inbox.history[-1].headers["set-cookie"].lower()
        assert "xptt_session=" in session_cookie and "httponly" in session_cookie
        assert "xptt_oidc" not in web.cookies  # the sign-in's secrets are spent

        # the cookie is a session id, not the ID token; the session lasts no longer than the ID token
        id_token = provider.issued[-1]
        assert id_token not in session_cookie.lower() and "." not in web.cookies["xptt_session"]
        max_age = int(session_cookie.split("max-age=")[1].split(";")[0])
        assert 0 < max_age <= 600, max_age  # the provider's ID tokens live 10 minutes
        # the ID token signs in to the pages only; the API's bearer header still wants an API token
        assert (await stack.http.get("/v1/me", headers={"Authorization": f"Bearer {id_token}"})).status_code == 401

        # when the session ends, a page goes back through the provider and returns to the page asked for
        web.cookies.delete("xptt_session")
        again = await web.get("/web/tasks?lang=en")
        assert again.status_code == 200 and again.url.path == "/web/tasks" and "My tasks" in again.text
        assert len(provider.seen) == 2

        old = web.cookies["xptt_session"]
        signed_out = await web.post("/web/signout")
        assert signed_out.url.path == "/web/signin" and "xptt_session" not in web.cookies
        # the session was revoked server-side: its cookie, kept by someone, signs nobody in
        replay = await stack.http.get("/web/tasks", headers={"Cookie": f"xptt_session={old}"})
        assert replay.status_code == 303 and replay.headers["location"] == "/web/signin"


async def test_each_failed_step_of_the_sign_in_is_a_page_that_says_which_and_signs_nobody_in(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with oidc_stack(temporal_env, database_url, sessions) as (stack, provider):

        @contextlib.asynccontextmanager
        async def browser() -> AsyncIterator[httpx.AsyncClient]:
            async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
                yield web
                assert "xptt_session" not in web.cookies, "a refused sign-in left a session"

        # state: a callback whose state is not this browser's sign-in
        async with browser() as web:
            callback = await begin(web)
            forged = await web.get(with_query(callback, state="attacker-state"))
            refused_page(forged, 400, "Phiên đăng nhập không khớp", "state")
        # ... or a callback in a browser that started no sign-in (or whose sign-in expired)
        async with browser() as web:
            refused_page(await web.get(callback), 400, "Phiên đăng nhập không khớp")
        # a code is good once: the same callback again finds the sign-in spent
        async with browser() as web:
            callback = await begin(web)
            first = await web.get(callback)
            assert first.status_code == 303 and first.headers["location"] == "/web/tasks"
            web.cookies.delete("xptt_session")
            refused_page(await web.get(callback), 400, "Phiên đăng nhập không khớp")

        # the provider's error parameter
        provider.deny = True
        async with browser() as web:
            refused_page(await web.get(await begin(web)), 401, "không cho đăng nhập", "access_denied")
        provider.deny = False

        # the token endpoint refuses the code
        provider.token_error = "invalid_grant"
        async with browser() as web:
            refused_page(await web.get(await begin(web)), 502, "Không hoàn tất được đăng nhập", "invalid_grant")
        provider.token_error = None
        # ... or answers without an ID token
        provider.misbehave = "no_id_token"
        async with browser() as web:
            refused_page(await web.get(await begin(web)), 502, "Không hoàn tất được đăng nhập", "id_token")

        # an ID token that fails a check: the reason is named
        for misbehaviour, reason in [
            ("wrong_nonce", "nonce"),
            ("wrong_audience", "Audience"),
            ("expired", "token_expired"),
            ("unpublished_key", "Signature"),
            ("long_lived", "token_lifetime_exceeded"),
        ]:
            provider.misbehave = misbehaviour
            async with browser() as web:
                refused_page(await web.get(await begin(web)), 401, "Thẻ định danh không hợp lệ", reason)
        provider.misbehave = None

        # a person the provider knows who is not an official here
        provider.subject = "nguoi-la-99"
        async with browser() as web:
            refused_page(await web.get(await begin(web)), 403, "Tài khoản chưa được cấp quyền", "nguoi-la-99")
        # the same refusal on an English page
        async with browser() as web:
            web.cookies.set("xptt_lang", "en")
            refused_page(await web.get(await begin(web)), 403, "Not an official of this system", "nguoi-la-99")
        provider.subject = official(stack, "commune_officer")

        # and after all that, a good sign-in still works
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            done = await web.get(await begin(web))
            assert done.status_code == 303 and "xptt_session" in web.cookies


async def test_a_provider_out_of_reach_is_a_page_that_says_so(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with oidc_stack(temporal_env, database_url, sessions) as (stack, provider):
        provider.stop()  # before anyone has read its discovery document
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            refused_page(await web.get("/web/oidc/login"), 503, "Không kết nối được nhà cung cấp định danh")
            assert "xptt_oidc" not in web.cookies and "xptt_session" not in web.cookies


def thu_row(unit: str, issuer: str) -> str:
    """A commune officer of `unit` who signs in at `issuer` as `thu.bt`, as a province's file lists her."""
    return (
        "Mã cán bộ,Họ tên,Chức vụ,Email,Vai trò,Mã đơn vị,Hiệu lực từ,oidc_issuer,oidc_subject\n"
        f"hy-{unit}-cb,Bùi Thị Thu,Công chức Văn hóa - Xã hội,thu.bt@hungyen.example,Cán bộ văn hóa - xã hội,"
        f"{unit},01/07/2025,{issuer},thu.bt\n"
    )


async def import_rows(stack: Stack, csv_text: str) -> None:
    """Apply `csv_text` to the province's directory as its demo administrator."""
    async with stack.sessions() as session:
        admin = await principal_of(session, official(stack, "admin"))
        assert admin is not None
        report = await importer.import_officials(
            session, admin, PROVINCE, csv_text.encode(), apply=True, now=datetime.now(UTC)
        )
    assert report.applied, report.outcomes


async def test_an_official_signs_in_by_their_oidc_subject_and_sees_their_tasks(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with oidc_stack(temporal_env, database_url, sessions) as (stack, provider):
        unit = stack.unit_code
        await import_rows(stack, thu_row(unit, provider.issuer))
        case_id = await stack.start_case()
        task = await stack.open_task(case_id, "commune_officer")

        # the provider's subject is not an official id: the directory's (issuer, subject) names the official
        provider.subject = "thu.bt"
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30, follow_redirects=True) as web:
            inbox = await web.get("/web/oidc/login")
            assert inbox.status_code == 200 and inbox.url.path == "/web/tasks", inbox.text[:800]
            assert "Bùi Thị Thu" in inbox.text and f'href="/web/tasks/{task["id"]}"' in inbox.text
            opened = await web.get(f"/web/tasks/{task['id']}")
            assert opened.status_code == 200 and "Đăng ký" in opened.text

        # an official who has a pair does not sign in by their id as the subject
        provider.subject = f"hy-{unit}-cb"
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            refused_page(await web.get(await begin(web)), 403, "Tài khoản chưa được cấp quyền", f"hy-{unit}-cb")
            assert "xptt_session" not in web.cookies
        # one without a pair still does (the rule before the directory kept pairs)
        provider.subject = official(stack, "appraiser")
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            done = await web.get(await begin(web))
            assert done.status_code == 303 and "xptt_session" in web.cookies

        # a deactivated official is refused, their pair notwithstanding
        async with stack.sessions() as session:
            admin = await principal_of(session, official(stack, "admin"))
            assert admin is not None
            await service.deactivate_official(session, admin, f"hy-{unit}-cb", "chuyển công tác", now=datetime.now(UTC))
        provider.subject = "thu.bt"
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            refused_page(await web.get(await begin(web)), 403, "Tài khoản chưa được cấp quyền", "thu.bt")
            assert "xptt_session" not in web.cookies


async def test_the_api_takes_the_provider_s_token_by_its_issuer_and_subject_too(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    provider = Provider().start()  # its keys only: the API checks the provider's tokens with XPTT_JWKS_URL
    settings = {"XPTT_JWKS_URL": f"{provider.issuer}/jwks", "XPTT_JWT_ISSUER": provider.issuer}
    try:
        async with running_stack(temporal_env.client, database_url, sessions, settings=settings) as stack:
            await import_rows(stack, thu_row(stack.unit_code, provider.issuer))

            async def me(subject: str) -> httpx.Response:
                now = datetime.now(UTC)
                claims = {"iss": provider.issuer, "sub": subject, "aud": "xptt", "iat": now}
                token = jwt.encode(
                    claims | {"exp": now + timedelta(minutes=10)},
                    provider.key,
                    algorithm="RS256",
                    headers={"kid": "k1"},
                )
                return await stack.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

            found = await me("thu.bt")
            assert found.status_code == 200, found.text
            assert found.json()["official_id"] == f"hy-{stack.unit_code}-cb"
            refused = await me(f"hy-{stack.unit_code}-cb")  # she has a pair: her id is no subject of hers
            assert refused.status_code == 401 and refused.json()["code"] == "unknown_official", refused.text
            appraiser = await me(official(stack, "appraiser"))  # no pair: the id as the subject, as before
            assert appraiser.status_code == 200 and appraiser.json()["official_id"] == official(stack, "appraiser")
    finally:
        provider.stop()
