"""The actor assertion across the Temporal boundary: what the services sign is what the case checks after the data
converter's round trip, for every Update and under the update id it is sent with; and the worker does not start
without its key ring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from contracts import (
    Acting,
    Actor,
    CompleteTaskInput,
    ExtendDueInput,
    HoldInput,
    NudgeInput,
    ReassignInput,
    ReleaseInput,
    WithdrawInput,
)
from domain.access import RoleScope
from domain.actor_assertion import AssertionRefused
from domain.stages import Role
from infra.settings import Settings
from services.access import signed
from tests.support import ACTOR_RING, PROVINCE
from worker import install_actor_keys
from workflows import actor_keys
from workflows.registry import PASSTHROUGH

CASE = "qd06-2019:2027-12001"
TASK = f"{CASE}-t03"
ADMIN = Actor(official_id="demo-admin-33", scopes=[RoleScope(role=Role.ADMIN, province_code=PROVINCE)])
HANOI = timezone(timedelta(hours=7))
UPDATE_ID = f"bulk-op-1-hold-{CASE}"
INPUTS: list[tuple[type[Acting], dict[str, Any]]] = [
    (
        CompleteTaskInput,
        {"task_id": TASK, "payload": {"scores": {"1": 50, "2": 7.5}, "note": "Hưng Yên", "big": 10**20, "x": None}},
    ),
    (ExtendDueInput, {"task_id": TASK, "reason": "lũ lụt", "new_due_at": datetime(2027, 11, 3, 17, 0, tzinfo=HANOI)}),
    (ExtendDueInput, {"task_id": TASK, "reason": "r", "new_due_at": datetime(2027, 11, 3, 10, 0, 0, 123456, UTC)}),
    (ReassignInput, {"task_id": TASK, "reason": "nghỉ phép", "official_id": "demo-officer-12001"}),
    (HoldInput, {"reason": "thanh tra"}),
    (ReleaseInput, {"reason": "xong"}),
    (WithdrawInput, {"reason": "sáp nhập đơn vị"}),
    (NudgeInput, {"task_id": TASK}),
]


def bound_id(model: type[Acting]) -> str | None:
    """The id the case compares the assertion's with: the Update's; none for the nudge signal."""
    return None if model is NudgeInput else UPDATE_ID


def across_temporal(inp: Acting) -> Acting:
    """The input as the case's workflow reads it: encoded by the client's converter, decoded by the worker's."""
    converter = pydantic_data_converter.payload_converter
    (decoded,) = converter.from_payloads(converter.to_payloads([inp]), [type(inp)])
    assert isinstance(decoded, type(inp))
    return decoded


@pytest.mark.parametrize(("model", "fields"), INPUTS, ids=lambda v: v.UPDATE if isinstance(v, type) else "")
def test_what_the_services_sign_the_case_takes_after_the_round_trip(
    model: type[Acting], fields: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    inp = across_temporal(signed(ADMIN, CASE, model, update_id=UPDATE_ID, **fields))
    actor_keys.check(inp, case_id=CASE, update_id=bound_id(model), now=now)
    assert inp.actor.assertion is not None and inp.actor.assertion.target == inp.target()
    assert inp.actor.assertion.update_id == UPDATE_ID


@pytest.mark.parametrize(("model", "fields"), INPUTS, ids=lambda v: v.UPDATE if isinstance(v, type) else "")
def test_what_the_services_sign_is_refused_under_another_update_id(model: type[Acting], fields: dict[str, Any]) -> None:
    inp = across_temporal(signed(ADMIN, CASE, model, update_id=UPDATE_ID, **fields))
    if model is NudgeInput:  # no update id to compare: the case takes the nudge's own id once
        actor_keys.check(inp, case_id=CASE, update_id=None, now=datetime.now(UTC))
        return
    with pytest.raises(AssertionRefused) as info:
        actor_keys.check(inp, case_id=CASE, update_id=f"forged-{UPDATE_ID}", now=datetime.now(UTC))
    assert info.value.reason == "other_update"


@pytest.mark.parametrize(("model", "fields"), INPUTS, ids=lambda v: v.UPDATE if isinstance(v, type) else "")
def test_any_field_changed_on_the_way_is_refused(model: type[Acting], fields: dict[str, Any]) -> None:
    inp = signed(ADMIN, CASE, model, update_id=UPDATE_ID, **fields)
    for name, value in fields.items():
        if isinstance(value, datetime):
            changed: Any = value + timedelta(microseconds=1)
        else:
            changed = {**value, "x": 1} if isinstance(value, dict) else value + "x"
        forged = across_temporal(inp.model_copy(update={name: changed}))
        with pytest.raises(AssertionRefused) as info:
            actor_keys.check(forged, case_id=CASE, update_id=bound_id(model), now=datetime.now(UTC))
        assert info.value.reason == ("other_target" if name == "task_id" else "other_payload"), name


def test_the_workflow_reads_the_workers_ring_through_the_sandbox() -> None:
    assert "workflows.actor_keys" in PASSTHROUGH
    assert actor_keys.installed()[0] is ACTOR_RING  # tests/support.py installs the test ring


def test_a_worker_without_keys_does_not_start_and_one_with_keys_installs_them() -> None:
    ring, max_age = actor_keys.installed()
    try:
        with pytest.raises(SystemExit, match="XPTT_ACTOR_KEYS is not set"):
            install_actor_keys(Settings.model_validate({"XPTT_ACTOR_KEYS": ""}))
        with pytest.raises(SystemExit, match="fewer than 32"):
            install_actor_keys(Settings.model_validate({"XPTT_ACTOR_KEYS": "k1:short"}))
        install_actor_keys(
            Settings.model_validate({"XPTT_ACTOR_KEYS": "w2:" + "w" * 40, "XPTT_ACTOR_ASSERTION_MAX_AGE": "120"})
        )
        installed, window = actor_keys.installed()
        assert installed is not None and installed.key_ids == ("w2",) and window == timedelta(seconds=120)
    finally:
        actor_keys.install(ring, max_age=max_age)


def test_a_worker_that_holds_no_ring_refuses_every_assertion() -> None:
    ring, max_age = actor_keys.installed()
    inp = signed(ADMIN, CASE, HoldInput, update_id=UPDATE_ID, reason="r")
    try:
        actor_keys.install(None)
        with pytest.raises(AssertionRefused) as info:
            actor_keys.check(inp, case_id=CASE, update_id=UPDATE_ID, now=datetime.now(UTC))
        assert info.value.reason == "no_key_ring"
    finally:
        actor_keys.install(ring, max_age=max_age)
