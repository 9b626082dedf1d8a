"""What `xptt dev up` leaves on the machine: its secrets and the demo tokens only their owner reads, demo officials
brought in by the import of the officials' directory from the demo files (once, whatever the restarts), and a
Temporal UI that shows the cases but changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from cli import dev, dev_demo, dev_ui, main
from db.models import CaseRow, DirectoryEventRow, OfficialRow
from domain.actor_assertion import parse_key_ring
from domain.calendar import TZ
from domain.case import case_id_for
from domain.stages import Stage
from domain.units import load_units
from infra.embedded import free_port
from infra.settings import Settings, get_settings
from infra.stack import Launcher
from services.access import principal_of
from services.officials import service as directory
from services.officials.journal import verify_directory
from services.seed import SYSTEM_IMPORTER, demo_file, demo_officials, listed, seed_demo_province
from tests.support import SECRET, Stack, form_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets every file be read by everyone: a file must make itself private."""
    before = os.umask(0)
    yield
    os.umask(before)


def test_the_secrets_the_dev_stack_makes_are_its_owners_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_umask: None
) -> None:
    monkeypatch.delenv("XPTT_JWT_SECRET", raising=False)
    monkeypatch.delenv("XPTT_ACTOR_KEYS", raising=False)
    secret, keys = dev.jwt_secret(tmp_path), dev.actor_keys(tmp_path)
    assert mode(tmp_path / "jwt-secret") == 0o600
    assert mode(tmp_path / "actor-keys") == 0o600
    ring = parse_key_ring(keys)
    assert ring.signing_key_id == "dev1" and len(secret) >= 32
    # Made once: a restart finds the same ones (tokens and signed actions stay valid).
    assert (dev.jwt_secret(tmp_path), dev.actor_keys(tmp_path)) == (secret, keys)


def test_a_secret_an_earlier_run_left_readable_is_made_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XPTT_JWT_SECRET", raising=False)
    (tmp_path / "jwt-secret").write_text("s" * 48)
    (tmp_path / "jwt-secret").chmod(0o644)
    assert dev.jwt_secret(tmp_path) == "s" * 48
    assert mode(tmp_path / "jwt-secret") == 0o600


def test_the_keys_given_in_the_environment_are_used_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XPTT_ACTOR_KEYS", "prod2:" + "p" * 40)
    assert dev.actor_keys(tmp_path) == "prod2:" + "p" * 40
    assert not (tmp_path / "actor-keys").exists()


def test_the_demo_tokens_are_written_for_their_owner_alone(tmp_path: Path, open_umask: None) -> None:
    tokens = tmp_path / "demo-tokens.env"
    tokens.write_text("old\n")
    tokens.chmod(0o644)  # as earlier versions left it
    settings = Settings.model_validate({"DATABASE_URL": "postgresql://x/y"})
    rehearsal, legal = dev_demo.demo_provinces("33", "12")
    demos = [
        dev_demo.Demo(rehearsal, "03199", [dev_demo.DemoToken("XPTT_TOKEN_REHEARSAL_ADMIN", "demo-admin-12", "t12")]),
        dev_demo.Demo(legal, "11953", [dev_demo.DemoToken("XPTT_TOKEN_ADMIN", "demo-admin-33", "t33")]),
    ]
    dev._print_banner(settings, 8000, 8233, demos, tmp_path)
    lines = [line for line in tokens.read_text().splitlines() if not line.startswith("#")]
    assert lines == ["XPTT_TOKEN_REHEARSAL_ADMIN=t12", "XPTT_TOKEN_ADMIN=t33"]
    assert mode(tokens) == 0o600


