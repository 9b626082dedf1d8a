"""Pages framed by another site, and bulk actions with an empty filter, on the real stack (worker and HTTP API on
loopback, a real Temporal dev server, real PostgreSQL; Debian's Chromium for the framing).

8. Another site's page frames the board and posts a bulk extension into a frame of its own: Chromium shows neither
   (X-Frame-Options DENY, CSP frame-ancestors 'none'), while a frame of that site's own page loads; nothing changes.
9. A bulk action whose filter names nothing but the province is refused (422 `empty_filter`, field `filter`) through
   the API and the page, with nothing changed; a dry run counts the whole province first; with `all` it applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import TaskRow
from tests.faults.abuse_support import snapshot
from tests.loopback import QuietHandler, serve_in_thread
from tests.support import PROVINCE, Stack, fresh_unit
from tests.web.test_pages import csrf, sign_in

SCENARIO_8 = "11. another site frames the board and the bulk confirmation: the browser shows neither, no change"
SCENARIO_9 = "12. bulk with an empty filter: refused 422 `filter` (API, page), no change; dry run counts; `all` applies"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _attacker(target: str) -> type[QuietHandler]:
    """Another site: its page frames the board, posts a bulk extension into a named frame, and frames a page of its
    own (the control: framing works where it is allowed)."""
    page = f"""<!doctype html><html><body>
<iframe name="board" src="{target}/web/board" width="800" height="300"></iframe>
<iframe name="confirm" width="800" height="300"></iframe>
<iframe name="own" src="/own" width="800" height="100"></iframe>
<form id="forged" method="post" action="{target}/web/bulk/extend-due" target="confirm">
  <input name="reason" value="x"><input name="add_working_days" value="120"><input name="apply" value="yes">
  <input name="all" value="yes">
