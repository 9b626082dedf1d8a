"""The directory over HTTP: /v1/officials lists, imports (multipart, dry run unless apply=true), creates, changes,
deactivates and gives and ends roles as the service does; the journal and its verification for auditors. Refusals
are problem+json with their code and field, and change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.main import create_app
from infra.embedded import free_port
from infra.settings import Settings
from tests.api.helpers import problem, serve
from tests.officials.support import (
    ADMIN,
    AUDITOR,
    BAD,
    OFFICER,
    OTHER_ADMIN,
    PROVINCE,
    UNITS,
    good_rows,
    seed_directory,
    snapshot,
    to_csv,
    to_xlsx,
    with_bad_rows,
)
from tests.support import SECRET, token_for

Sessions = async_sessionmaker[AsyncSession]


@asynccontextmanager
async def api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the test's database; the directory needs no Temporal (a client that connects to nothing)."""
    settings = Settings.model_validate({"DATABASE_URL": database_url, "XPTT_JWT_SECRET": SECRET})
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter)
    async with serve(create_app(settings, temporal=nowhere)) as http:
        yield http


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(who)}"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _import(
    http: httpx.AsyncClient, data: bytes, *, apply: bool, who: str = ADMIN, name: str = "can-bo-hung-yen.csv"
) -> httpx.Response:
    kind = XLSX if name.endswith(".xlsx") else "text/csv"
    return await http.post(
        "/v1/officials/import",
        params={"province": PROVINCE, "apply": str(apply).lower()},
        files={"file": (name, data, kind)},
        headers=auth(who),
    )


async def test_import_over_http_dry_run_refused_apply_then_apply_twice(database_url: str, sessions: Sessions) -> None:
    await seed_directory(sessions)
    good = good_rows()
    async with api(database_url) as http:
        dry = await _import(http, to_csv(with_bad_rows()), apply=False)
        assert dry.status_code == 200, dry.text
        body = dry.json()
        assert (body["rows"], body["created"], body["refused"], body["applied"]) == (len(good) + 5, len(good), 5, False)
        assert {o["official_id"]: o["code"] for o in body["outcomes"] if o["outcome"] == "refuse"} == {
            oid: code for oid, (code, _) in BAD.items()
        }

        before = await snapshot(sessions)
        refused = problem(await _import(http, to_csv(with_bad_rows()), apply=True), 422, "import_refused")
        assert refused["field"] == "file" and refused["report"]["refused"] == 5
        assert await snapshot(sessions) == before

        # A spreadsheet as provinces keep it (binary, NUL bytes inside): read, not refused at the door.
        xlsx = await _import(http, to_xlsx(with_bad_rows()), apply=False, name="can-bo-hung-yen.xlsx")
        assert xlsx.status_code == 200, xlsx.text
        assert (xlsx.json()["created"], xlsx.json()["refused"]) == (len(good), 5)

        applied = await _import(http, to_csv(good), apply=True)
        assert applied.status_code == 200 and applied.json()["applied"] and applied.json()["created"] == len(good)
        again = (await _import(http, to_csv(good), apply=True)).json()
        assert (again["unchanged"], again["journal_rows"]) == (len(good), 0)

        listed = await http.get("/v1/officials", params={"province": PROVINCE}, headers=auth(AUDITOR))
        assert listed.status_code == 200 and len(listed.json()) == len({r[0] for r in good}) + 7
        problem(await _import(http, to_csv(good), apply=False, who=AUDITOR), 403, "forbidden")
        problem(await _import(http, b"ma_can_bo;ho_ten\n", apply=False), 422, "invalid_file")


