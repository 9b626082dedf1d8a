"""The demo of `xptt dev up`: two provinces, each with its units and demo officials, and the current round open in both.
The demo officials come in through the import of the officials' directory, applied by the system, from
deploy/demo/officials-<province>.csv (services/seed.py): the province's directory journal holds that import.

- The demo province (XPTT_DEMO_PROVINCE, default 33 Hưng Yên) keeps the legal calendar: its units register now
  (registration's anchor has passed, so it is due in the minimum allowance) and then strive with no task until
  self-assessment opens (1 October of the assessment year).
- The rehearsal province (XPTT_DEMO_REHEARSAL_PROVINCE, default 12 Lai Châu, 38 units) opens the same round as a
  rehearsal: its calendar moved so that the assessment window is open now, so its demo officials have tasks at hand.

What the banner says of them (in Vietnamese, the rehearsal's officials first) and the tokens written to
var/demo-tokens.env come from here too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

import glossary
from contracts import OpenRoundInput
from db.session import make_engine, make_session_factory
from domain.calendar_overrides import case_calendar
from domain.rounds import Round, parse_round, rounds_of
from domain.rulesets import rule_set_in_force
from domain.stages import Stage
from domain.units import load_provinces, load_units
from infra.clock import today_vn
from infra.settings import Settings
from infra.temporal import connect
from infra.tokens import issue_token, utcnow
from services.ministry import roles
from services.rounds.opening import open_round
from services.seed import DemoOfficial, seed_demo_province
from workflows.round import round_workflow_id

TOKEN_HOURS = 12


class DemoError(Exception):
    """The demo cannot be set up as configured (an unknown province, the same province twice)."""


@dataclass(frozen=True)
class DemoProvince:
    code: str
    name: str
    rehearsal: bool  # its round opens as a rehearsal

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def token_prefix(self) -> str:
        return "XPTT_TOKEN_REHEARSAL_" if self.rehearsal else "XPTT_TOKEN_"


@dataclass(frozen=True)
class DemoToken:
    name: str  # its variable in var/demo-tokens.env
    official_id: str
    token: str


@dataclass(frozen=True)
class Demo:
    """One province of the demo as the stack left it: its demo officials' tokens and its round."""

    province: DemoProvince
    unit_code: str  # the unit of the commune officials
    tokens: list[DemoToken]
    round_id: str | None = None  # None: no round opened (--no-open-round)
    cases: int = 0
    rehearsal_opens_on: date | None = None  # the day its round's calendar was moved to; None: the legal calendar


def demo_round(today: date) -> Round:
    """The first round of the rule set in force whose assessment has not ended yet."""
    rule_set = rule_set_in_force(today)
    for rnd in rounds_of(rule_set.id, today.year - 1, today.year + 5):
        if rnd.assessment_end >= today:
            return rnd
    raise RuntimeError(f"no round of {rule_set.id} ahead of {today}")


def demo_provinces(demo: str, rehearsal: str) -> list[DemoProvince]:
    """The rehearsal province first (its officials have tasks at hand), then the demo province."""
    names = {p.code: p.name for p in load_provinces()}
    for setting, code in (("XPTT_DEMO_PROVINCE", demo), ("XPTT_DEMO_REHEARSAL_PROVINCE", rehearsal)):
        if code not in names:
            raise DemoError(f"{setting}: không có tỉnh mã {code!r}; mã tỉnh gồm hai chữ số, ví dụ 33 (Hưng Yên)")
    if demo == rehearsal:
        raise DemoError(
            f"XPTT_DEMO_REHEARSAL_PROVINCE={rehearsal} trùng với tỉnh demo {names[demo]} ({demo}): đợt diễn tập cần "
            "một tỉnh khác, ví dụ 12 (Lai Châu)"
        )
    return [DemoProvince(rehearsal, names[rehearsal], True), DemoProvince(demo, names[demo], False)]


def demo_tokens(province: DemoProvince, officials: list[DemoOfficial], settings: Settings) -> list[DemoToken]:
    now, ttl = utcnow(), timedelta(hours=TOKEN_HOURS)
    return [
        DemoToken(
            f"{province.token_prefix}{o.role.value.upper()}",
            o.id,
            issue_token(o.id, secret=settings.jwt_secret, issuer=settings.jwt_issuer, now=now, ttl=ttl),
        )
        for o in officials
    ]


async def rehearsal_of(client: Client, round_id: str, province_code: str) -> date | None:
    """The day the province's round was moved to, as it was started (None: the legal calendar). A restart finds the
    round an earlier run opened, maybe on another day: the banner tells what runs."""
    handle = client.get_workflow_handle(round_workflow_id(round_id, province_code))
    async for event in handle.fetch_history_events():
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [started] = await client.data_converter.decode(payloads, [OpenRoundInput])
        assert isinstance(started, OpenRoundInput)
        return started.rehearsal_opens_on
    return None


