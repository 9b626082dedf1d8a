"""Writing the event log as an OCEL 2.0 SQLite file (the standard's relational schema), in batches: the tables
`event`, `object`, `event_object`, `object_object`, `event_map_type`, `object_map_type`, one `event_<type>` table per
event type and one `object_<type>` table per object type. The stdlib sqlite3 module writes it; it is an export
file format, not a database the product runs on."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.eventlog.mapping import EVENT_ATTRIBUTES, Item, OcelType, Scalar, timestamp
from audit.eventlog.text_writers import EPOCH

SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "float": "REAL", "boolean": "BOOLEAN", "time": "TIMESTAMP"}
BATCH = 2000

SCHEMA = """
CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT,
    PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier));
CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT,
    PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier));
CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
"""


def type_maps(names: Sequence[str]) -> dict[str, str]:
    """Each type's table suffix: its name in letters, digits and underscores, unique among the names."""
    out: dict[str, str] = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "type"
        suffix, n = base, 1
        while suffix in out.values():
            n += 1
            suffix = f"{base}_{n}"
        out[name] = suffix
    return out


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _cell(value: Scalar) -> Any:
    return timestamp(value) if isinstance(value, datetime) else value


class OcelSqliteWriter:
    """Rows are kept in batches of BATCH and written with executemany; `end` commits."""

    def __init__(
        self,
        path: Path,
        *,
        event_types: Sequence[str],
        object_types: Mapping[str, Sequence[tuple[str, OcelType]]],
    ) -> None:
        self._db = sqlite3.connect(path)
        self._db.executescript(SCHEMA)
        self._event_maps = type_maps(event_types)
        self._object_maps = type_maps(list(object_types))
        self._object_attrs = {name: [a for a, _ in attrs] for name, attrs in object_types.items()}
        self._event_attrs = [a for a, _ in EVENT_ATTRIBUTES]
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._sql: dict[str, str] = {}
        self._db.executemany("INSERT INTO event_map_type VALUES (?, ?)", self._event_maps.items())
        self._db.executemany("INSERT INTO object_map_type VALUES (?, ?)", self._object_maps.items())
        for name, suffix in self._event_maps.items():
            self._table(f"event_{suffix}", ["ocel_id TEXT PRIMARY KEY", "ocel_time TIMESTAMP"], EVENT_ATTRIBUTES)
            self._sql[name] = self._insert(f"event_{suffix}", 2 + len(EVENT_ATTRIBUTES))
        for name, attrs in object_types.items():
            columns = ["ocel_id TEXT", "ocel_time TIMESTAMP", "ocel_changed_field TEXT"]
            self._table(f"object_{self._object_maps[name]}", columns, attrs)
            self._sql[f"object:{name}"] = self._insert(f"object_{self._object_maps[name]}", 3 + len(attrs))
        for table, width in (("event", 2), ("object", 2), ("event_object", 3), ("object_object", 3)):
            self._sql[table] = self._insert(table, width)

    def _table(self, table: str, fixed: list[str], attrs: Sequence[tuple[str, OcelType]]) -> None:
        columns = fixed + [f"{_q(name)} {SQL_TYPES[kind]}" for name, kind in attrs]
        self._db.execute(f"CREATE TABLE {_q(table)} ({', '.join(columns)})")

    @staticmethod
    def _insert(table: str, width: int) -> str:
        return f"INSERT OR IGNORE INTO {_q(table)} VALUES ({', '.join('?' * width)})"

    def _add(self, key: str, row: tuple[Any, ...]) -> None:
        rows = self._pending.setdefault(key, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self._flush(key)

    def _flush(self, key: str) -> None:
        rows = self._pending.pop(key, [])
        if rows:
            self._db.executemany(self._sql[key], rows)

    def object(self, item: Item) -> None:
        self._add("object", (item.id, item.type))
        values = tuple(_cell(item.attributes.get(a)) for a in self._object_attrs[item.type])
        self._add(f"object:{item.type}", (item.id, EPOCH, None, *values))
        for target, qualifier in item.links:
            self._add("object_object", (item.id, target, qualifier))

    def begin_events(self) -> None:
        """Nothing to do: the tables are there."""

    def event(self, item: Item) -> None:
        assert item.time is not None
        self._add("event", (item.id, item.type))
        values = tuple(_cell(item.attributes.get(a)) for a in self._event_attrs)
        self._add(item.type, (item.id, timestamp(item.time), *values))
        for target, qualifier in item.links:
            self._add("event_object", (item.id, target, qualifier))

    def end(self) -> None:
        for key in list(self._pending):
            self._flush(key)
        self._db.commit()
        self._db.close()

    def abort(self) -> None:
        self._db.close()