</form>
<script>document.getElementById("forged").submit();</script>
</body></html>""".encode()

    class Attacker(QuietHandler):
        def do_GET(self) -> None:
            body = page if self.path == "/" else b"<!doctype html><p id='own'>the other site's own page</p>"
            self.send_body(200, body, "text/html; charset=utf-8")

    return Attacker


async def _start_cases(stack: Stack, n: int) -> list[str]:
    ids = [await stack.start_case(), *[await stack.start_case(fresh_unit()) for _ in range(n - 1)]]
    for case_id in ids:
        await stack.open_task(case_id, "admin", mine=False)
    return ids


async def _dues(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as session:
        found = await session.execute(select(TaskRow.case_id, TaskRow.due_at).where(TaskRow.status == "open"))
        return dict(found.all())


@pytest.mark.scenario(SCENARIO_8)
async def test_another_site_cannot_frame_the_board_or_the_bulk_confirmation(
    stack: Stack, sessions: async_sessionmaker[AsyncSession], fault_report: Callable[..., None]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    await _start_cases(stack, 2)
    before = await snapshot(sessions)
    base = str(stack.http.base_url).rstrip("/")
    for path in ("/web/board", "/web/signin", "/web/bulk/extend-due"):  # the confirmation page is a POST's answer
        resp = await (stack.http.get(path) if "bulk" not in path else stack.http.post(path, data={}))
        assert resp.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"], path
    other = serve_in_thread(_attacker(base))
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                page = await browser.new_page()
                page.set_default_timeout(60_000)
                refusals: list[str] = []
                page.on("console", lambda m: refusals.append(m.text) if "frame" in m.text.lower() else None)
                await page.goto(f"{base}/web/signin")  # the administrator is signed in in this browser
                await page.get_by_label("Mã truy cập (bearer token)").fill(stack.tokens["admin"])
                async with page.expect_navigation():
                    await page.get_by_role("button", name="Đăng nhập").click()
                await page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
                frames: dict[str, Any] = {}
                for _ in range(300):
                    frames = {f.name: f for f in page.frames if f.parent_frame is not None}
                    settled = {"board", "confirm", "own"} <= set(frames) and frames["confirm"].url != "about:blank"
                    if settled and len(refusals) >= 2 and await frames["own"].locator("#own").count():
                        break
                    await asyncio.sleep(0.1)
                shown = {name: await frames[name].content() for name in ("board", "confirm")}
                assert await frames["own"].locator("#own").count() == 1  # framing itself works here
                for name, html in shown.items():
                    assert frames[name].url.startswith("chrome-error://"), (name, frames[name].url)
                    assert "Bảng điều hành" not in html and "Gia hạn" not in html, name
                assert len([r for r in refusals if "frame-ancestors" in r or "X-Frame-Options" in r]) >= 2, refusals
            finally:
                await browser.close()
    finally:
        other.shutdown()
        other.server_close()
    assert await snapshot(sessions) == before
    fault_report(framed_pages=2, shown=0, own_frame_shown=1, state_changes=0)


@pytest.mark.scenario(SCENARIO_9)
async def test_bulk_with_an_empty_filter_needs_all_through_the_api_and_the_page(
    stack: Stack, sessions: async_sessionmaker[AsyncSession], fault_report: Callable[..., None]
) -> None:
    ids = await _start_cases(stack, 3)
    admin = stack.headers("admin")
    empty_filters: list[dict[str, Any]] = [{}, {"province": PROVINCE}, {"province": PROVINCE, "units": []}]
    before, dues = await snapshot(sessions), await _dues(sessions)

    refused = 0
    for action, extra in (("extend-due", {"add_working_days": 3}), ("hold", {}), ("remind", {}), ("release", {})):
        for filt in empty_filters:
            body = {"filter": filt, "dry_run": False, "reason": "toàn tỉnh", **extra}
            resp = await stack.http.post(f"/v1/bulk/{action}", json=body, headers=admin)
            assert resp.status_code == 422, (action, filt, resp.text)
            assert (resp.json()["code"], resp.json()["field"]) == ("empty_filter", "filter"), resp.text
            refused += 1
    dry = await stack.http.post(
        "/v1/bulk/extend-due", json={"reason": "toàn tỉnh", "add_working_days": 3}, headers=admin
    )
    assert (dry.status_code, dry.json()["matched"], dry.json()["applied"]) == (200, 3, 0), dry.text

    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
        await sign_in(web, stack, "admin")
        token = csrf((await web.get("/web/board")).text)
        form = {"csrf": token, "reason": "bão lũ toàn tỉnh", "add_working_days": "3"}
        counted = await web.post("/web/bulk/extend-due", data=form)
        assert counted.status_code == 200 and 'id="matched">3<' in counted.text
        assert 'id="unfiltered"' in counted.text and 'name="all"' in counted.text and " required" in counted.text
        operation = counted.text.split('name="operation" value="', 1)[1].split('"', 1)[0]
        unconfirmed = await web.post("/web/bulk/extend-due", data={**form, "apply": "yes", "operation": operation})
        assert unconfirmed.status_code == 422 and "Chưa có gì thay đổi" in unconfirmed.text, unconfirmed.text[:500]
        refused += 1
        assert (await snapshot(sessions), await _dues(sessions)) == (before, dues)  # nothing changed

        confirmed = await web.post(
            "/web/bulk/extend-due", data={**form, "apply": "yes", "all": "yes", "operation": operation}
        )
        assert confirmed.status_code == 200 and 'id="applied">3<' in confirmed.text, confirmed.text[:500]
    for _ in range(100):
        moved = await _dues(sessions)
        if all(moved[c] != dues[c] for c in ids):
            break
        await asyncio.sleep(0.1)
    assert all(moved[c] > dues[c] for c in ids), (moved, dues)

    held = await stack.http.post(
        "/v1/bulk/hold",
        json={"filter": {"province": PROVINCE}, "dry_run": False, "all": True, "reason": "thanh tra"},
        headers=admin,
    )
    assert (held.status_code, held.json()["matched"], held.json()["applied"]) == (200, 3, 3), held.text
    fault_report(refused=refused, state_changes_when_refused=0, dry_run_matched=3, applied_with_all=6)
