"""Exporting a round's journal as an event log for process mining: OCEL 2.0 (JSON or SQLite) with the objects
case, unit, task, official, round and rule set, or XES with one trace per case. What the CLI and the API call.

The file is written beside its destination under a temporary name and renamed into place when complete: a
refused or failed export leaves nothing behind. Rows are streamed from PostgreSQL and written as they come, in one
REPEATABLE READ transaction (every part of the log sees the same journal). No personal data but officials' ids,
unless `with_names` (officials' full names).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.eventlog import mapping, queries
from audit.eventlog.mapping import Item
from audit.eventlog.ocel_sqlite import OcelSqliteWriter
from audit.eventlog.text_writers import OcelJsonWriter, XesWriter
from db.models import RoundRow
from services.errors import Refusal
from services.rounds.queries import province_exists, round_row

log = structlog.get_logger(__name__)

FORMATS = ("ocel", "ocel-sqlite", "xes")
SUFFIXES = {"ocel": ".jsonocel", "ocel-sqlite": ".sqlite", "xes": ".xes"}
MEDIA_TYPES = {"ocel": "application/json", "ocel-sqlite": "application/vnd.sqlite3", "xes": "application/xml"}
PROGRESS_EVERY = 1000

Progress = Callable[[int, int], None]  # (journal rows written, journal rows in all)


@dataclass
class ExportSummary:
    """What a file holds: events per activity, objects per type (none for XES), traces (XES)."""

    format: str
    round_id: str
    provinces: list[str] | None
    path: Path
    bytes: int = 0
    events: Counter[str] = field(default_factory=Counter)
    objects: Counter[str] = field(default_factory=Counter)
    traces: int = 0
    total: int = 0  # journal rows to write


def file_name(fmt: str, round_id: str, province: str | None = None) -> str:
    """The file a round's (and province's) log is named after, safe in any folder: `qd06-2019-2027-33.jsonocel`
    (no suffix for an unknown format)."""
    stem = f"{round_id}-{province}" if province else round_id
    return re.sub(r"[^A-Za-z0-9._-]", "-", stem) + SUFFIXES.get(fmt, "")


class OcelWriter(Protocol):
    def object(self, item: Item) -> None: ...
    def begin_events(self) -> None: ...
    def event(self, item: Item) -> None: ...
    def end(self) -> None: ...


async def check_request(session: AsyncSession, fmt: str, round_id: str, provinces: Collection[str] | None) -> RoundRow:
    """The round to export; a refusal naming the field for an unknown format, round or province."""
    if fmt not in FORMATS:
        raise Refusal(422, "unknown_log_format", f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    found = await round_row(session, round_id)
    if found is None:
        raise Refusal(404, "round_not_found", f"no round {round_id} has been opened", field="round")
    for code in sorted(provinces or ()):
        if not await province_exists(session, code):
            raise Refusal(404, "province_not_found", f"no province with code {code}", field="province")
    return found


async def _write_objects(
    session: AsyncSession,
    writer: OcelWriter,
    found: RoundRow,
    provinces: Collection[str] | None,
    summary: ExportSummary,
    *,
    with_names: bool,
) -> None:
    def put(item: Item) -> None:
        writer.object(item)
        summary.objects[item.type] += 1

    rid = found.id
    put(mapping.rule_set_object(found.rule_set_id))
    put(mapping.round_object(found))
    async for unit in queries.units(session, rid, provinces):
        put(mapping.unit_object(unit))
    async for case in queries.cases(session, rid, provinces):
        put(mapping.case_object(case))
    async for task in queries.tasks(session, rid, provinces):
        put(mapping.task_object(task))
    for official_id, name in await queries.officials(session, rid, provinces, with_names=with_names):
        put(mapping.official_object(official_id, name, with_names=with_names))


async def _write_ocel(
    session: AsyncSession,
    target: Path,
    summary: ExportSummary,
    found: RoundRow,
    *,
    with_names: bool,
    progress: Progress | None,
) -> None:
    provinces = summary.provinces
    keys = await queries.activity_keys(session, found.id, provinces)
    event_types = sorted({mapping.activity(*k) for k in keys})
    types = mapping.object_types(with_names=with_names)
    with contextlib.ExitStack() as stack:
        writer: OcelWriter
        if summary.format == "ocel":
            out = stack.enter_context(target.open("w", encoding="utf-8"))
            writer = OcelJsonWriter(out, event_types=event_types, object_types=types)
        else:
            sqlite_writer = OcelSqliteWriter(target, event_types=event_types, object_types=types)
            stack.callback(sqlite_writer.abort)
            writer = sqlite_writer
        await _write_objects(session, writer, found, provinces, summary, with_names=with_names)
        writer.begin_events()
        async for row, _ in queries.journal(session, found.id, provinces, by_case=False):
            item = mapping.event(row)
            writer.event(item)
            _count(summary, item.type, progress)
        writer.end()


def _count(summary: ExportSummary, activity: str, progress: Progress | None) -> None:
    summary.events[activity] += 1
    done = summary.events.total()
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == summary.total):
        progress(done, summary.total)


async def _write_xes(session: AsyncSession, target: Path, summary: ExportSummary, *, progress: Progress | None) -> None:
    with target.open("w", encoding="utf-8") as out:
        writer = XesWriter(out, log_name=f"xptt {summary.round_id}")
        current: str | None = None
        async for row, case in queries.journal(session, summary.round_id, summary.provinces, by_case=True):
            if row.case_id != current:
                writer.trace(mapping.xes_trace(row, case))
                current, summary.traces = row.case_id, summary.traces + 1
            event = mapping.xes_event(row)
            writer.event(event)
            _count(summary, str(event["concept:name"]), progress)
        writer.end()


def _temp_beside(out: Path, fmt: str) -> Path:
    """A fresh name in the destination's folder (so the rename is atomic); for SQLite, no file yet."""
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    if fmt == "ocel-sqlite":
        tmp.unlink()  # sqlite3 makes its own file
    return tmp


def _install(tmp: Path, out: Path) -> int:
    """The complete file in place of `out`; its size."""
    tmp.replace(out)
    return out.stat().st_size


def _discard(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)


async def export_log(
    sessions: async_sessionmaker[AsyncSession],
    fmt: str,
    round_id: str,
    out: Path,
    *,
    provinces: Collection[str] | None = None,
    with_names: bool = False,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the round's event log (of `provinces`, else of every province) to `out`; what it holds. A refusal
    (unknown format, round or province) before anything is written."""
    wanted = sorted(set(provinces)) if provinces is not None else None
    summary = ExportSummary(format=fmt, round_id=round_id, provinces=wanted, path=out)
    async with sessions() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        found = await check_request(session, fmt, round_id, wanted)
        summary.total = await queries.journal_size(session, round_id, wanted)
        tmp = _temp_beside(out, fmt)
        try:
            if fmt == "xes":
                await _write_xes(session, tmp, summary, progress=progress)
            else:
                await _write_ocel(session, tmp, summary, found, with_names=with_names, progress=progress)
            summary.bytes = _install(tmp, out)
        finally:
            _discard(tmp)
    log.info("event_log_exported", format=fmt, round_id=round_id, events=summary.events.total(), bytes=summary.bytes)
    return summary
