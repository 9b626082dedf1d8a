"""What `xptt dev up` leaves on the machine: its secrets and the demo tokens only their owner reads, and a Temporal UI
that shows the cases but changes nothing."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli import dev, dev_ui
from domain.actor_assertion import parse_key_ring
from infra.embedded import free_port
from infra.settings import Settings
from infra.stack import Launcher


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
    dev._print_banner(settings, 8000, 8233, None, 0, [("admin", "demo-admin-33", "tok")], tmp_path)
    assert tokens.read_text() == "XPTT_TOKEN_ADMIN=tok\n"
    assert mode(tokens) == 0o600


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
