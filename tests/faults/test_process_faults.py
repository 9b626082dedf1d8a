"""Process faults during a round of a real province (Lai Châu, 38 units): the worker SIGKILLed and started again,
the Temporal server stopped and started again on its file database, PostgreSQL out of reach behind a cut proxy.

Each run is compared with an undisturbed run of the same plan (same units, same forms): every case must reach the
same end, and nothing may be lost or doubled — cases, tasks, audit rows (the hash chains still verifying), outbox
rows, archived histories and the round report in PostgreSQL, and at the SMTP receiver every email once by its
Message-ID (= outbox id).

One window stays open by nature: a worker killed after the SMTP server accepted a mail and before its row was marked
`delivered` sends it again on the retry, with the same Message-ID (the mailbox shows it once; notify/mailer.py). The
kill scenarios count such transmissions (`email_resends`) and accept one only when a kill fell between its two
transmissions (a kill may catch several deliveries in flight at once); every other scenario has no kill, so none.

The quick variants (a handful of units, 3 kills, a short cut) run in `make test`; the long ones (`faults_full`) in
`make faults`. The kill points are drawn from a seeded RNG: the seed is printed; `XPTT_FAULTS_SEED` replays one.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.faults.endstate import EndState, Plan, compare
from tests.faults.stack import RoundRun, log, run_round

PROVINCE = "12"  # Lai Châu, 38 units
QUICK = Plan.of(PROVINCE, limit=6)
FULL = Plan.of(PROVINCE)
TIMEOUT = {QUICK: 240.0, FULL: 900.0}

_BASELINES: dict[Plan, EndState] = {}


def seed() -> int:
    value = int(os.environ.get("XPTT_FAULTS_SEED") or random.SystemRandom().randrange(1, 10**6))
    log(f"seed {value} (XPTT_FAULTS_SEED={value} replays these fault points)")
    return value


async def baseline(plan: Plan, pg_server_url: str, template: str, directory: Path) -> EndState:
    """The undisturbed run of `plan`, once per session."""
    if plan not in _BASELINES:
        run = RoundRun(plan, pg_server_url, template, directory / "baseline")
        state, _, seconds = await run_round(run, None, timeout=TIMEOUT[plan])
        assert not state.chain_broken, state.chain_broken
        assert state.report.get("still_open") == 0, state.report
        log(f"undisturbed run of {len(plan.units)} units: {state.figures()} in {seconds:.0f} s")
        _BASELINES[plan] = state
    return _BASELINES[plan]


async def check_against_baseline(
    plan: Plan,
    pg_server_url: str,
    template: str,
    tmp_path: Path,
    fault_report: Callable[..., None],
    faults: Any,
    **options: Any,
) -> dict[str, Any]:
    want = await baseline(plan, pg_server_url, template, tmp_path)
    run = RoundRun(plan, pg_server_url, template, tmp_path / "faulted", **options)
    # Quick runs do not wait out the start-to-close timeout of a delivery whose attempt died with a killed worker
    # (its row is delivered already: the retry finds it so and sends nothing).
    got, figures, seconds = await run_round(run, faults, timeout=TIMEOUT[plan], every_workflow=plan == FULL)
    diff = compare(want, got)
    fault_report(
        **figures,
        **got.figures(),
        lost=len(diff.lost),
        doubled=len(diff.doubled),
        differs=len(diff.differs),
        email_resends=len(diff.resent),
        seconds=round(seconds),
    )
    unexplained = unexplained_resends(run.smtp.sink.arrivals, run.kill_times)
    assert diff.clean and not unexplained, f"{diff.summary()} not after a kill: {unexplained}"
    # The comparison is only as good as what it compares: the undisturbed run did real work.
    assert len(want.cases) == len(plan.units) and want.email_ids and set(want.emails) == want.email_ids
    return figures


async def _until_transitions(run: RoundRun, at_least: int, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while (n := await run.transitions()) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"{n} of {at_least} transitions within {timeout} s")
        await asyncio.sleep(0.05)
    return n


def unexplained_resends(arrivals: list[tuple[str, float]], kills: list[float]) -> list[str]:
    """The Message-IDs received again with no worker kill between two of their transmissions: the only resend the
    product allows is the retry of a delivery whose worker died after the SMTP server accepted it."""
    times: dict[str, list[float]] = {}
    for message_id, at in arrivals:
        times.setdefault(message_id, []).append(at)
    return sorted(
        mid
        for mid, seen in times.items()
        for before, after in pairwise(seen)
        if not any(before <= k <= after for k in kills)
    )


def killing(kills: int, total: int, rng: random.Random) -> Any:
    """Kill the worker (SIGKILL) when the round has recorded each of `kills` random numbers of transitions (plus a
    random fraction of a second, so kills land inside activities and workflow tasks), then start it again."""
    points = sorted(rng.sample(range(1, total), kills))
    delays = [rng.uniform(0.0, 0.5) for _ in points]

    async def faults(run: RoundRun, driven: asyncio.Event) -> dict[str, Any]:
        done = 0
        for point, delay in zip(points, delays, strict=True):
            at = await _until_transitions(run, max(point, done + 1))
            await asyncio.sleep(delay)
            run.worker.kill()
            run.kill_times.append(time.monotonic())
            done = await run.transitions()
            log(f"worker killed ({run.worker.kills}) at {at}→{done} transitions; starting it again")
            run.worker.start()
            await run.worker.wait_ready()
        return {"kills": run.worker.kills, "seed_points": points[:3]}

    return faults


def temporal_restarts(stops: list[tuple[float, int, float]]) -> Any:
    """Stop the Temporal server at each (share of the round's transitions, signal, seconds down), then start it
    again on the same file database."""

    async def faults(run: RoundRun, driven: asyncio.Event) -> dict[str, Any]:
        total = run_total[run.plan]
        down_total = 0.0
        for share, sig, down in stops:
            at = await _until_transitions(run, int(total * share))
            run.temporal.stop(sig)
            log(f"Temporal stopped ({signal.Signals(sig).name}) at {at} transitions for {down} s")
            await asyncio.sleep(down)
            run.temporal.start()
            down_total += down
            assert run.worker.alive(), f"the worker exited while Temporal was down:\n{run.worker.tail()}"
        return {"temporal_stops": len(stops), "seconds_down": down_total}

    return faults


def postgres_cut(share: float, seconds: float) -> Any:
    """Cut the proxy between worker/API and PostgreSQL (refuse new connections, drop open ones) for `seconds`."""

    async def faults(run: RoundRun, driven: asyncio.Event) -> dict[str, Any]:
        assert run.proxy is not None
        at = await _until_transitions(run, int(run_total[run.plan] * share))
        before = run.proxy.connections
        run.proxy.cut(seconds)
        log(f"PostgreSQL cut at {at} transitions for {seconds} s")
        while not run.proxy.listening:
            during = await run.transitions()
            await asyncio.sleep(0.1)
        # A transaction that was committing when the cut came may land; nothing else can.
        assert during <= at + len(run.plan.units), f"{during - at} transitions while PostgreSQL was out of reach"
        log(f"PostgreSQL reachable again at {during} transitions")
        await _until_transitions(run, during + 1, timeout=180)
        return {"cut_seconds": seconds, "reconnections": run.proxy.connections - before}

    return faults


run_total: dict[Plan, int] = {}


Faulted = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def run_with_faults(
    pg_server_url: str, template_database: str, tmp_path: Path, fault_report: Callable[..., None]
) -> Faulted:
    """`await run_with_faults(plan, make_faults, **kw)`: run `plan` with the faults `make_faults(transitions of the
    undisturbed run)` makes; compare."""

    async def run(plan: Plan, make_faults: Callable[[int], Any], **kw: Any) -> dict[str, Any]:
        want = await baseline(plan, pg_server_url, template_database, tmp_path)
        run_total[plan] = sum(len(v) for v in want.journal.values())
        return await check_against_baseline(
            plan, pg_server_url, template_database, tmp_path, fault_report, make_faults(run_total[plan]), **kw
        )

    return run


# -- 1. the worker SIGKILLed -----------------------------------------------------------------------------------------
@pytest.mark.scenario("worker SIGKILL ×3 during a round (6 units)")
async def test_worker_killed_quick(run_with_faults: Faulted) -> None:
    rng = random.Random(seed())
    figures = await run_with_faults(QUICK, lambda total: killing(3, total, rng))
    assert figures["kills"] == 3


@pytest.mark.faults_full
@pytest.mark.scenario("worker SIGKILL ×20 during a round (Lai Châu, 38 units)")
async def test_worker_killed_twenty_times(run_with_faults: Faulted) -> None:
    rng = random.Random(seed())
    figures = await run_with_faults(FULL, lambda total: killing(20, total, rng))
    assert figures["kills"] == 20


# -- 2. the Temporal server stopped and started again ----------------------------------------------------------------
@pytest.mark.scenario("Temporal server stopped and restarted mid-round (6 units)")
async def test_temporal_restarted_quick(run_with_faults: Faulted) -> None:
    await run_with_faults(QUICK, lambda _: temporal_restarts([(0.4, signal.SIGTERM, 3.0)]), temporal_file_database=True)


@pytest.mark.faults_full
@pytest.mark.scenario("Temporal server stopped (TERM, then KILL) and restarted mid-round (Lai Châu, 38 units)")
async def test_temporal_restarted(run_with_faults: Faulted) -> None:
    await run_with_faults(
        FULL,
        lambda _: temporal_restarts([(0.3, signal.SIGTERM, 15.0), (0.6, signal.SIGKILL, 15.0)]),
        temporal_file_database=True,
    )


# -- 3. PostgreSQL out of reach --------------------------------------------------------------------------------------
@pytest.mark.scenario("PostgreSQL unreachable for 5 s mid-round (6 units)")
async def test_postgres_cut_quick(run_with_faults: Faulted) -> None:
    await run_with_faults(QUICK, lambda _: postgres_cut(0.4, 5.0), proxy_postgres=True)


@pytest.mark.faults_full
@pytest.mark.scenario("PostgreSQL unreachable for 30 s mid-round (Lai Châu, 38 units)")
async def test_postgres_cut(run_with_faults: Faulted) -> None:
    await run_with_faults(FULL, lambda _: postgres_cut(0.4, 30.0), proxy_postgres=True)


def test_a_resend_counts_only_with_a_kill_between_its_transmissions() -> None:
    arrivals = [("a", 1.0), ("b", 1.5), ("a", 3.0), ("c", 4.0), ("c", 4.5)]
    assert unexplained_resends(arrivals, kills=[2.0]) == ["c"]  # a: killed in between; c: sent twice, no kill
    assert unexplained_resends(arrivals, kills=[2.0, 4.2]) == []
    assert unexplained_resends(arrivals, kills=[]) == ["a", "c"]
