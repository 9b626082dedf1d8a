"""`xptt dev up`: the whole stack on one machine, from wheels, with data kept under var/ across restarts.

PostgreSQL (embedded, unless DATABASE_URL is set) → migrations → seed of one province and demo officials →
Temporal dev server (file database, search attributes; its UI read-only behind cli/dev_ui.py) → worker and API →
the demo round → URLs and tokens. The processes are infra/stack.py's: Ctrl-C, SIGTERM or SIGHUP stops everything
(also when started in the background, where the shell leaves SIGINT ignored).

The secrets it makes once and keeps under var/ (the JWT secret, the actor key ring) and the demo tokens it writes
there are files only their owner reads (0600).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import console, fail
from db.session import make_engine, make_session_factory
from domain.rounds import Round, rounds_of
from domain.rulesets import rule_set_in_force
from infra.embedded import free_port, port_open
from infra.processes import StackError, Stopped, listens
from infra.settings import Settings, get_settings
from infra.stack import Launcher, chosen_port
from infra.temporal import connect
from infra.tokens import issue_token, utcnow
from services.rounds.opening import open_round
from services.seed import demo_officials, first_unit, seed_officials, seed_units

app = typer.Typer(help="The development stack on this machine.", no_args_is_help=True)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, a file only its owner reads and writes (0600) from its first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)  # a file an earlier run left readable to others
        out.write(text)


def kept_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept at `path`, made once (0600)."""
    if not path.exists():
        write_private(path, make())
    path.chmod(0o600)
    return path.read_text().strip()


def jwt_secret(var: Path) -> str:
    """XPTT_JWT_SECRET if set, else a secret generated once and kept in var/ (so tokens survive restarts)."""
    if os.environ.get("XPTT_JWT_SECRET"):
        return os.environ["XPTT_JWT_SECRET"]
    return kept_secret(var / "jwt-secret", lambda: secrets.token_urlsafe(48))


def actor_keys(var: Path) -> str:
    """XPTT_ACTOR_KEYS if set, else a ring of one key generated once and kept in var/actor-keys: the API signs
    officials' actions with it and the worker checks them (domain/actor_assertion.py)."""
    if os.environ.get("XPTT_ACTOR_KEYS"):
        return os.environ["XPTT_ACTOR_KEYS"]
    return kept_secret(var / "actor-keys", lambda: f"dev1:{secrets.token_urlsafe(48)}")


def demo_round(today: date) -> Round:
    """The first round of the rule set in force whose assessment has not ended yet."""
    rule_set = rule_set_in_force(today)
    for rnd in rounds_of(rule_set.id, today.year - 1, today.year + 5):
        if rnd.assessment_end >= today:
            return rnd
    raise RuntimeError(f"no round of {rule_set.id} ahead of {today}")


async def _seed_and_open(
    settings: Settings, province: str, rnd: Round | None
) -> tuple[list[tuple[str, str, str]], int]:
    engine = make_engine(settings.database_url, pool_size=4)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await seed_units(session, province)
            unit = await first_unit(session, province)
            officials = demo_officials(province, unit)
            await seed_officials(session, officials, province)
        n_cases = 0
        if rnd is not None:
            client = await connect(settings)
            opened = await open_round(
                client, sessions, round_id=rnd.id, province_code=province, task_queue=settings.task_queue
            )
            n_cases = len(opened.cases)
    finally:
        await engine.dispose()
    now = utcnow()
    tokens = [
        (
            o.role.value,
            o.id,
            issue_token(o.id, secret=settings.jwt_secret, issuer=settings.jwt_issuer, now=now, ttl=timedelta(hours=12)),
        )
        for o in officials
    ]
    return tokens, n_cases


def _refuse_taken_ports(ports: list[tuple[int, str]]) -> None:
    for port, what in ports:
        if port and port_open("127.0.0.1", port):
            fail(f"port {port} ({what}) is already in use: stop what holds it or choose another port", 2)


