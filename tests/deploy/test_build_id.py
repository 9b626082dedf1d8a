"""The build id a versioned worker announces: `auto` hashes the workflow code, so the same code gives the same id and
a change of it a new one; an empty id turns versioning off; a deployment name the server cannot take is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.settings import Settings
from services.deploy.versioning import (
    ROOT,
    WORKFLOW_CODE,
    build_id_of,
    code_build_id,
    deployment_config,
    worker_version,
)


def _copy_workflow_code(to: Path) -> None:
    for entry in WORKFLOW_CODE:
        source = ROOT / entry
        if source.is_dir():
            shutil.copytree(source, to / entry, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (to / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, to / entry)


def test_the_same_workflow_code_gives_the_same_id_and_a_change_of_it_a_new_one(tmp_path: Path) -> None:
    _copy_workflow_code(tmp_path)
    assert code_build_id(tmp_path) == code_build_id() != ""
    assert code_build_id().startswith("code-") and len(code_build_id()) == len("code-") + 12
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "routes.py").write_text("# not workflow code\n")
    assert code_build_id(tmp_path) == code_build_id()
    case = tmp_path / "workflows" / "case.py"
    case.write_text(case.read_text() + "\n# a change\n")
    assert code_build_id(tmp_path) != code_build_id()


def test_versioning_is_off_without_a_build_id_and_auto_hashes_the_code() -> None:
    off = Settings.model_validate({"WORKER_BUILD_ID": ""})
    assert build_id_of(off) is None and worker_version(off) is None and deployment_config(None) is None
    auto = Settings.model_validate({"WORKER_BUILD_ID": "auto"})
    version = worker_version(auto)
    assert version is not None and (version.deployment_name, version.build_id) == ("xptt", code_build_id())
    given = Settings.model_validate({"WORKER_BUILD_ID": "2026.12.1-3f2a9c1", "WORKER_DEPLOYMENT_NAME": "xptt-hn"})
    assert (
        worker_version(given) is not None and worker_version(given).to_canonical_string() == "xptt-hn.2026.12.1-3f2a9c1"
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("WORKER_DEPLOYMENT_NAME", "xptt.prod"), ("WORKER_DEPLOYMENT_NAME", ""), ("WORKER_BUILD_ID", "b 1")],
)
def test_a_name_or_build_id_the_server_cannot_take_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({variable: value})
    assert variable in str(refused.value)
