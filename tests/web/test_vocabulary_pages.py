"""Every page for every role at every stage, and closed in every outcome a person can bring about (recognised, not
recognised for a zero in criterion 3, not registered, refused at appraisal, withdrawn, commended), read in Vietnamese
and in English: no snake_case code, no ISO date, no raw round or rule set id, no English word in Vietnamese and no
Vietnamese left in English (tests/vocabulary.py). A case closed for not submitting its dossier needs its deadline
ladder to run out: it is read on the time-skipping server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities.case_store import CaseStore
from db.models import OfficialRow
from db.models_history import UnitLineageRow
from domain.stages import Role, Stage
from domain.units import load_provinces, load_units
from tests.faults.abuse_support import (
    HUMAN_STAGES,
    ROLE_OF_STAGE,
    Parked,
    park,
    seed_unit_officials,
)
from tests.notify.mail_cases import CASE, TYPED, UNIT, journey
from tests.support import PROVINCE, ROUND_ID, form_for, running_stack, token_for
from tests.vocabulary import problems, visible_text
from tests.web.cases import close_case, zero_in_3

PROVINCE_ROLES = (Role.APPRAISER, Role.CHAIRMAN, Role.ADMIN, Role.AUDITOR)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


async def _data(sessions: async_sessionmaker[AsyncSession], typed: list[dict[str, Any]]) -> set[str]:
    """What the pages show as data: names of units, provinces, former districts and officials, and what officials
    typed."""
    async with sessions() as session:
        people = (await session.execute(select(OfficialRow.full_name, OfficialRow.id, OfficialRow.email))).all()
        districts = set(await session.scalars(select(UnitLineageRow.former_district_name).distinct()))
    names = {str(v) for row in people for v in row if v} | {"Tiếng Việt"}  # the language's own name
    names |= {"06/QĐ-TTg", "34/2014/QĐ-TTg", "37/2010/QĐ-TTg"}  # the decisions' numbers, cited as issued
    units = {u.name for p in (PROVINCE,) for u in load_units(p)}
    provinces = {p.name for p in load_provinces()}
    names |= {d for d in districts if d}  # the districts before 1 July 2025 (the round's table by former district)
    return names | units | provinces | {s for form in typed for s in _strings(form) if not s.isdigit()}


async def _pages(web: httpx.AsyncClient, role: Role, cases: dict[str, Parked], lang: str) -> dict[str, str]:
    """The pages the role opens: its tasks, the case pages, the open task of each case it holds; the board, round
    and officials pages for those who oversee the province."""
    urls = {"tasks": "/web/tasks", "all tasks": "/web/tasks?mine=false"}
    for name, parked in cases.items():
        urls[f"case {name}"] = f"/web/cases/{parked.case_id}"
        if parked.task_id and ROLE_OF_STAGE.get(parked.stage) == role:
            urls[f"task {name}"] = f"/web/tasks/{parked.task_id}"
    if role in (Role.ADMIN, Role.AUDITOR):
        urls |= {
            "board": f"/web/board?province={PROVINCE}",
            "round": f"/web/rounds/{ROUND_ID}?province={PROVINCE}",
            "officials": f"/web/officials?province={PROVINCE}",
        }
    out = {}
    for name, url in urls.items():
        resp = await web.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
        assert resp.status_code == 200, f"{role.value} {name} {url}: {resp.status_code}"
        out[name] = resp.text
    return out


async def test_every_page_for_every_role_speaks_the_readers_language(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        cases: dict[str, Parked] = {s.value: await park(stack, s) for s in HUMAN_STAGES}
        refuse = {"outcome": "refuse", "findings": "Hồ sơ không đúng mẫu"}
        decline = {"recognised": False, "reasons": ["Tiêu chí 3 không đạt"]}
        closings: dict[str, dict[Stage, dict[str, Any]]] = {
            "recognised": {},
            "not_recognised": {
                Stage.COUNCIL_ASSESSMENT: form_for(Stage.COUNCIL_ASSESSMENT, scores=zero_in_3()),
                Stage.DECISION: form_for(Stage.DECISION, **decline),
            },
            "not_registered": {Stage.REGISTRATION: {"registered": False, "note": "Chưa đủ điều kiện"}},
            "refused": {Stage.APPRAISAL: refuse},
        }
        for name, forms in closings.items():
            cases[name] = await close_case(stack, forms)
        cases["commended"] = await close_case(stack, {}, streak=True)
        withdrawn = await park(stack, Stage.SELF_ASSESSMENT)
        resp = await stack.http.post(
            f"/v1/cases/{withdrawn.case_id}/withdraw",
            json={"reason": "sáp nhập đơn vị"},
            headers=stack.headers("admin"),
        )
        assert resp.status_code == 200, resp.text
        cases["withdrawn"] = Parked(Stage.CLOSED, withdrawn.case_id, withdrawn.unit_code, "", {}, {})

        typed = [form_for(s) for s in HUMAN_STAGES] + [refuse, decline, {"a": "Chưa đủ điều kiện"}]
        data = await _data(stack.sessions, typed) | {"sáp nhập đơn vị"}
        readers: list[tuple[Role, str, dict[str, Parked]]] = [
            (role, token_for(f"demo-{role.value.replace('_', '-')}-{PROVINCE}"), cases) for role in PROVINCE_ROLES
        ]
        for name, parked in cases.items():  # each commune's officials see their own unit's case
            for role in (Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR, Role.COMMUNE_CHAIRMAN):
                if role in parked.tokens:
                    readers.append((role, parked.tokens[role], {name: parked}))
        wrong: list[str] = []
        pages = 0
        for role, token, seen in readers:
            for lang in ("vi", "en"):
                async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
                    signed = await web.post("/web/signin", data={"token": token})
                    assert signed.status_code == 303, signed.text
                    for name, html in (await _pages(web, role, seen, lang)).items():
                        pages += 1
                        bad = problems(visible_text(html), lang, data)
                        if bad and os.environ.get("XPTT_DUMP"):  # the pages at fault, to look at
                            dump = f"{role.value}-{lang}-{name}.html".replace(" ", "_")
                            Path(os.environ["XPTT_DUMP"], dump).write_text(html)
                        if bad:
                            wrong.append(f"{role.value} {lang} {name}: {sorted(set(bad))[:12]}")
        assert not wrong, f"{len(wrong)} of {pages} pages:\n" + "\n".join(wrong)


async def test_a_case_closed_for_not_submitting_its_dossier_reads_in_the_readers_language(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A case whose dossier was never submitted closes when its deadline ladder runs out, weeks after it reached
    the stage. Its journal is the domain's own (tests/notify/mail_cases.journey: the same transitions the workflow
    takes), written by the case store's activity as the worker writes it; its page, as its officer and the
    administrator read it, says so in their language."""
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        officials = await seed_unit_officials(stack.sessions, UNIT)  # the journey's unit (its case is written here)
        store = CaseStore(stack.sessions)
        for record in journey("not_submitted", "vi").records:
            await store.record_transition(record)
        data = await _data(stack.sessions, [form_for(s) for s in HUMAN_STAGES]) | set(TYPED["vi"].values()) | {"o-9"}
        wrong: list[str] = []
        for token in (token_for(officials[Role.COMMUNE_OFFICER]), stack.tokens["admin"]):
            for lang in ("vi", "en"):
                async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
                    assert (await web.post("/web/signin", data={"token": token})).status_code == 303
                    resp = await web.get(f"/web/cases/{CASE}?lang={lang}")
                    assert resp.status_code == 200, resp.text
                    text = visible_text(resp.text)
                    said = {"vi": "Không nộp hồ sơ", "en": "Dossier not submitted"}[lang]
                    assert said in text, text
                    wrong += [f"{lang}: {w}" for w in problems(text, lang, data)]
        assert not wrong, wrong
