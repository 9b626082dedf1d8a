"""domain/ decides and nothing else: no Temporal, no database, no network, no clock (time is a parameter)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN_MODULES = (
    "temporalio",
    "sqlalchemy",
    "asyncpg",
    "psycopg",
    "psycopg2",
    "alembic",
    "httpx",
    "requests",
    "aiohttp",
    "urllib.request",
    "http.client",
    "socket",
    "ssl",
    "smtplib",
    "aiosmtplib",
    "fastapi",
    "uvicorn",
)
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "localtime"),
    ("uuid", "uuid1"),
    ("uuid", "uuid4"),
}


def _forbidden(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES)


def violations(source: str) -> list[str]:
    """What a module's source imports or calls that the domain may not."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _forbidden(node.module):
                found.append(f"from {node.module} import ...")
            names = [a.name for a in node.names if _forbidden(f"{node.module}.{a.name}")]
            found += [f"from {node.module} import {name}" for name in names]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (name, node.func.attr) in FORBIDDEN_CALLS:
                found.append(f"{name}.{node.func.attr}() at line {node.lineno}")
    return found


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_no_temporal_database_network_nor_reads_the_clock(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import temporalio.workflow",
        "from sqlalchemy.orm import Session",
        "import socket",
        "from urllib import request",
        "import httpx as h",
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.date.today()",
        "import time\nt = time.time()",
    ],
)
def test_the_scanner_catches_what_it_forbids(source: str) -> None:
    assert violations(source)


def test_the_scanner_lets_pure_code_through() -> None:
    assert violations("from datetime import date, datetime\nimport holidays\nd = date(2026, 1, 1)") == []
