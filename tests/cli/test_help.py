"""Every `xptt` command and group answers --help with its text and exit code 0."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from cli.main import app


def _paths(cmd: Any, prefix: list[str]) -> list[list[str]]:
    out = [prefix]
    if hasattr(cmd, "commands"):  # a group (Typer's, or click's)
        for name, sub in cmd.commands.items():
            out += _paths(sub, [*prefix, name])
    return out


def test_every_command_has_help_text_and_exits_zero() -> None:
    root = typer.main.get_command(app)
    paths = _paths(root, [])
    assert ["stuck"] in paths and ["round", "progress"] in paths and ["round", "report"] in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output
        cmd: Any = root
        for name in path:
            cmd = cmd.commands[name]
        assert (cmd.help or "").strip(), f"xptt {' '.join(path)} has no help text"
