"""The faults suite: each scenario is a test marked `scenario("…")`; it records its figures with `fault_report`.

At the end of the run a table of scenario → outcome (passed/failed and the figures) is printed and written to
var/faults/report.json. Quick scenarios run in `make test`; the long ones carry the `faults_full` marker and run only
under `make faults` (`pytest -m faults tests/faults`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

REPORT = Path("var/faults/report.json")

# node id → {"scenario": str, "outcome": str, "figures": {...}}
_ROWS: dict[str, dict[str, Any]] = {}


def _scenario_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("scenario")
    return str(marker.args[0]) if marker and marker.args else item.name


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> Callable[..., None]:
    """`fault_report(lost=0, doubled=0, kills=20, …)` adds figures to this scenario's row of the table."""
    row = _ROWS.setdefault(
        request.node.nodeid, {"scenario": _scenario_of(request.node), "outcome": "running", "figures": {}}
    )

    def record(**figures: Any) -> None:
        row["figures"].update(figures)

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if "tests/faults" not in item.nodeid.replace("\\", "/"):
        return
    row = _ROWS.setdefault(item.nodeid, {"scenario": _scenario_of(item), "outcome": "running", "figures": {}})
    if report.when == "call" or (report.when == "setup" and not report.passed):
        row["outcome"] = "skipped" if report.skipped else ("passed" if report.passed else "FAILED")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = [r for r in _ROWS.values() if r["outcome"] != "running"]
    if not rows:
        return
    terminalreporter.section("faults: scenario → outcome")
    width = max(len(r["scenario"]) for r in rows)
    for r in rows:
        figures = ", ".join(f"{k}={v}" for k, v in r["figures"].items())
        terminalreporter.write_line(f"{r['scenario']:<{width}}  {r['outcome']:<7}  {figures}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
