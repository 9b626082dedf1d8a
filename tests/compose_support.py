"""Reading the production shape (docker-compose.yml, the Dockerfile, .dockerignore) for the tests that check it:
compose's variable interpolation, each service's environment, command, dependencies, ports and mounts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from infra.stack import API_LIMITS

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_SERVICES = ("migrate", "worker", "api")
LONG_RUNNING = ("postgres", "temporal", "temporal-ui", "worker", "api")
ONE_SHOT = ("temporal-setup", "migrate")

HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
START_ORDER = {
    "temporal": {"postgres": HEALTHY},
    "temporal-setup": {"temporal": HEALTHY},
    "temporal-ui": {"temporal": HEALTHY},
    "migrate": {"postgres": HEALTHY},
    "worker": {"temporal": HEALTHY, "migrate": COMPLETED},
    "api": {"temporal": HEALTHY, "migrate": COMPLETED},
}

COMMANDS = {
    "migrate": ["xptt", "db", "upgrade"],
    "worker": ["python", "worker.py"],
    "api": ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", *API_LIMITS],
}


# What an operator's `.env` would hold; used to resolve ${...} the way `docker compose` does.
OPERATOR_ENV = {
    "XPTT_JWT_SECRET": "j" * 64,
    "XPTT_ACTOR_KEYS": "k1:" + "a" * 64,
    "XPTT_OIDC_ISSUER": "https://sso.example.gov.vn/realms/xptt",
    "TEMPORAL_UI_OIDC_CLIENT_ID": "temporal-ui",
    "TEMPORAL_UI_OIDC_CLIENT_SECRET": "temporal-ui-client-secret",
    "POSTGRES_PASSWORD": "pg-superuser-secret",
    "XPTT_DB_PASSWORD": "app-db-secret",
    "TEMPORAL_DB_PASSWORD": "temporal-db-secret",
}

_VAR = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
SECRET_KEY = re.compile(r"(PASSWORD|PWD|SECRET)$")
REQUIRED_VAR = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$")


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}."""

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg = m.group("op"), m.group("arg") or ""
        present = name in env
        set_and_nonempty = present and env[name] != ""
        if op in (":?", "?") and not (set_and_nonempty if op == ":?" else present):
            raise MissingVariable(f"{name}: {arg}")
        if op == ":-" and not set_and_nonempty:
            return arg
        if op == "-" and not present:
            return arg
        return env.get(name, "")

    return _VAR.sub(repl, value)


def raw_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {k: v for k, v in pairs}
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def resolved_env(service: dict[str, Any]) -> dict[str, str]:
    return {k: interpolate(v, OPERATOR_ENV) for k, v in raw_env(service).items()}


def argv(value: Any) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def published_ports(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host_ip, published, target) for each port, short or long syntax."""
    out = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            out.append((str(port.get("host_ip", "")), str(port.get("published", "")), str(port["target"])))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            out.append(("", parts[0], parts[1]))
        else:
            out.append(("", "", parts[0]))
    return out


def bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str]]:
    """(host path, container path) of the service's bind mounts from the repository."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = str(volume.get("source", "")), str(volume.get("target", ""))
        else:
            source, _, rest = str(volume).partition(":")
            target = rest.split(":")[0]
        if source.startswith(("./", "../", "/")):
            mounts.append(((ROOT / source).resolve(), target))
    return mounts


def is_one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def read_compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), "docker-compose.yml is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data
