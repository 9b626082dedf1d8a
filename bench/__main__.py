"""`make bench`: every benchmark in turn, each in its own process on its own embedded stack, then one table of the
figures against the targets. Each benchmark also writes bench/results/<name>.json (see bench/README.md).

    .venv/bin/python -m bench [--only round_open,steps,inbox,national] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.stack import RESULTS

# name → (arguments for the full run, arguments for --quick)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "round_open": (["--units", "10035"], ["--units", "1000"]),
    "steps": (["--cases", "300", "--clients", "50"], ["--cases", "60", "--clients", "20"]),
    # Two API processes, as deployed (docker-compose.yml runs two replicas of the API; docs/deployment.md).
    "inbox": (
        ["--tasks", "100000", "--clients", "50", "--api-workers", "2"],
        ["--tasks", "10000", "--clients", "20", "--seconds", "10", "--api-workers", "2"],
    ),
    "board": (["--units", "10035", "--requests", "200"], ["--units", "2000", "--requests", "50"]),
    "national": (["--provinces", "all", "--clients", "50"], ["--provinces", "12,46", "--clients", "20"]),
}


def _get(figures: dict[str, Any], path: str) -> Any:
    value: Any = figures
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


# (benchmark, figure path, label, target, met?): the targets of the performance work (docs/benchmarks.md)
TARGETS: list[tuple[str, str, str, str, Callable[[Any], bool]]] = [
    (
        "round_open",
        "seconds_to_every_first_task_in_inbox",
        "round open: every first task in the inbox (s)",
        "≤ 60",
        lambda v: v <= 60,
    ),
    (
        "round_open",
        "seconds_to_every_case_workflow_running",
        "round open: every case workflow running (s)",
        "≤ 90",
        lambda v: v <= 90,
    ),
    (
        "round_open",
        "worker_rss_high_water_mark_mib",
        "worker peak RSS, every case live (MiB)",
        "≤ 300",
        lambda v: v <= 300,
    ),
    ("steps", "ratio_ours_to_bare", "case steps/s ÷ bare Temporal steps/s", "≥ 0.60", lambda v: v >= 0.6),
    ("steps", "ours.steps_per_second", "case steps per second", "—", lambda v: True),
    ("steps", "bare.steps_per_second", "bare steps per second", "—", lambda v: True),
    ("steps", "ours.cpu_ms_per_step.temporal", "case step: Temporal CPU (ms)", "—", lambda v: True),
    ("steps", "bare.cpu_ms_per_step.temporal", "bare step: Temporal CPU (ms)", "—", lambda v: True),
    ("steps", "ours.cpu_ms_per_step.worker", "case step: worker CPU (ms)", "—", lambda v: True),
    ("steps", "bare.cpu_ms_per_step.bare", "bare step: worker CPU (ms)", "—", lambda v: True),
    ("inbox", "closed_loop.requests_per_second", "inbox capacity, closed loop (req/s)", "≥ 600", lambda v: v >= 600),
    ("inbox", "closed_loop.cpu_ms_per_request.api", "inbox: API CPU per request (ms)", "—", lambda v: True),
    ("inbox", "open_loop.latency.p95_ms", "inbox p95, open loop (ms)", "≤ 50", lambda v: v <= 50),
    ("inbox", "closed_loop.errors", "inbox errors, closed loop", "0", lambda v: v == 0),
    ("inbox", "open_loop.errors", "inbox errors, open loop", "0", lambda v: v == 0),
    ("board", "province.latency.p95_ms", "board p95, largest province (ms)", "≤ 200", lambda v: v <= 200),
    ("board", "national.latency.p95_ms", "board p95, national view (ms)", "≤ 200", lambda v: v <= 200),
    ("national", "seconds_end_to_end", "national round end to end (s)", "≤ 600", lambda v: v <= 600),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    args = parser.parse_args()
    chosen = [n for n in args.only.split(",") if n]
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    failed: list[str] = []
    for name in chosen:
        full, quick = BENCHMARKS[name]
        command = [sys.executable, "-m", f"bench.{name}", *(quick if args.quick else full)]
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        code = subprocess.call(command)
        print(f"=== {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    print("\n" + f"{'figure':52} {'measured':>12}  {'target':>8}  met")
    for bench, path, label, target, met in TARGETS:
        if bench not in chosen:
            continue
        result = RESULTS / f"{bench}.json"
        value = _get(json.loads(result.read_text()), path) if result.exists() and bench not in failed else None
        shown = "—" if value is None else str(value)
        verdict = "" if value is None or target == "—" else ("yes" if met(value) else "NO")
        print(f"{label:52} {shown:>12}  {target:>8}  {verdict}")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
