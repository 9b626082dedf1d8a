"""uvicorn's limits on every command line that starts the API (the stack launcher, the image's CMD, docker-compose's
api service), read by uvicorn's own option parser; and a server with those limits refuses a request head that grows
past 16 KiB before it is complete and closes an idle keep-alive connection after 5 s. No Docker engine: the files are
parsed."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from uvicorn.main import main as uvicorn_command

from infra.embedded import free_port
from infra.stack import API_LIMITS, Launcher
from tests.dockerfile import read_dockerfile

ROOT = Path(__file__).resolve().parents[1]
WANTED = {"http": "h11", "timeout_keep_alive": 5, "h11_max_incomplete_event_size": 16384, "limit_concurrency": 1000}


class _Recording(Launcher):
    """A launcher that records what it would start instead of starting it."""

    seen: list[str]

    def spawn(self, name: str, args: Sequence[str], **_: Any) -> Any:
        self.seen = list(args)
        return None


def _launcher_command(tmp_path: Path) -> list[str]:
    launcher = _Recording(tmp_path, env={})
    launcher.api(port=free_port(), wait=False)
    return launcher.seen[launcher.seen.index("uvicorn") :]


def _image_command() -> list[str]:
    cmd = [rest for keyword, rest in read_dockerfile(ROOT / "Dockerfile") if keyword == "CMD"]
    command: list[str] = json.loads(cmd[-1])
    return command


def _compose_command() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command: list[str] = compose["services"]["api"]["command"]
    return command


def _uvicorn_options(command: list[str]) -> Mapping[str, Any]:
    """What uvicorn makes of the command line (its own click parser, as `uvicorn …` would)."""
    assert command[:2] == ["uvicorn", "api.main:app"], command
    return uvicorn_command.make_context("uvicorn", list(command[1:])).params


@pytest.mark.parametrize("where", ["launcher", "Dockerfile", "docker-compose.yml"])
def test_every_api_command_line_carries_the_keep_alive_header_and_concurrency_limits(
    where: str, tmp_path: Path
) -> None:
    command = {
        "launcher": lambda: _launcher_command(tmp_path),
        "Dockerfile": _image_command,
        "docker-compose.yml": _compose_command,
    }[where]()
    options = _uvicorn_options(command)
    assert {k: options[k] for k in WANTED} == WANTED, command
    assert set(API_LIMITS) <= set(command)


async def _raw(port: int, request: bytes) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    return head, reader, writer


async def test_uvicorn_with_those_limits_refuses_a_large_head_and_closes_an_idle_connection() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    options = _uvicorn_options(_image_command())
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **WANTED)
    assert {k: getattr(config, k) for k in WANTED} == {k: options[k] for k in WANTED}
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        # a head still arriving (no blank line yet) is buffered up to 16 KiB, then refused
        growing = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000
        head, _, writer = await _raw(port, growing)
        assert re.match(rb"HTTP/1\.1 (400|431) ", head), head
        writer.close()

        head, reader, writer = await _raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Fine: " + b"a" * 8_000 + b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert await reader.readexactly(2) == b"ok"
        started = asyncio.get_running_loop().time()
        assert await asyncio.wait_for(reader.read(), 15) == b""  # the server closed the idle connection
        idle = asyncio.get_running_loop().time() - started
        assert 4 <= idle <= 8, idle
        writer.close()
    finally:
        server.should_exit = True
        await serving
