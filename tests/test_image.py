"""The app image: the Dockerfile and .dockerignore, parsed (no Docker engine needed)."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatch

from tests.compose_support import (
    DOCKERFILE,
    DOCKERIGNORE,
    interpolate,
)
from tests.dockerfile import read_dockerfile

# ---------------------------------------------------------------- the image


def dockerfile_instructions() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), "Dockerfile is missing"
    return read_dockerfile(DOCKERFILE)


def final_stage() -> tuple[str, list[tuple[str, str]]]:
    """(resolved base image, instructions) of the last stage."""
    instructions = dockerfile_instructions()
    global_args: dict[str, str] = {}
    base, stage = "", []
    for keyword, rest in instructions:
        if keyword == "ARG" and not base:
            name, _, default = rest.partition("=")
            global_args[name] = default
        elif keyword == "FROM":
            base, stage = interpolate(rest.split()[0], global_args), []
        else:
            stage.append((keyword, rest))
    return base, stage


def test_image_is_python_311_slim() -> None:
    base, _ = final_stage()
    assert base == "python:3.11-slim"


def test_image_runs_as_a_non_root_user() -> None:
    _, stage = final_stage()
    users = [rest for keyword, rest in stage if keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", ""), f"runs as {users[-1]}"


def test_image_installs_the_project_without_dev_extras() -> None:
    runs = [rest for keyword, rest in dockerfile_instructions() if keyword == "RUN"]
    installs = [r for r in runs if re.search(r"pip install\b[^&;|]*\s\.(\s|$)", r)]
    assert installs, "no `pip install .` in the Dockerfile"
    assert not any("[dev]" in r for r in runs), "the image must not install dev extras"


def test_image_carries_the_repository_and_serves_the_api_by_default() -> None:
    _, stage = final_stage()
    assert any(keyword == "COPY" and re.search(r"(^|\s)\.\s+\S+$", rest) for keyword, rest in stage)
    cmd = [rest for keyword, rest in stage if keyword == "CMD"]
    assert cmd, "no default CMD"
    assert json.loads(cmd[-1])[:2] == ["uvicorn", "api.main:app"]


def test_dockerignore_keeps_local_state_out_and_the_code_in() -> None:
    assert DOCKERIGNORE.is_file(), ".dockerignore is missing"
    patterns = [
        line.strip().strip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        result = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            if fnmatch(path, pattern.lstrip("!")):
                result = not negate
        return result

    for path in (".venv", "var", ".git", ".env"):
        assert ignored(path), f"{path} should not be sent to the image build"
    for path in (
        "pyproject.toml",
        "README.md",
        "alembic.ini",
        "worker.py",
        "api",
        "cli",
        "db",
        "domain",
        "workflows",
        "activities",
        "infra",
    ):
        assert not ignored(path), f"{path} is needed in the image"
