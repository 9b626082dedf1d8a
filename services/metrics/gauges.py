"""The product's gauges for Prometheus, read at scrape time (`ProductGauges`): the counts of `queries.py` and the
schedules' own figures, refreshed at most once per `ttl` seconds however many scrapes come (concurrent scrapes share
one refresh), so a scrape storm costs PostgreSQL and Temporal nothing more.

Label values are codes (stage, province, round, status): metrics are for machines. A series once shown stays, at 0,
when its count drops to nothing (the last open task of a stage in a province completed), so that a rate or an alert
sees the drop rather than a series that vanished. A source that fails is shown by `xptt_product_gauges_up` at 0 and
its gauges left out, never served stale.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from services.metrics.queries import Snapshot, read_snapshot
from services.metrics.schedules import ScheduleState, schedule_states

log = structlog.get_logger(__name__)

Labels = tuple[str, ...]

TASK_GAUGES = (
    ("xptt_open_tasks", "Open tasks (officials' inbox), by stage and province.", "open"),
    ("xptt_overdue_tasks", "Open tasks past their due time, by stage and province.", "overdue"),
    ("xptt_escalated_tasks", "Open tasks escalated up their ladder, by stage and province.", "escalated"),
    ("xptt_stuck_tasks", "Open tasks whose whole ladder passed with no one acting, by stage and province.", "stuck"),
)


class ProductGauges(Collector):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        temporal: Client,
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.temporal = temporal
        self.ttl = ttl
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.schedules: list[ScheduleState] | None = None
        self.read_at: datetime | None = None
        self.refresh_seconds = 0.0
        self._refreshed: float | None = None
        self._lock = asyncio.Lock()
        self._seen: dict[str, set[Labels]] = {}

    async def refresh(self) -> None:
        """Read the figures again unless they are younger than `ttl`."""
        async with self._lock:
            if self._refreshed is not None and self.clock() - self._refreshed < self.ttl:
                return
            started = time.perf_counter()
            now = datetime.now(UTC)
            self.snapshot = await self._read_snapshot(now)
            self.schedules = await self._read_schedules()
            self.read_at = now
            self.refresh_seconds = time.perf_counter() - started
            self._refreshed = self.clock()

    async def _read_snapshot(self, now: datetime) -> Snapshot | None:
        try:
            async with self.sessions() as session, session.begin():
                return await read_snapshot(session, now)
        except Exception as exc:  # a scrape must still answer: the failure shows as xptt_product_gauges_up 0
            log.warning("product_gauges_failed", source="postgres", error=type(exc).__name__)
            return None

    async def _read_schedules(self) -> list[ScheduleState] | None:
        try:
            return await schedule_states(self.temporal)
        except Exception as exc:
            log.warning("product_gauges_failed", source="temporal", error=type(exc).__name__)
            return None

    # -- the metric families -------------------------------------------------------------------------------------
    def describe(self) -> Iterable[Metric]:
        return []  # families appear as the data does; no name is reserved up front

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "xptt_product_gauges_up", "1 when the source answered the last refresh.", labels=["source"]
        )
        up.add_metric(["postgres"], 0 if self.snapshot is None else 1)
        up.add_metric(["temporal"], 0 if self.schedules is None else 1)
        yield up
        yield GaugeMetricFamily(
            "xptt_product_gauges_refresh_seconds", "How long the last refresh took.", value=self.refresh_seconds
        )
        if self.snapshot is not None and self.read_at is not None:
            yield from self._snapshot_families(self.snapshot, self.read_at)
        if self.schedules is not None:
            yield from _schedule_families(self.schedules)

    def _gauge(self, name: str, doc: str, labels: list[str], values: Mapping[Labels, float]) -> GaugeMetricFamily:
        """The family, with 0 for every label set shown before and absent now."""
        seen = self._seen.setdefault(name, set())
        seen.update(values)
        family = GaugeMetricFamily(name, doc, labels=labels)
        for key in sorted(seen):
            family.add_metric(list(key), values.get(key, 0))
        return family

    def _snapshot_families(self, snap: Snapshot, read_at: datetime) -> Iterator[Metric]:
        for name, doc, attr in TASK_GAUGES:
            values: dict[Labels, float] = {(t.stage, t.province): float(getattr(t, attr)) for t in snap.tasks}
            yield self._gauge(name, doc, ["stage", "province"], values)
        cases: dict[Labels, float] = {}
        stuck: dict[Labels, float] = {}
        held: dict[Labels, float] = {}
        for c in snap.cases:
            cases[(c.round_id, c.province, c.status, c.outcome)] = c.cases
            stuck[(c.round_id, c.province)] = stuck.get((c.round_id, c.province), 0) + c.stuck
            held[(c.round_id, c.province)] = held.get((c.round_id, c.province), 0) + c.on_hold
        yield self._gauge(
            "xptt_cases",
            "Cases by round, province, status (open, closed) and outcome (none while undecided): a round's progress.",
            ["round", "province", "status", "outcome"],
            cases,
        )
        yield self._gauge(
            "xptt_stuck_cases", "Open cases marked stuck, by round and province.", ["round", "province"], stuck
        )
        yield self._gauge("xptt_held_cases", "Open cases on hold, by round and province.", ["round", "province"], held)
        outbox: dict[Labels, float] = {(o.status, o.channel): float(o.messages) for o in snap.outbox}
        yield self._gauge(
            "xptt_outbox_messages",
            "Outbox messages not yet settled, by status (pending, sending, held, failed) and channel.",
            ["status", "channel"],
            outbox,
        )
        age = 0.0 if snap.oldest_due_message is None else (read_at - snap.oldest_due_message).total_seconds()
        yield GaugeMetricFamily(
            "xptt_outbox_oldest_due_seconds",
            "Age of the oldest pending outbox message that is due (0: none waits).",
            value=max(age, 0.0),
        )


def _schedule_families(states: list[ScheduleState]) -> Iterator[Metric]:
    counters = (
        ("xptt_schedule_actions", "Workflows the schedule started.", "actions"),
        ("xptt_schedule_missed_catchup_window", "Firings missed past the catch-up window.", "missed_catchup_window"),
        ("xptt_schedule_skipped_overlap", "Firings skipped while the previous run still ran.", "skipped_overlap"),
    )
    for name, doc, attr in counters:
        counter = CounterMetricFamily(name, doc, labels=["schedule"])
        for s in states:
            counter.add_metric([s.schedule_id], getattr(s, attr))
        yield counter
    times = (
        (
            "xptt_schedule_last_action_timestamp_seconds",
            "When the schedule last started its workflow.",
            "last_action_at",
        ),
        ("xptt_schedule_next_action_timestamp_seconds", "When the schedule fires next.", "next_action_at"),
    )
    for name, doc, attr in times:
        gauge = GaugeMetricFamily(name, doc, labels=["schedule"])
        for s in states:
            at: datetime | None = getattr(s, attr)
            if at is not None:
                gauge.add_metric([s.schedule_id], at.timestamp())
        yield gauge
