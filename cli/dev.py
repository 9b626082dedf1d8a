"""`xptt dev up`: the whole stack on one machine, from wheels, with data kept under var/ across restarts.

PostgreSQL (embedded, unless DATABASE_URL is set) → migrations → Temporal dev server (file database, search
attributes; its UI read-only behind cli/dev_ui.py) → worker and API → the demo (cli/dev_demo.py): two provinces with
their demo officials, the current round open in both, on the legal calendar in one and as a rehearsal in the other →
URLs and tokens. The processes are infra/stack.py's: Ctrl-C, SIGTERM or SIGHUP stops everything
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
from pathlib import Path

import typer
from rich.markup import escape

from cli.common import T, console, fail
from cli.dev_demo import (
    Demo,
    DemoError,
    demo_provinces,
    demo_round,
    round_lines,
    set_up,
    token_heading,
    tokens_env,
)
from infra.clock import today_vn
from infra.embedded import free_port, port_open
from infra.processes import StackError, Stopped, listens
from infra.settings import Settings, get_settings
from infra.stack import Launcher, chosen_port
from services.seed import SeedError

app = typer.Typer(help="The development stack on this machine.", no_args_is_help=True)

# Where the worker serves the Temporal SDK's metrics for Prometheus (WORKER_METRICS_ADDRESS; empty: not at all).
DEV_WORKER_METRICS = "127.0.0.1:9464"


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


def worker_metrics_address() -> str:
    """WORKER_METRICS_ADDRESS as set (empty: none), else DEV_WORKER_METRICS."""
    return os.environ.get("WORKER_METRICS_ADDRESS", DEV_WORKER_METRICS)


def _refuse_taken_ports(ports: list[tuple[int, str]]) -> None:
    for port, what in ports:
        if port and port_open("127.0.0.1", port):
            fail(T("cli_port_taken", port=port, what=what), 2)


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
            "worker_metrics_address": worker_metrics_address(),
        }
    )
    console.print("applying migrations")
    launcher.migrate(settings.database_url)
    launcher.env.update(
        DATABASE_URL=settings.database_url,
        XPTT_JWT_SECRET=settings.jwt_secret,
        XPTT_ACTOR_KEYS=settings.actor_keys,
        TEMPORAL_TASK_QUEUE=settings.task_queue,
        WORKER_METRICS_ADDRESS=settings.worker_metrics_address,
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
        True,
        "--open-round/--no-open-round",
        help="open the current round in the province and, as a rehearsal, in XPTT_DEMO_REHEARSAL_PROVINCE",
    ),
) -> None:
    """Start PostgreSQL, Temporal, the worker and the API; seed two provinces; open the round in both (the second as a
    rehearsal, its assessment window open now); print URLs and tokens."""
    base = get_settings()
    try:
        provinces = demo_provinces(province or base.demo_province, base.demo_rehearsal_province)
    except DemoError as exc:
        fail(escape(str(exc)), 2)
    var = base.var_dir.resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    api_port = base.api_port if api_port is None else api_port
    mail = "SMTP_HOST" not in os.environ  # mail goes to the local sink unless a real server is configured
    _refuse_taken_ports(
        [(temporal_port, "Temporal"), (ui_port, "Temporal UI"), (api_port, "API")]
        + ([(base.mail_sink_port, "mail sink")] if mail else [])
        + ([(int(worker_metrics_address().rsplit(":", 1)[1]), "worker metrics")] if worker_metrics_address() else [])
    )
    temporal_port, ui_port, api_port = chosen_port(temporal_port), chosen_port(ui_port), chosen_port(api_port)

    launcher = Launcher(var / "logs")
    launcher.stop_on_signals()  # SIGINT (even when started in the background), SIGTERM, SIGHUP: stop everything
    try:
        settings = _start(
            launcher, base, var, temporal_port=temporal_port, ui_port=ui_port, api_port=api_port, mail=mail
        )
        rnd = demo_round(today_vn()) if open_demo_round else None
        codes = " and ".join(p.code for p in provinces)
        console.print(f"seeding provinces {codes}" + (f" and opening round {rnd.id} in both" if rnd else ""))
        demos = asyncio.run(set_up(settings, provinces, rnd))
        _print_banner(settings, api_port, ui_port, demos, var)
        launcher.watch()
    except Stopped as stopped:
        console.print(f"\nstopping ({stopped})")
    except (StackError, SeedError) as exc:  # a stack part that did not start; a demo file that did not import
        fail(escape(str(exc)))
    finally:
        launcher.stop()
        console.print("stopped; data stays in", var)


def _print_banner(settings: Settings, api_port: int, ui_port: int, demos: list[Demo], var: Path) -> None:
    """The URLs, the rounds (in Vietnamese: which keeps the legal calendar, which is the rehearsal) and the demo
    tokens, the rehearsal province's first (its officials have tasks at hand; also in var/demo-tokens.env)."""
    api = f"http://127.0.0.1:{api_port}"
    console.rule("[bold]xptt is running")
    console.print(f"API          {api}   (OpenAPI: {api}/docs)")
    console.print(f"Web pages    {api}/web/signin (paste a token below)")
    console.print(f"Temporal UI  http://127.0.0.1:{ui_port} (read-only)")
    console.print(f"Temporal     {settings.temporal_address} (task queue {settings.task_queue})")
    console.print(f"Metrics      {api}/metrics (Prometheus; docs/observability.md)")
    if settings.worker_metrics_address:
        console.print(f"Worker       http://{settings.worker_metrics_address}/metrics (Temporal SDK metrics)")
    console.print(f"PostgreSQL   {settings.database_url}")
    console.print(f"Logs         {var / 'logs'}")
    console.print(f"Actor keys   {var / 'actor-keys'} (XPTT_ACTOR_KEYS for `xptt` commands that act on cases)")
    if "SMTP_HOST" in os.environ:
        console.print(f"Mail         SMTP {settings.smtp_host}:{settings.smtp_port}")
    else:
        sink = f"127.0.0.1:{settings.mail_sink_port}"
        console.print(f"Mail         SMTP sink {sink} → {var / 'mail'} (one .eml file per message)")
    for line in round_lines(demos):
        console.print(line, soft_wrap=True, highlight=False)
    tokens = var / "demo-tokens.env"
    write_private(tokens, tokens_env(demos))
    console.print(f"Mã truy cập của cán bộ demo (cũng trong {tokens}):", soft_wrap=True, highlight=False)
    for demo in demos:
        console.print(f"  {token_heading(demo)}", soft_wrap=True, highlight=False, markup=False)
        for t in demo.tokens:
            console.print(f"    {t.name}={t.token}", soft_wrap=True, highlight=False, markup=False)
    variable = demos[0].tokens[0].name if demos and demos[0].tokens else "XPTT_TOKEN_COMMUNE_OFFICER"
    console.print("Try:", highlight=False)
    console.print(
        f'  source {tokens}; curl -H "Authorization: Bearer ${variable}" "{api}/v1/tasks?mine=true"',
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    console.print("Ctrl-C stops everything; data stays under", var)
