"""`xptt dev up`: the whole stack on one machine, from wheels, with data kept under var/ across restarts.

PostgreSQL (embedded, unless DATABASE_URL is set) → migrations → seed of one province and demo officials →
Temporal dev server (file database, UI, search attributes) → worker and API → the demo round → URLs and tokens.
Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, fail
from db.migrate import upgrade
from db.session import make_engine, make_session_factory
from domain.rounds import Round, rounds_of
from domain.rulesets import rule_set_in_force
from infra.embedded import port_open, start_postgres, start_temporal, stop_postgres
from infra.settings import Settings, get_settings
from infra.temporal import connect
from infra.tokens import issue_token, utcnow
from services.rounds import open_round
from services.seed import demo_officials, first_unit, seed_officials, seed_units

app = typer.Typer(help="The development stack on this machine.", no_args_is_help=True)


def jwt_secret(var: Path) -> str:
    """XPTT_JWT_SECRET if set, else a secret generated once and kept in var/ (so tokens survive restarts)."""
    if os.environ.get("XPTT_JWT_SECRET"):
        return os.environ["XPTT_JWT_SECRET"]
    path = var / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def demo_round(today: date) -> Round:
    """The first round of the rule set in force whose assessment has not ended yet."""
    rule_set = rule_set_in_force(today)
    for rnd in rounds_of(rule_set.id, today.year - 1, today.year + 5):
        if rnd.assessment_end >= today:
            return rnd
    raise RuntimeError(f"no round of {rule_set.id} ahead of {today}")


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"the {what} exited with code {proc.returncode} while starting; see its log under var/logs/")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    fail(f"the {what} did not answer {url} within {timeout:.0f} s")


def stop(procs: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    for _, proc in reversed(procs):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for name, proc in reversed(procs):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            console.print(f"{name} did not stop in 15 s; killing it")
            os.killpg(proc.pid, signal.SIGKILL)


async def _seed_and_open(settings: Settings, province: str, rnd: Round) -> tuple[list[tuple[str, str, str]], int]:
    engine = make_engine(settings.database_url, pool_size=4)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await seed_units(session, province)
            unit = await first_unit(session, province)
            officials = demo_officials(province, unit)
            await seed_officials(session, officials, province)
        client = await connect(settings)
        opened = await open_round(
            client, sessions, round_id=rnd.id, province_code=province, task_queue=settings.task_queue
        )
    finally:
        await engine.dispose()
    now = utcnow()
    tokens = [
        (
            o.role.value,
            o.id,
            issue_token(o.id, secret=settings.jwt_secret, issuer=settings.jwt_issuer, now=now, ttl=timedelta(days=30)),
        )
        for o in officials
    ]
    return tokens, len(opened.cases)


@app.command("up")
def up(
    province: str = typer.Option(None, help="province to seed and open a round for (default XPTT_DEMO_PROVINCE)"),
    temporal_port: int = typer.Option(7233, help="Temporal frontend port"),
    ui_port: int = typer.Option(8233, help="Temporal UI port"),
    api_port: int = typer.Option(None, help="API port (default API_PORT or 8000)"),
) -> None:
    """Start PostgreSQL, Temporal, the worker and the API; seed a province; open its round; print URLs and tokens."""
    base = get_settings()
    var = base.var_dir.resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    province = province or base.demo_province
    api_port = api_port or base.api_port
    for port, what in ((temporal_port, "Temporal"), (ui_port, "Temporal UI"), (api_port, "API")):
        if port_open("127.0.0.1", port):
            fail(f"port {port} ({what}) is already in use: stop what holds it or choose another port", 2)

    database_url = base.database_url
    pg_server = None
    if not database_url:
        console.print("starting PostgreSQL (embedded) under", var / "postgres")
        pg_server, database_url = start_postgres(var / "postgres", delete_on_exit=False)
    settings = base.model_copy(
        update={
            "database_url": database_url,
            "jwt_secret": jwt_secret(var),
            "temporal_address": f"127.0.0.1:{temporal_port}",
            "api_port": api_port,
        }
    )
    console.print("applying migrations")
    upgrade(settings.database_url)

    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "XPTT_JWT_SECRET": settings.jwt_secret,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_TASK_QUEUE": settings.task_queue,
        "LOG_FORMAT": "json",
    }
    if "SMTP_HOST" not in os.environ:  # mail goes to the local sink unless a real server is configured
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(settings.mail_sink_port), SMTP_TLS="none")

    def spawn(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(var / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((name, proc))
        return proc

    try:
        console.print("starting Temporal (dev server, file database", var / "temporal.db", ")")
        procs.append(
            (
                "temporal",
                start_temporal(
                    var / "temporal.db", port=temporal_port, ui_port=ui_port, log_file=var / "logs" / "temporal.log"
                ),
            )
        )
        if "SMTP_HOST" not in os.environ:
            sink = ["--port", str(settings.mail_sink_port), "--dir", str(var / "mail")]
            spawn("mail", [sys.executable, "-m", "notify.sink", *sink])
        spawn("worker", [sys.executable, "-m", "worker"])
        api = spawn(
            "api",
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(api_port)],
        )
        wait_http(f"http://127.0.0.1:{api_port}/healthz", api, "API")
        rnd = demo_round(date.today())
        console.print(f"seeding province {province} and opening round {rnd.id}")
        tokens, n_cases = asyncio.run(_seed_and_open(settings, province, rnd))
        _print_banner(settings, api_port, ui_port, rnd, n_cases, tokens, var)
        while True:
            for name, proc in procs:
                if proc.poll() is not None:
                    fail(f"{name} exited with code {proc.returncode}; see {var / 'logs' / (name + '.log')}")
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("\nstopping")
    finally:
        stop(procs)
        if pg_server is not None:
            console.print("stopping PostgreSQL; data stays in", var / "postgres")
            stop_postgres(pg_server)


def _print_banner(
    settings: Settings,
    api_port: int,
    ui_port: int,
    rnd: Round,
    n_cases: int,
    tokens: list[tuple[str, str, str]],
    var: Path,
) -> None:
    api = f"http://127.0.0.1:{api_port}"
    console.rule("[bold]xptt is running")
    console.print(f"API          {api}   (OpenAPI: {api}/docs)")
    console.print(f"Temporal UI  http://127.0.0.1:{ui_port}")
    console.print(f"Temporal     {settings.temporal_address} (task queue {settings.task_queue})")
    console.print(f"PostgreSQL   {settings.database_url}")
    console.print(f"Round        {rnd.id}: {n_cases} cases")
    console.print(f"Logs         {var / 'logs'}")
    if "SMTP_HOST" in os.environ:
        console.print(f"Mail         SMTP {settings.smtp_host}:{settings.smtp_port}")
    else:
        sink = f"127.0.0.1:{settings.mail_sink_port}"
        console.print(f"Mail         SMTP sink {sink} → {var / 'mail'} (one .eml file per message)")
    table = Table("role", "official", show_lines=False)
    for role, official, _ in tokens:
        table.add_row(role, official)
    console.print(table)
    lines = [f"XPTT_TOKEN_{role.upper()}={token}" for role, _, token in tokens]
    (var / "demo-tokens.env").write_text("\n".join(lines) + "\n")
    console.print("Bearer tokens (also in", var / "demo-tokens.env", "):")
    for line in lines:
        console.print("  " + line, soft_wrap=True, highlight=False)
    officer_token = tokens[0][2]
    console.print("Try:", highlight=False)
    console.print(
        f'  curl -H "Authorization: Bearer {officer_token}" "{api}/v1/tasks?mine=true"', soft_wrap=True, highlight=False
    )
    console.print("Ctrl-C stops everything; data stays under", var)
