"""The production shape: docker-compose.yml and the deploy/ files it uses.

No Docker engine is needed: the file is parsed and checked against what the product needs (services, start order,
wiring, health, search attributes) and against the project (the commands it runs exist). The image: test_image.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from infra.embedded import SEARCH_ATTRIBUTES  # what the product registers: compose registers the same
from tests.compose_support import (
    APP_SERVICES,
    COMMANDS,
    COMPLETED,
    DOCKERFILE,
    HEALTHY,
    LONG_RUNNING,
    ONE_SHOT,
    OPERATOR_ENV,
    REQUIRED_VAR,
    ROOT,
    SECRET_KEY,
    START_ORDER,
    MissingVariable,
    argv,
    bind_mounts,
    dependencies,
    interpolate,
    is_one_shot,
    published_ports,
    raw_env,
    read_compose,
    resolved_env,
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return read_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


# ---------------------------------------------------------------- services and how they are started


def test_every_service_of_the_production_shape_is_defined(services: dict[str, Any]) -> None:
    missing = set(LONG_RUNNING + ONE_SHOT) - set(services)
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_the_image_built_from_the_dockerfile(services: dict[str, Any], name: str) -> None:
    build = services[name].get("build")
    context, dockerfile = (
        (build, "Dockerfile")
        if isinstance(build, str)
        else (
            (build or {}).get("context"),
            (build or {}).get("dockerfile", "Dockerfile"),
        )
    )
    assert context in (".", "./"), f"{name} must build the repository's image (build: .), got {build!r}"
    assert (ROOT / dockerfile).resolve() == DOCKERFILE


def test_app_services_share_one_image_tag(services: dict[str, Any]) -> None:
    tags = {interpolate(str(services[name].get("image", "")), OPERATOR_ENV) for name in APP_SERVICES}
    assert len(tags) == 1 and "" not in tags, f"app services should build one tagged image, got {tags}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_their_command(services: dict[str, Any], name: str) -> None:
    assert argv(services[name].get("command")) == COMMANDS[name]
    assert not services[name].get("entrypoint"), f"{name} must not replace the image's entrypoint"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_postgres_and_temporal_in_the_stack(services: dict[str, Any], name: str) -> None:
    env = resolved_env(services[name])

    db = urlsplit(env.get("DATABASE_URL", ""))
    assert db.scheme == "postgresql+asyncpg"
    assert db.hostname == "postgres" and db.hostname in services
    assert db.port == 5432
    assert db.path == "/xptt"
    assert db.username == "xptt"
    assert db.password == OPERATOR_ENV["XPTT_DB_PASSWORD"], "the database password must come from the environment"

    host, _, port = env.get("TEMPORAL_ADDRESS", "").rpartition(":")
    assert host == "temporal" and host in services
    assert port == "7233"
    assert env.get("TEMPORAL_NAMESPACE") == "default"
    assert env.get("TEMPORAL_TASK_QUEUE") == "xptt-cases"
    assert env.get("XPTT_JWT_SECRET") == OPERATOR_ENV["XPTT_JWT_SECRET"]
    assert env.get("LOG_FORMAT") == "json"
    assert env.get("LOG_LEVEL")
    assert urlsplit(env.get("PUBLIC_URL", "")).scheme in ("http", "https")


def test_secrets_have_no_default_and_stop_compose_when_unset(services: dict[str, Any]) -> None:
    checked = 0
    for name, service in services.items():
        for key, value in raw_env(service).items():
            if SECRET_KEY.search(key):
                checked += 1
                assert REQUIRED_VAR.match(value), f"{name}.{key} must be ${{VAR:?message}}, got {value!r}"
    assert checked >= 4, "expected the JWT secret and the database passwords among the environments"

    db_url = raw_env(services["api"])["DATABASE_URL"]
    password = re.search(r"://[^:/@]+:(?P<password>\$\{[^}]+\})@", db_url)
    assert password and REQUIRED_VAR.match(password["password"]), "DATABASE_URL's password must be required"

    env_without_jwt = {k: v for k, v in OPERATOR_ENV.items() if k != "XPTT_JWT_SECRET"}
    with pytest.raises(MissingVariable, match="XPTT_JWT_SECRET"):
        interpolate(raw_env(services["api"])["XPTT_JWT_SECRET"], env_without_jwt)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_a_healthcheck(services: dict[str, Any], name: str) -> None:
    check = services[name].get("healthcheck") or {}
    assert not check.get("disable"), f"{name}: healthcheck disabled"
    test = check.get("test")
    assert test, f"{name} has no healthcheck"
    if isinstance(test, list):
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: malformed healthcheck {test!r}"
    assert str(services[name].get("restart", "no")) != "no", f"{name} should restart when it dies"


@pytest.mark.parametrize("name", ONE_SHOT)
def test_one_shot_services_run_once(services: dict[str, Any], name: str) -> None:
    assert is_one_shot(services[name]), f"{name} is a job: restart must be 'no'"


@pytest.mark.parametrize("name", sorted(START_ORDER))
def test_start_order(services: dict[str, Any], name: str) -> None:
    actual = dependencies(services[name])
    for dependency, condition in START_ORDER[name].items():
        assert actual.get(dependency) == condition, f"{name} must wait for {dependency}: {condition}"


def test_every_dependency_condition_can_be_met(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, condition in dependencies(service).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            target = services[dependency]
            if condition == HEALTHY:
                assert target.get("healthcheck"), f"{name} waits for {dependency} healthy, it has no check"
            elif condition == COMPLETED:
                assert is_one_shot(target), f"{name} waits for {dependency} to complete, it never ends"


def test_worker_and_api_wait_for_the_search_attributes(services: dict[str, Any]) -> None:
    for name in ("worker", "api"):
        assert dependencies(services[name]).get("temporal-setup") == COMPLETED


# ---------------------------------------------------------------- individual services


def test_postgres_keeps_its_data_and_creates_the_app_and_temporal_roles(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    assert "pg_isready" in json.dumps(postgres["healthcheck"]["test"])

    data_volumes = [
        str(v).split(":")[0]
        for v in postgres.get("volumes") or []
        if str(v).split(":")[1:2] == ["/var/lib/postgresql/data"]
    ]
    assert data_volumes, "postgres data directory must be on a volume"
    assert data_volumes[0] in (compose.get("volumes") or {}), "the data volume must be a declared named volume"

    init_scripts = [path for path, target in bind_mounts(postgres) if target.startswith("/docker-entrypoint-initdb.d")]
    assert init_scripts, "postgres needs its init scripts mounted"
    sql = "\n".join(p.read_text(encoding="utf-8") for d in init_scripts for p in sorted(d.glob("*.sh")))

    db = urlsplit(resolved_env(services["api"])["DATABASE_URL"])
    assert re.search(rf"CREATE ROLE {db.username}\b[^;]*LOGIN", sql)
    assert re.search(rf"CREATE DATABASE {db.path.lstrip('/')} OWNER {db.username}\b", sql)
    temporal_user = raw_env(services["temporal"])["POSTGRES_USER"]
    assert re.search(rf"CREATE ROLE {temporal_user}\b[^;]*CREATEDB", sql)
    init_env = raw_env(postgres)
    for variable in re.findall(r'"\$\{?([A-Z_]+_PASSWORD)', sql):
        assert variable in init_env, f"init script reads {variable}, postgres does not receive it"


def test_temporal_runs_on_postgres(services: dict[str, Any]) -> None:
    temporal = services["temporal"]
    env = raw_env(temporal)
    assert str(temporal["image"]).startswith("temporalio/auto-setup:")
    assert env.get("DB") == "postgres12"
    assert env.get("POSTGRES_SEEDS") == "postgres"
    assert env.get("DB_PORT") == "5432"
    assert "cluster health" in json.dumps(temporal["healthcheck"]["test"])
    config = env.get("DYNAMIC_CONFIG_FILE_PATH")
    if config:
        mounted = {target: path for path, target in bind_mounts(temporal)}
        target = config if config.startswith("/") else f"/etc/temporal/{config}"
        assert target in mounted, f"dynamic config {config} is not mounted"
        assert isinstance(yaml.safe_load(mounted[target].read_text(encoding="utf-8")), dict)


def test_temporal_setup_registers_every_search_attribute_with_its_type(services: dict[str, Any]) -> None:
    setup = services["temporal-setup"]
    assert str(setup["image"]).startswith("temporalio/admin-tools:")
    assert resolved_env(setup).get("TEMPORAL_ADDRESS") == "temporal:7233"

    run = " ".join(argv(setup.get("entrypoint")) + argv(setup.get("command")))
    scripts = [path for path, target in bind_mounts(setup) if target in run]
    text = run + "\n" + "\n".join(p.read_text(encoding="utf-8") for p in scripts)
    assert "temporal operator search-attribute create" in text

    registered: dict[str, str] = {}
    for line in text.splitlines():
        if "search-attribute create" in line:
            for name, kind in re.findall(r"--name[ =]+(\w+)\s+--type[ =]+(\w+)", line):
                registered[name] = kind
    assert registered == SEARCH_ATTRIBUTES


def test_temporal_ui_points_at_the_frontend(services: dict[str, Any]) -> None:
    ui = services["temporal-ui"]
    assert str(ui["image"]).startswith("temporalio/ui:")
    assert resolved_env(ui).get("TEMPORAL_ADDRESS") == "temporal:7233"
    assert any(published == "8233" and target == "8080" for _, published, target in published_ports(ui))


def host_ports(published: str) -> range:
    """A published port ("8000") or range ("8000-8001") as the host ports it spans."""
    low, _, high = published.partition("-")
    return range(int(low), int(high or low) + 1)


def test_api_publishes_port_8000_and_one_more_host_port_per_replica(services: dict[str, Any]) -> None:
    api = services["api"]
    ports = [(published, target) for _, published, target in published_ports(api)]
    assert len(ports) == 1 and ports[0][1] == "8000", ports
    host = host_ports(ports[0][0])
    assert host.start == 8000
    # Each replica binds a host port of its own from the range: as many ports as replicas, or the next one clashes.
    assert len(host) >= api["deploy"]["replicas"], f"{ports[0][0]} for {api['deploy']['replicas']} replicas"


def test_api_healthcheck_asks_the_api(services: dict[str, Any]) -> None:
    check = json.dumps(services["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in check
    assert "curl" not in check, "python:3.11-slim has no curl"


REPLICATED = {"worker": 2, "api": 2}  # docs/deployment.md, "Running several workers and API processes"


@pytest.mark.parametrize("name", sorted(REPLICATED))
def test_the_worker_and_the_api_run_as_several_replicas(services: dict[str, Any], name: str) -> None:
    service = services[name]
    assert (service.get("deploy") or {}).get("replicas") == REPLICATED[name]
    assert "container_name" not in service, "a fixed container name cannot be given to two replicas"
    for _, published, _ in published_ports(service):
        assert len(host_ports(published)) >= REPLICATED[name], f"{name}: {published} clashes between replicas"


def test_the_worker_serves_no_port(services: dict[str, Any]) -> None:
    assert not services["worker"].get("ports")


@pytest.mark.parametrize("name", sorted({*LONG_RUNNING, *ONE_SHOT} - set(REPLICATED)))
def test_the_other_services_run_once(services: dict[str, Any], name: str) -> None:
    """One PostgreSQL, one Temporal, one UI, and the one-shot jobs once (two migrations at once would race)."""
    assert (services[name].get("deploy") or {}).get("replicas", 1) == 1


def test_files_mounted_from_the_repository_exist(services: dict[str, Any]) -> None:
    mounts = [(name, path) for name, service in services.items() for path, _ in bind_mounts(service)]
    assert mounts, "expected deploy/ files to be mounted"
    for name, path in mounts:
        assert path.exists(), f"{name} mounts {path.relative_to(ROOT)}, which does not exist"


@pytest.mark.parametrize("script", sorted((ROOT / "deploy").rglob("*.sh")), ids=lambda p: p.name)
def test_deploy_scripts_are_valid_shell(script: Path) -> None:
    shebang = script.read_text(encoding="utf-8").splitlines()[0]
    shell = "bash" if "bash" in shebang else "sh"
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not available")
    result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- the commands exist in the project


def test_worker_entry_point_exists(services: dict[str, Any]) -> None:
    script = argv(services["worker"]["command"])[1]
    assert (ROOT / script).is_file(), f"worker runs {script}, not found at the repository root"


def test_api_module_exists(services: dict[str, Any]) -> None:
    command = argv(services["api"]["command"])
    module, _, attribute = command[1].partition(":")
    assert attribute, "uvicorn needs module:attribute"
    assert (ROOT / Path(*module.split("."))).with_suffix(".py").is_file(), f"{module} not found"


def test_migrate_runs_the_declared_console_script(services: dict[str, Any]) -> None:
    program = argv(services["migrate"]["command"])[0]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    scripts = pyproject["project"].get("scripts", {})
    assert program in scripts, f"{program} is not declared in [project.scripts]"
    module = scripts[program].partition(":")[0]
    module_path = ROOT / Path(*module.split("."))
    assert module_path.with_suffix(".py").is_file() or (module_path / "__init__.py").is_file(), (
        f"console script {program} points at {module}, which does not exist"
    )


# ---------------------------------------------------------------- only the product's front doors act


def networks_of(service: dict[str, Any]) -> list[str]:
    """The service's networks, list or mapping syntax (none named: compose's `default`)."""
    return list(service.get("networks") or ["default"])


def is_internal(compose: dict[str, Any], network: str) -> bool:
    return bool(((compose.get("networks") or {}).get(network) or {}).get("internal"))


@pytest.mark.parametrize("name", ["temporal", "postgres"])
def test_the_temporal_frontend_and_postgres_are_published_nowhere_and_sit_on_internal_networks(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    assert not service.get("ports"), f"{name} must publish no port: {service.get('ports')}"
    assert service.get("network_mode") is None, f"{name} must not share the host's network"
    networks = networks_of(service)
    assert networks and all(is_internal(compose, n) for n in networks), (
        f"{name} must be on internal networks only (internal: true), got {networks}"
    )


@pytest.mark.parametrize("name", ["temporal-setup", "temporal-ui", "worker", "api"])
def test_the_services_that_use_temporal_reach_it_on_its_network(compose: dict[str, Any], name: str) -> None:
    shared = set(networks_of(compose["services"][name])) & set(networks_of(compose["services"]["temporal"]))
    assert shared, f"{name} shares no network with temporal"


def test_the_temporal_ui_is_read_only_behind_sign_in_and_on_loopback(services: dict[str, Any]) -> None:
    ui = services["temporal-ui"]
    env = resolved_env(ui)
    assert env.get("TEMPORAL_DISABLE_WRITE_ACTIONS") == "true"
    assert env.get("TEMPORAL_AUTH_ENABLED") == "true"
    assert env.get("TEMPORAL_AUTH_PROVIDER_URL") == OPERATOR_ENV["XPTT_OIDC_ISSUER"]
    assert env.get("TEMPORAL_AUTH_CLIENT_ID") == OPERATOR_ENV["TEMPORAL_UI_OIDC_CLIENT_ID"]
    assert env.get("TEMPORAL_AUTH_CLIENT_SECRET") == OPERATOR_ENV["TEMPORAL_UI_OIDC_CLIENT_SECRET"]
    assert env.get("TEMPORAL_AUTH_CALLBACK_URL", "").endswith("/auth/sso/callback")
    for variable in ("XPTT_OIDC_ISSUER", "TEMPORAL_UI_OIDC_CLIENT_ID", "TEMPORAL_UI_OIDC_CLIENT_SECRET"):
        without = {k: v for k, v in OPERATOR_ENV.items() if k != variable}
        with pytest.raises(MissingVariable, match=variable):
            {k: interpolate(v, without) for k, v in raw_env(ui).items()}
    published = published_ports(ui)
    assert published and all(host == "127.0.0.1" for host, _, _ in published), published


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_app_services_require_the_actor_key_ring(services: dict[str, Any], name: str) -> None:
    raw = raw_env(services[name]).get("XPTT_ACTOR_KEYS", "")
    assert REQUIRED_VAR.match(raw), f"{name}.XPTT_ACTOR_KEYS must be ${{XPTT_ACTOR_KEYS:?message}}, got {raw!r}"
    assert resolved_env(services[name])["XPTT_ACTOR_KEYS"] == OPERATOR_ENV["XPTT_ACTOR_KEYS"]


def test_the_deployment_names_how_the_frontend_authenticates_its_clients_in_production() -> None:
    text = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    section = text.split("## The Temporal frontend", 1)[1].split("\n## ", 1)[0]
    assert "Production requirement" in section and "mTLS" in section and "authorizer" in section
