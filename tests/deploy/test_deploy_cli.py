"""`xptt deploy` as an operator runs it: two cases recorded by another build of the case workflow (build 3 of
tests/deploy/variants.py, unversioned workers); this checkout's code replays the one that took no action and not the
one whose registration build 3 recorded after its pause: exit 1 naming it, in Vietnamese; bad options exit 2."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from services.deploy.versioning import code_build_id
from tests.deploy.test_versioned_deploys import listed, open_task_id, register, start_cases
from tests.deploy.variants import UnpatchedPauseCaseWorkflow
from tests.support import fresh_unit, seed_reference, xptt
from workflows.registry import audit_activities, case_activities, warm_domain, workflow_runner


@pytest.fixture
async def recorded_by_build_3(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[dict[str, str], str, str]]:
    """(the command's environment, the case that acted under build 3, the one that did not)."""
    client = temporal_env.client
    await seed_reference(sessions)
    task_queue = f"test-deploy-cli-{uuid.uuid4()}"
    warm_domain()
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[UnpatchedPauseCaseWorkflow],  # unversioned: the case workflow as it is, no behaviour declared
        activities=case_activities(CaseStore(sessions)) + audit_activities(HistoryArchive(client, sessions)),
        workflow_runner=workflow_runner(),
    )
    units = [fresh_unit(), fresh_unit()]
    async with worker:
        acted, idle = await start_cases(client, task_queue, units)
        await register(acted, units[0])
        await open_task_id(idle)
        await listed(client, task_queue, lambda r: len(r) == 2 and r[acted.id] != "registration")
        env = {
            "TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "TEMPORAL_TASK_QUEUE": task_queue,
            "WORKER_BUILD_ID": "",
        }
        yield env, acted.id, idle.id


async def test_check_exits_1_naming_the_case_this_code_cannot_replay(
    recorded_by_build_3: tuple[dict[str, str], str, str],
) -> None:
    env, acted, idle = recorded_by_build_3
    code, out, err = await xptt(env, "deploy", "check", "--all", "--format", "json")
    assert code == 1, (out, err)
    report = json.loads(out)
    assert (report["running"], report["checked"], report["passed"]) == (2, 2, False)
    assert [f["workflow"]["workflow_id"] for f in report["failures"]] == [acted]
    assert report["failures"][0]["kind"] == "nondeterminism"
    assert report["build_id"].startswith("code-")
    assert "Đã chạy lại 2/2" in err  # progress on stderr

    code, out, _ = await xptt(env, "deploy", "check", "--sample", "5", "--province", "33")
    assert code == 1
    assert "Kiểm tra trước khi triển khai" in out and "Đăng ký phấn đấu" in out
    assert acted in out and idle not in out.split("Không chạy lại được")[1]
    assert "Không đạt: 1/2" in out

    code, out, _ = await xptt(env, "deploy", "check", "--province", "12")  # another province: nothing runs there
    assert code == 0 and "Đạt: 0" in out


async def test_bad_options_exit_2_naming_the_option_and_promote_without_a_build_is_refused(
    temporal_env: WorkflowEnvironment,
) -> None:
    env = {"TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host, "WORKER_BUILD_ID": ""}
    code, _, err = await xptt(env, "deploy", "check", "--province", "3x")
    assert code == 2 and "--province" in err and "3x" in err
    code, _, err = await xptt(env, "deploy", "check", "--format", "xml")
    assert code == 2 and "--format" in err
    code, _, err = await xptt(env, "deploy", "check", "--sample", "0")
    assert code == 2 and "--sample" in err
    code, _, err = await xptt(env, "deploy", "promote")
    assert code == 2 and "WORKER_BUILD_ID" in err
    # A build named after other workflow code than this checkout's: checked here, run there; refused.
    code, _, err = await xptt(env, "deploy", "promote", "--build-id", "code-000000000000")
    assert code == 2 and "code-000000000000" in err and code_build_id() in err