async def _open(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    p: DemoProvince,
    rnd: Round,
    today: date,
) -> tuple[int, date | None]:
    opened = await open_round(
        client,
        sessions,
        round_id=rnd.id,
        province_code=p.code,
        task_queue=task_queue,
        rehearsal_opens_on=today if p.rehearsal else None,
    )
    return len(opened.cases), await rehearsal_of(client, rnd.id, p.code)


def ministry_token(settings: Settings) -> DemoToken:
    """The ministry's demo official (national: reads every province's report to the ministry)."""
    token = issue_token(
        roles.DEMO_MINISTRY,
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        now=utcnow(),
        ttl=timedelta(hours=TOKEN_HOURS),
    )
    return DemoToken("XPTT_TOKEN_MINISTRY", roles.DEMO_MINISTRY, token)


async def seed_and_open(
    sessions: async_sessionmaker[AsyncSession],
    provinces: list[DemoProvince],
    settings: Settings,
    *,
    client: Client | None = None,
    rnd: Round | None = None,
    today: date | None = None,
) -> list[Demo]:
    """Seed each province's units and import its demo officials (deploy/demo/officials-<code>.csv, services/seed.py);
    with `client` and `rnd`, open the round in each (as a rehearsal moved to `today`, default today in Vietnam, in the
    rehearsal province). Idempotent, as seeding, importing and opening are."""
    seeded = [await seed_demo_province(sessions, p.code) for p in provinces]
    async with sessions() as session:
        await roles.grant(session, roles.DEMO_MINISTRY, full_name=roles.DEMO_MINISTRY_NAME, email=None, now=utcnow())
    demos = [
        Demo(p, unit, demo_tokens(p, officials, settings) + ([] if p.rehearsal else [ministry_token(settings)]))
        for p, (unit, officials) in zip(provinces, seeded, strict=True)
    ]
    if client is None or rnd is None:
        return demos
    day = today or today_vn()
    opened = await asyncio.gather(*(_open(client, sessions, settings.task_queue, p, rnd, day) for p in provinces))
    return [
        Demo(d.province, d.unit_code, d.tokens, rnd.id, cases, moved_to)
        for d, (cases, moved_to) in zip(demos, opened, strict=True)
    ]


async def set_up(settings: Settings, provinces: list[DemoProvince], rnd: Round | None) -> list[Demo]:
    """`seed_and_open` on the stack's database and Temporal server (Temporal only when a round opens)."""
    engine = make_engine(settings.database_url, pool_size=4)
    try:
        client = await connect(settings) if rnd is not None else None
        return await seed_and_open(make_session_factory(engine), provinces, settings, client=client, rnd=rnd)
    finally:
        await engine.dispose()


# -- what the banner says ----------------------------------------------------------------------------------------------
def dmy(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def assessment_opens(rnd: Round, province_code: str, rehearsal_opens_on: date | None) -> date:
    """The day self-assessment opens in the province's round, as its round computes it (activities/round_store.py)."""
    cal = case_calendar(rnd.rule_set_id, rnd.year, province_code)
    if rehearsal_opens_on is not None:
        cal = cal.rehearsed(rehearsal_opens_on)
    opens = next(t.not_before for t in cal.terms if t.stage == Stage.SELF_ASSESSMENT)
    assert opens is not None
    return opens


def round_line(demo: Demo) -> str:
    """Which round this is, e.g. `Diễn tập kỳ đánh giá năm 2027 — Lai Châu (12): lịch dời để tự đánh giá mở từ …`."""
    if demo.round_id is None:
        return f"Kỳ đánh giá — {demo.province.label}: chưa mở (--no-open-round)"
    rnd = parse_round(demo.round_id)
    opens = dmy(assessment_opens(rnd, demo.province.code, demo.rehearsal_opens_on))
    label = glossary.round_label(rnd.id)
    if demo.rehearsal_opens_on is None:
        head, calendar = label.capitalize(), f"lịch theo quy định (đăng ký đầu kỳ; tự đánh giá từ {opens})"
    else:
        head, calendar = f"Diễn tập {label}", f"lịch dời để tự đánh giá mở từ {opens}"
    return f"{head} — {demo.province.label}: {calendar}; {demo.cases} lượt xét công nhận"


def round_lines(demos: list[Demo]) -> list[str]:
    """The demo province's round first, then the rehearsal."""
    return [round_line(d) for d in sorted(demos, key=lambda d: d.province.rehearsal)]


def unit_label(demo: Demo) -> str:
    name = next((u.name for u in load_units(demo.province.code) if u.code == demo.unit_code), "")
    return f"{name} ({demo.unit_code})" if name else demo.unit_code


def token_heading(demo: Demo) -> str:
    kind = "đợt diễn tập, có việc ngay" if demo.province.rehearsal else "đợt theo lịch quy định"
    return f"{demo.province.label}, {kind}; cán bộ xã của {unit_label(demo)}"


def tokens_env(demos: list[Demo]) -> str:
    """var/demo-tokens.env: a comment naming each province, then its officials' tokens (`source` reads it)."""
    lines: list[str] = []
    for demo in demos:
        lines.append(f"# {token_heading(demo)}")
        lines += [f"{t.name}={t.token}" for t in demo.tokens]
    return "\n".join(lines) + "\n"