async def test_officials_created_changed_deactivated_and_their_roles_over_http(
    database_url: str, sessions: Sessions
) -> None:
    await seed_directory(sessions)
    new: dict[str, Any] = {
        "id": "hy-moi",
        "province": PROVINCE,
        "full_name": "Trần Thị Mới",
        "email": "moi@hungyen.gov.vn",
        "phone": "0912 000 111",
        "locale": "en",
        "oidc_issuer": "https://sso.hungyen.gov.vn",
        "oidc_subject": "moi",
        "roles": [{"role": "commune_officer", "unit_code": UNITS[2], "valid_from": "2026-01-01"}],
    }
    async with api(database_url) as http:
        admin = auth(ADMIN)
        bad = problem(await http.post("/v1/officials", json=new | {"phone": "12"}, headers=admin), 422, "invalid_phone")
        assert bad["field"] == "phone"
        created = await http.post("/v1/officials", json=new, headers=admin)
        assert created.status_code == 201, created.text
        assert (created.json()["phone"], created.json()["roles"][0]["role_name"]) == (
            "0912000111",
            "Công chức văn hóa - xã hội",
        )
        taken = problem(await http.post("/v1/officials", json=new | {"id": "hy-khac"}, headers=admin), 409)
        assert (taken["code"], taken["field"]) == ("duplicate_email", "email")

        changed = await http.patch("/v1/officials/hy-moi", json={"position_title": "Công chức"}, headers=admin)
        assert changed.status_code == 200 and changed.json()["position_title"] == "Công chức"
        role = {"province": PROVINCE, "role": "appraiser", "unit_code": UNITS[2]}
        scope = problem(await http.post("/v1/officials/hy-moi/roles", json=role, headers=admin), 422, "wrong_scope")
        assert scope["field"] == "unit_code"
        role.pop("unit_code")
        given = await http.post("/v1/officials/hy-moi/roles", json=role, headers=admin)
        assert given.status_code == 201
        appraiser = next(r for r in given.json()["roles"] if r["role"] == "appraiser")
        ended = await http.post(
            f"/v1/officials/hy-moi/roles/{appraiser['id']}/end", json={"valid_until": "2026-12-31"}, headers=admin
        )
        assert ended.status_code == 200
        assert next(r for r in ended.json()["roles"] if r["role"] == "appraiser")["valid_until"] == "2026-12-31"

        before = await snapshot(sessions)
        for who, status in ((OTHER_ADMIN, 404), (OFFICER, 403), (AUDITOR, 403)):
            for method, path, body in (
                ("PATCH", "/v1/officials/hy-moi", {"phone": "0912999888"}),
                ("POST", "/v1/officials/hy-moi/deactivate", {"reason": "thử"}),
                ("POST", f"/v1/officials/hy-moi/roles/{appraiser['id']}/end", {}),
            ):
                resp = await http.request(method, path, json=body, headers=auth(who))
                problem(resp, status)
            problem(await http.post("/v1/officials", json=new | {"id": "hy-x", "email": None}, headers=auth(who)), 403)
        assert await snapshot(sessions) == before

        gone = await http.post("/v1/officials/hy-moi/deactivate", json={"reason": "chuyển công tác"}, headers=admin)
        assert gone.status_code == 200 and gone.json()["active"] is False
        problem(await http.get("/v1/me", headers=auth("hy-moi")), 401, "unknown_official")
        listed = await http.get(
            "/v1/officials", params={"province": PROVINCE, "include_inactive": "true"}, headers=admin
        )
        assert "hy-moi" in {o["id"] for o in listed.json()}
        active = await http.get("/v1/officials", params={"province": PROVINCE}, headers=admin)
        assert "hy-moi" not in {o["id"] for o in active.json()}

        journal = await http.get("/v1/officials/journal", params={"province": PROVINCE}, headers=auth(AUDITOR))
        assert [e["action"] for e in journal.json()] == [
            "official_created",
            "role_assigned",
            "official_changed",
            "role_assigned",
            "role_ended",
            "official_deactivated",
        ]
        verified = await http.get("/v1/officials/journal/verify", params={"province": PROVINCE}, headers=auth(AUDITOR))
        assert verified.json()["ok"] is True and verified.json()["rows"] == 6
        problem(
            await http.get("/v1/officials/journal/verify", params={"province": PROVINCE}, headers=auth(OFFICER)), 403
        )
        one = await http.get("/v1/officials/hy-moi", headers=auth(AUDITOR))
        assert one.status_code == 200 and one.json()["oidc_subject"] == "moi"
        problem(await http.get("/v1/officials/hy-moi", headers=auth(OTHER_ADMIN)), 404, "official_not_found")