def _start(
    launcher: Launcher, base: Settings, var: Path, *, temporal_port: int, ui_port: int, api_port: int, mail: bool
) -> Settings:
    """PostgreSQL, migrations, Temporal, the mail sink (`mail`), the worker and the API; the settings they run with."""
    database_url = base.database_url
    if not database_url:
        console.print("starting PostgreSQL (embedded) under", var / "postgres")
        database_url = launcher.start_postgres(pgdata=var / "postgres")
    settings = base.model_copy(
        update={
            "database_url": database_url,
            "jwt_secret": jwt_secret(var),
            "actor_keys": actor_keys(var),
            "temporal_address": f"127.0.0.1:{temporal_port}",
            "api_port": api_port,
        }
    )
    console.print("applying migrations")
    launcher.migrate(settings.database_url)
    launcher.env.update(
        DATABASE_URL=settings.database_url,
        XPTT_JWT_SECRET=settings.jwt_secret,
        XPTT_ACTOR_KEYS=settings.actor_keys,
        TEMPORAL_TASK_QUEUE=settings.task_queue,
        LOG_FORMAT="json",
    )
    console.print("starting Temporal (dev server, file database", var / "temporal.db", ")")
    own_ui = free_port()  # the dev server's UI, which can write: reached through the read-only gateway only
    launcher.temporal(port=temporal_port, ui_port=own_ui, db_file=var / "temporal.db")
    gateway = [sys.executable, "-m", "cli.dev_ui", "--port", str(ui_port), "--upstream", f"127.0.0.1:{own_ui}"]
    launcher.spawn("temporal-ui", gateway, ready=listens(ui_port)).wait_ready_sync(30)
    if mail:
        launcher.mail_sink(var / "mail", port=chosen_port(base.mail_sink_port), wait=False)
        settings = settings.model_copy(update={"mail_sink_port": int(launcher.env["SMTP_PORT"])})
    launcher.worker(wait=False)
    launcher.api(port=api_port)
    return settings


@app.command("up")
def up(
    province: str = typer.Option(None, help="province to seed and open a round for (default XPTT_DEMO_PROVINCE)"),
    temporal_port: int = typer.Option(7233, help="Temporal frontend port (0: a free one)"),
    ui_port: int = typer.Option(8233, help="Temporal UI port (0: a free one)"),
    api_port: int = typer.Option(None, help="API port (default API_PORT or 8000; 0: a free one)"),
    open_demo_round: bool = typer.Option(
        True, "--open-round/--no-open-round", help="open the province's current round (one case per unit)"
    ),
) -> None:
    """Start PostgreSQL, Temporal, the worker and the API; seed a province; open its round; print URLs and tokens."""
    base = get_settings()
    var = base.var_dir.resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    province = province or base.demo_province
    api_port = base.api_port if api_port is None else api_port
    mail = "SMTP_HOST" not in os.environ  # mail goes to the local sink unless a real server is configured
    _refuse_taken_ports(
        [(temporal_port, "Temporal"), (ui_port, "Temporal UI"), (api_port, "API")]
        + ([(base.mail_sink_port, "mail sink")] if mail else [])
    )
    temporal_port, ui_port, api_port = chosen_port(temporal_port), chosen_port(ui_port), chosen_port(api_port)

    launcher = Launcher(var / "logs")
    launcher.stop_on_signals()  # SIGINT (even when started in the background), SIGTERM, SIGHUP: stop everything
    try:
        settings = _start(
            launcher, base, var, temporal_port=temporal_port, ui_port=ui_port, api_port=api_port, mail=mail
        )
        if open_demo_round:
            rnd = demo_round(date.today())
            console.print(f"seeding province {province} and opening round {rnd.id}")
        else:
            rnd = None
            console.print(f"seeding province {province}")
        tokens, n_cases = asyncio.run(_seed_and_open(settings, province, rnd))
        _print_banner(settings, api_port, ui_port, rnd, n_cases, tokens, var)
        launcher.watch()
    except Stopped as stopped:
        console.print(f"\nstopping ({stopped})")
    except StackError as exc:
        fail(escape(str(exc)))
    finally:
        launcher.stop()
        console.print("stopped; data stays in", var)


def _print_banner(
    settings: Settings,
    api_port: int,
    ui_port: int,
    rnd: Round | None,
    n_cases: int,
    tokens: list[tuple[str, str, str]],
    var: Path,
) -> None:
    api = f"http://127.0.0.1:{api_port}"
    console.rule("[bold]xptt is running")
    console.print(f"API          {api}   (OpenAPI: {api}/docs)")
    console.print(f"Temporal UI  http://127.0.0.1:{ui_port} (read-only)")
    console.print(f"Temporal     {settings.temporal_address} (task queue {settings.task_queue})")
    console.print(f"PostgreSQL   {settings.database_url}")
    console.print(f"Round        {rnd.id}: {n_cases} cases" if rnd else "Round        not opened (--no-open-round)")
    console.print(f"Logs         {var / 'logs'}")
    console.print(f"Actor keys   {var / 'actor-keys'} (XPTT_ACTOR_KEYS for `xptt` commands that act on cases)")
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
    write_private(var / "demo-tokens.env", "\n".join(lines) + "\n")
    console.print("Bearer tokens (also in", var / "demo-tokens.env", "):")
    for line in lines:
        console.print("  " + line, soft_wrap=True, highlight=False)
    officer_token = tokens[0][2]
    console.print("Try:", highlight=False)
    console.print(
        f'  curl -H "Authorization: Bearer {officer_token}" "{api}/v1/tasks?mine=true"', soft_wrap=True, highlight=False
    )
    console.print("Ctrl-C stops everything; data stays under", var)
