"""The pages without JavaScript (plain HTTP form posts): sign-in sets an HttpOnly cookie, the inbox and the task form
read in Vietnamese (English on request), every input has its label, a refused score is shown next to its field in
the page's language, a post without the form's CSRF token is refused with an HTML page in the page's language, and a
bad token is shown on the sign-in page."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.rulesets import load_rule_set
from domain.stages import Stage
from tests.builders import complete
from tests.support import Stack, form_for, running_stack


class Inputs(HTMLParser):
    """Form controls and the labels that name them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "radio", "checkbox"):
            self.controls.append(a)
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"] or "")


async def sign_in(web: httpx.AsyncClient, stack: Stack, role: str) -> None:
    resp = await web.post("/web/signin", data={"token": stack.tokens[role]})
    assert resp.status_code == 303, resp.text
    assert "httponly" in resp.headers["set-cookie"].lower()


def error_of(html: str, name: str) -> str | None:
    """The refusal shown next to the input `name`."""
    found = re.search(rf'<span class="error-text" id="{re.escape(name)}-error" role="alert">([^<]*)</span>', html)
    return unescape(found.group(1)).strip() if found else None


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field on the form"
    return found.group(1)


async def test_pages_read_and_submit_without_javascript(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rule_set = load_rule_set("qd06-2019")
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        bad = await stack.http.post("/web/signin", data={"token": "not-a-token"})
        assert bad.status_code == 401 and "Không đăng nhập được: Mã truy cập không hợp lệ." in bad.text
        # no OIDC provider configured: no button, and its routes say so
        assert "oidc-signin" not in (await stack.http.get("/web/signin")).text
        off = await stack.http.get("/web/oidc/login")
        assert off.status_code == 404 and "Chưa bật đăng nhập qua nhà cung cấp định danh" in off.text
        assert (await stack.http.get("/web/tasks")).status_code == 303  # not signed in: to the sign-in page

        case_id = await stack.start_case()
        reg = await stack.open_task(case_id, "commune_officer")
        await complete(stack, reg, "commune_officer", form_for(Stage.REGISTRATION))
        task = await stack.open_task(case_id, "commune_officer")
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            await sign_in(web, stack, "commune_officer")
            inbox = await web.get("/web/tasks")
            assert inbox.status_code == 200
            assert "Việc của tôi" in inbox.text and "Tự đánh giá" in inbox.text
            assert "My tasks" in (await web.get("/web/tasks?lang=en")).text
            assert "My tasks" in (await web.get("/web/tasks")).text  # remembered in a cookie
            assert "Việc của tôi" in (await web.get("/web/tasks?lang=vi")).text

            page = await web.get(f"/web/tasks/{task['id']}")
            assert page.status_code == 200
            parser = Inputs()
            parser.feed(page.text)
            assert parser.controls, "the form has no inputs"
            unlabelled = [c.get("id") or c.get("name") for c in parser.controls if c.get("id") not in parser.labelled]
            assert not unlabelled, f"inputs without a label: {unlabelled}"

            scores = {f"score-{c.number}": str(c.max_points) for c in rule_set.criteria}
            over = {**scores, "score-3": str(rule_set.criterion(3).max_points + 1)}
            forged = await web.post(f"/web/tasks/{task['id']}", data={**over, "csrf": "0" * 32})
            assert forged.status_code == 403 and forged.headers["content-type"].startswith("text/html")
            assert "Biểu mẫu đã hết hiệu lực" in forged.text and "CSRF" in forged.text
            assert f'href="/web/tasks/{task["id"]}"' in forged.text  # back to the form
            missing = await web.post(f"/web/tasks/{task['id']}/preview", data=scores)  # no CSRF field at all
            assert missing.status_code == 403 and "Biểu mẫu đã hết hiệu lực" in missing.text
            forged_bulk = await web.post("/web/bulk/extend-due?lang=en", data={"reason": "x", "csrf": "f" * 32})
            assert forged_bulk.status_code == 403 and "The form has expired" in forged_bulk.text
            assert 'href="/web/board#bulk"' in forged_bulk.text
            await web.get("/web/tasks?lang=vi")

            preview = await web.post(
                f"/web/tasks/{task['id']}/preview",
                data={**scores, "csrf": csrf(page.text)},
                headers={"X-Requested-With": "fetch"},
            )
            assert str(rule_set.max_total) in preview.text and "Dự kiến: đạt chuẩn" in preview.text

            refused = await web.post(f"/web/tasks/{task['id']}", data={**over, "csrf": csrf(page.text)})
            assert refused.status_code == 422, refused.text[:500]
            assert 'id="score-3-error"' in refused.text
            assert 'aria-invalid="true"' in refused.text
            assert f'value="{rule_set.criterion(3).max_points + 1}"' in refused.text  # what was typed is kept
            maximum = rule_set.criterion(3).max_points
            assert error_of(refused.text, "score-3") == (
                f"{maximum + 1} điểm vượt quá mức tối đa {maximum} điểm của tiêu chí này"
            )
            # every kind of bad score is refused next to its field, in the page's language
            for typed, field, said in [
                ({"score-4": "-2"}, "score-4", "số điểm không được âm (đã nhập -2)"),
                ({"score-4": "bảy"}, "score-4", "số điểm phải là số nguyên (đã nhập “bảy”)"),
                ({"score-4": ""}, "scores", "chưa chấm điểm tiêu chí 4: mọi tiêu chí đều phải được chấm"),
            ]:
                bad = await web.post(f"/web/tasks/{task['id']}", data={**scores, **typed, "csrf": csrf(page.text)})
                assert bad.status_code == 422, bad.text[:500]
                assert error_of(bad.text, field) == said
            english = await web.post(f"/web/tasks/{task['id']}?lang=en", data={**over, "csrf": csrf(page.text)})
            assert "is above the maximum of" in (error_of(english.text, "score-3") or "")
            preview_en = await web.post(
                f"/web/tasks/{task['id']}/preview",
                data={**over, "csrf": csrf(page.text)},
                headers={"X-Requested-With": "fetch"},
            )
            assert f"above the maximum of {maximum}" in preview_en.text
            await web.get("/web/tasks?lang=vi")
            preview_vi = await web.post(
                f"/web/tasks/{task['id']}/preview",
                data={**over, "csrf": csrf(page.text)},
                headers={"X-Requested-With": "fetch"},
            )
            assert f"Tiêu chí 3: {maximum + 1} điểm vượt quá mức tối đa {maximum} điểm" in preview_vi.text

            done = await web.post(f"/web/tasks/{task['id']}", data={**scores, "csrf": csrf(refused.text)})
            assert done.status_code == 303 and done.headers["location"] == f"/web/cases/{case_id}?done=1"
            timeline = await web.get(done.headers["location"])
            assert 'data-stage="council_assessment"' in timeline.text
            assert "self_assessment_completed" in timeline.text
