"""The key ring the case workflow checks actor assertions with, and that check.

The worker installs the ring at start (`install`, from XPTT_ACTOR_KEYS). The workflow sandbox passes this module
through (workflows/registry.py, PASSTHROUGH), so every workflow run reads the worker's ring without IO. Update
validators call `check` directly: they run once, when the Update arrives, and never on replay, so a history stays
replayable whatever keys a later process holds.

The `nudge` signal has no validator: its handler asks the `check_nudge_actor` local activity instead. The verdict is
recorded in the history (a marker), so a replay — by a worker after a key left the ring, or by an auditor's process
that holds no key at all — takes the recorded verdict and does not check again. A signal has no update id: a
nudge's assertion names the nudge's own id, which the handler takes once (workflows/case_admin.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import activity

from contracts import Acting, NudgeInput
from domain.actor_assertion import DEFAULT_MAX_AGE, AssertionRefused, KeyRing, payload_digest, verify

_ring: KeyRing | None = None
_max_age: timedelta = DEFAULT_MAX_AGE


def install(ring: KeyRing | None, *, max_age: timedelta = DEFAULT_MAX_AGE) -> None:
    """The ring this process's workflows check assertions with (None: none, every assertion is refused)."""
    global _ring, _max_age
    _ring, _max_age = ring, max_age


def installed() -> tuple[KeyRing | None, timedelta]:
    return _ring, _max_age


def check(inp: Acting, *, case_id: str, update_id: str | None, now: datetime) -> None:
    """Raise AssertionRefused unless the input's actor carries a valid assertion for this case, the input's target,
    its content and `update_id` (the id the Update arrived with; None for the nudge signal, which has none), issued
    within the window around `now` (the workflow's time)."""
    ring, max_age = installed()
    if ring is None:
        raise AssertionRefused("no_key_ring", "this worker holds no actor keys (XPTT_ACTOR_KEYS)")
    verify(
        inp.actor.assertion,
        ring,
        official_id=inp.actor.official_id,
        scopes=inp.actor.scopes,
        case_id=case_id,
        target=inp.target(),
        payload_digest=payload_digest(inp.signed_content()),
        update_id=update_id,
        now=now,
        max_age=max_age,
    )


class NudgeCheck(BaseModel):
    """The local activity's input: the nudge, its case and the workflow's time."""

    model_config = ConfigDict(frozen=True)

    nudge: NudgeInput
    case_id: str
    now: datetime


class NudgeVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: str | None = None  # None: the assertion holds
    detail: str = ""


@activity.defn
async def check_nudge_actor(inp: NudgeCheck) -> NudgeVerdict:
    """The nudge's assertion checked with this worker's ring (no IO: run as a local activity)."""
    try:
        check(inp.nudge, case_id=inp.case_id, update_id=None, now=inp.now)
    except AssertionRefused as exc:
        return NudgeVerdict(reason=exc.reason, detail=exc.detail)
    return NudgeVerdict()