def test_the_rehearsal_province_is_another_province_than_the_demo_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(dev_demo.DemoError, match="XPTT_DEMO_REHEARSAL_PROVINCE=12 trùng với tỉnh demo Lai Châu"):
        dev_demo.demo_provinces("12", "12")
    with pytest.raises(dev_demo.DemoError, match="XPTT_DEMO_REHEARSAL_PROVINCE: không có tỉnh mã '99'"):
        dev_demo.demo_provinces("33", "99")
    # `xptt dev up` refuses it before it starts anything.
    monkeypatch.setenv("XPTT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XPTT_DEMO_REHEARSAL_PROVINCE", "33")
    monkeypatch.setenv("WORKER_METRICS_ADDRESS", "")  # whatever holds the default metrics port on this machine
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            main.app, ["dev", "up", "--temporal-port", "0", "--ui-port", "0", "--api-port", "0"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "trùng với tỉnh demo Hưng Yên (33)" in result.output
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(("province", "unit"), [("33", "11953"), ("12", "03388")])
def test_each_demo_file_lists_the_demo_officials_on_the_first_unit(province: str, unit: str) -> None:
    """The ids and roles the banner, the tokens and the tests rely on: `demo_officials` on the province's first unit."""
    assert unit == min(u.code for u in load_units(province))
    wanted = [(o.id, o.full_name, o.role, o.unit_code) for o in demo_officials(province, unit)]
    path = demo_file(province)
    assert [(o.id, o.full_name, o.role, o.unit_code) for o in listed(path.read_bytes(), str(path))] == wanted
    assert path.read_text(encoding="utf-8").startswith("Mã cán bộ,Họ tên,Chức vụ,Email,")  # the Vietnamese headers


async def _journal(sessions: async_sessionmaker[AsyncSession], province: str) -> list[DirectoryEventRow]:
    async with sessions() as session:
        rows = await session.scalars(
            select(DirectoryEventRow).where(DirectoryEventRow.province_code == province).order_by(DirectoryEventRow.seq)
        )
        return list(rows)


async def test_the_demo_officials_come_in_by_the_import_once_and_restarts_keep_what_changed_since(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Hưng Yên from its file; Hà Nội has none: demo_officials on its first unit, imported the same way
    for province, unit in (("33", "11953"), ("01", min(u.code for u in load_units("01")))):
        got_unit, officials = await seed_demo_province(sessions, province)
        assert got_unit == unit
        assert [o.id for o in officials] == [o.id for o in demo_officials(province, unit)]
        everything = await _journal(sessions, province)
        journal = [r for r in everything if r.action != "target_set"]  # the sources' example targets, also seeded
        assert {r.actor_id for r in everything} == {SYSTEM_IMPORTER}
        assert len(everything) - len(journal) == (2 if province == "33" else 0)
        assert {r.payload["source"] for r in journal} == {"import"}
        assert [r.action for r in journal].count("official_created") == 7
        assert [r.action for r in journal].count("role_assigned") == 7
        async with sessions() as session:
            assert (await verify_directory(session, province)).ok
    data = demo_file("33").read_bytes()
    imports = [r for r in await _journal(sessions, "33") if r.action != "target_set"]
    assert {r.payload["file_sha256"] for r in imports} == {hashlib.sha256(data).hexdigest()}

    # an administrator deactivates the demo officer; a restart neither fails, nor brings them back, nor writes again
    async with sessions() as session:
        admin = await principal_of(session, "demo-admin-33")
        assert admin is not None
        await directory.deactivate_official(session, admin, "demo-officer-11953", "nghỉ hưu", now=datetime.now(TZ))
    before = await _journal(sessions, "33")
    again = await seed_demo_province(sessions, "33")
    assert again[0] == "11953" and len(again[1]) == 7
    assert [r.hash for r in await _journal(sessions, "33")] == [r.hash for r in before]
    async with sessions() as session:
        officer = await session.get(OfficialRow, "demo-officer-11953")
        assert officer is not None and not officer.active
        assert await session.scalar(select(func.count()).select_from(OfficialRow)) == 14


async def _task_at_hand(stack: Stack, headers: dict[str, str], case_id: str, stage: Stage) -> dict[str, Any]:
    """The case's task of `stage` in the inbox of the official `headers` names, once it is there."""
    for _ in range(300):
        resp = await stack.http.get("/v1/tasks", params={"mine": "true"}, headers=headers)
        resp.raise_for_status()
        found: list[dict[str, Any]] = [t for t in resp.json() if t["case_id"] == case_id and t["stage"] == stage.value]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {stage} task of {case_id} at hand")


async def _striving(stack: Stack, headers: dict[str, str], case_id: str) -> dict[str, Any]:
    for _ in range(300):
        case: dict[str, Any] = (await stack.http.get(f"/v1/cases/{case_id}", headers=headers)).json()
        if case.get("standing") == "striving":
            return case
        await asyncio.sleep(0.1)
    raise AssertionError(f"{case_id} is not striving")


async def test_the_dev_stack_opens_the_round_by_the_law_and_as_a_rehearsal_with_tasks_at_hand(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = dev_demo.today_vn()
    rnd = dev_demo.demo_round(today)
    settings = Settings.model_validate(
        {"DATABASE_URL": "postgresql://x/y", "XPTT_JWT_SECRET": SECRET, "TEMPORAL_TASK_QUEUE": stack.task_queue}
    )
    provinces = dev_demo.demo_provinces("33", "12")
    demos = await dev_demo.seed_and_open(stack.sessions, provinces, settings, client=stack.client, rnd=rnd, today=today)
    rehearsal, legal = demos
    assert (rehearsal.province.code, rehearsal.round_id, rehearsal.cases, rehearsal.rehearsal_opens_on) == (
        "12", rnd.id, 38, today,
    )  # fmt: skip
    assert (legal.province.code, legal.round_id, legal.cases, legal.rehearsal_opens_on) == ("33", rnd.id, 104, None)
    async with stack.sessions() as session:
        rows = await session.execute(
            select(CaseRow.province_code, func.count())
            .where(CaseRow.round_id == rnd.id)
            .group_by(CaseRow.province_code)
        )
        assert {code: n for code, n in rows} == {"12": 38, "33": 104}
    # A restart on another day opens nothing twice and tells the rehearsal by the day it was moved to.
    again = await dev_demo.seed_and_open(
        stack.sessions, provinces, settings, client=stack.client, rnd=rnd, today=today + timedelta(days=9)
    )
    assert [(d.cases, d.rehearsal_opens_on) for d in again] == [(38, today), (104, None)]
    # the demo officials were imported from the demo files: the commune roles on each province's first unit
    assert [d.unit_code for d in demos] == ["03388", "11953"]
    for demo in demos:
        national = [] if demo.province.rehearsal else ["demo-ministry"]  # the ministry's, with the demo province's
        assert [t.official_id for t in demo.tokens] == [
            o.id for o in demo_officials(demo.province.code, demo.unit_code)
        ] + national
        journal = await _journal(stack.sessions, demo.province.code)
        assert journal and {r.actor_id for r in journal} == {SYSTEM_IMPORTER}
    assert any(r.action == "official_created" for r in await _journal(stack.sessions, "12"))

    # Each commune officer has the registration at hand; once registered, the rehearsal's self-assessment opens at
    # once, while the round on the legal calendar strives until 1 October.
    for demo in demos:
        officer = {"Authorization": f"Bearer {demo.tokens[0].token}"}
        case_id = case_id_for(rnd.id, demo.unit_code)
        task = await _task_at_hand(stack, officer, case_id, Stage.REGISTRATION)
        done = await stack.http.post(
            f"/v1/tasks/{task['id']}/complete", json=form_for(Stage.REGISTRATION), headers=officer
        )
        assert done.status_code == 200, done.text
    officer_12 = {"Authorization": f"Bearer {rehearsal.tokens[0].token}"}
    await _task_at_hand(stack, officer_12, case_id_for(rnd.id, rehearsal.unit_code), Stage.SELF_ASSESSMENT)
    auditor_33 = {"Authorization": f"Bearer {next(t.token for t in legal.tokens if t.name == 'XPTT_TOKEN_AUDITOR')}"}
    ministry = {"Authorization": f"Bearer {next(t.token for t in legal.tokens if t.name == 'XPTT_TOKEN_MINISTRY')}"}
    national = await stack.http.get(f"/v1/national/rounds/{rnd.id}", headers=ministry)
    assert national.status_code == 200 and len(national.json()["provinces"]) == 34, national.text
    striving = await _striving(stack, auditor_33, case_id_for(rnd.id, legal.unit_code))
    opens_by_law = datetime(rnd.year, 10, 1, tzinfo=TZ)  # 1 October of the assessment year, 00:00
    assert datetime.fromisoformat(striving["waiting_until"]) == opens_by_law

    # The banner says which round is which, and gives the rehearsal's tokens first.
    dev._print_banner(settings, 8000, 8233, demos, tmp_path)
    out = capsys.readouterr().out
    moved = dev_demo.assessment_opens(rnd, "12", today)
    assert today - timedelta(days=6) <= moved <= today
    assert (
        f"Kỳ đánh giá năm {rnd.year} — Hưng Yên (33): lịch theo quy định (đăng ký đầu kỳ; tự đánh giá từ "
        f"01/10/{rnd.year}); 104 lượt xét công nhận" in out
    )
    rehearsal_line = (
        f"Diễn tập kỳ đánh giá năm {rnd.year} — Lai Châu (12): lịch dời để tự đánh giá mở từ {moved:%d/%m/%Y}"
    )
    assert f"{rehearsal_line}; 38 lượt xét công nhận" in out
    assert out.index("XPTT_TOKEN_REHEARSAL_COMMUNE_OFFICER=") < out.index("XPTT_TOKEN_COMMUNE_OFFICER=")
    assert f"XPTT_TOKEN_REHEARSAL_APPRAISER={rehearsal.tokens[3].token}" in out
    assert "$XPTT_TOKEN_REHEARSAL_COMMUNE_OFFICER" in out


@pytest.fixture(scope="module")
def read_only_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A Temporal dev server with its own UI on a private port, and the dev stack's gateway in front of it:
    (the gateway's URL, the dev server UI's own URL)."""
    launcher = Launcher(tmp_path_factory.mktemp("dev-ui"))
    own, public = free_port(), free_port()
    with launcher:
        launcher.temporal(ui_port=own)
        gateway = dev_ui.serve(public, ("127.0.0.1", own))
        own_url, public_url = f"http://127.0.0.1:{own}", f"http://127.0.0.1:{public}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{own_url}/api/v1/settings", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the dev server's UI did not answer"
            time.sleep(0.2)
        try:
            yield public_url, own_url
        finally:
            gateway.shutdown()


def test_the_dev_stack_ui_shows_the_pages_and_hides_every_write_action(read_only_ui: tuple[str, str]) -> None:
    ui, _ = read_only_ui
    page = httpx.get(f"{ui}/namespaces/default/workflows", timeout=10)
    assert page.status_code == 200 and "<html" in page.text
    settings = httpx.get(f"{ui}/api/v1/settings", timeout=10).json()
    assert all(settings[switch] is True for switch in dev_ui.WRITES_DISABLED), settings
    assert settings["DefaultNamespace"] == "" and "Auth" in settings  # the rest is the UI server's own


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/namespaces/default/workflows/qd06-2019:2027-11953/signal/nudge"),
        ("POST", "/api/v1/namespaces/default/workflows/qd06-2019:2027-11953/update/complete_task"),
        ("POST", "/api/v1/namespaces/default/workflows/qd06-2019:2027-11953/terminate"),
        ("POST", "/api/v1/namespaces/default/workflows/qd06-2019:2027-11953/reset"),
        ("POST", "/api/v1/namespaces/default/workflows/new-one"),
        ("PUT", "/api/v1/namespaces/default/schedules/xptt-round-opening"),
        ("DELETE", "/api/v1/namespaces/default/workflows/qd06-2019:2027-11953"),
        ("PATCH", "/api/v1/namespaces/default"),
    ],
)
def test_the_dev_stack_ui_refuses_every_write(read_only_ui: tuple[str, str], method: str, path: str) -> None:
    ui, own = read_only_ui
    refused = httpx.request(method, f"{ui}{path}", json={}, timeout=10)
    assert refused.status_code == 405, refused.text
    assert refused.headers["Allow"] == "GET, HEAD"
    # The gateway refuses it, not the dev server's own UI, which would take it with its CSRF header.
    assert httpx.request(method, f"{own}{path}", json={}, timeout=10).status_code != 405
