"""Writing the event log as text, one item at a time (nothing of the log is held in memory): OCEL 2.0 JSON
(https://www.ocel-standard.org, JSON format) and XES (IEEE 1849-2016, XML)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO
from xml.sax.saxutils import quoteattr

from audit.eventlog.mapping import EVENT_ATTRIBUTES, Item, OcelType, Scalar, timestamp

EPOCH = "1970-01-01T00:00:00.000Z"  # an object attribute's time when the value holds from the start


def _value(value: Scalar) -> Any:
    return timestamp(value) if isinstance(value, datetime) else value


def _attributes(types: Sequence[tuple[str, OcelType]]) -> list[dict[str, str]]:
    return [{"name": name, "type": kind} for name, kind in types]


class OcelJsonWriter:
    """OCEL 2.0 JSON: the types first, then the objects, then the events, each written as it comes."""

    def __init__(
        self,
        out: TextIO,
        *,
        event_types: Sequence[str],
        object_types: Mapping[str, Sequence[tuple[str, OcelType]]],
    ) -> None:
        self._out = out
        self._first = True
        head = {
            "objectTypes": [{"name": name, "attributes": _attributes(a)} for name, a in object_types.items()],
            "eventTypes": [{"name": name, "attributes": _attributes(EVENT_ATTRIBUTES)} for name in event_types],
        }
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ',\n"objects": [')

    def _item(self, body: dict[str, Any]) -> None:
        self._out.write(("\n" if self._first else ",\n") + json.dumps(body, ensure_ascii=False))
        self._first = False

    def object(self, item: Item) -> None:
        attributes = [
            {"name": name, "time": EPOCH, "value": _value(value)}
            for name, value in item.attributes.items()
            if value is not None
        ]
        relationships = [{"objectId": target, "qualifier": q} for target, q in item.links]
        self._item({"id": item.id, "type": item.type, "attributes": attributes, "relationships": relationships})

    def begin_events(self) -> None:
        self._out.write('\n],\n"events": [')
        self._first = True

    def event(self, item: Item) -> None:
        assert item.time is not None
        attributes = [{"name": n, "value": _value(v)} for n, v in item.attributes.items() if v is not None]
        relationships = [{"objectId": target, "qualifier": q} for target, q in item.links]
        self._item(
            {
                "id": item.id,
                "type": item.type,
                "time": timestamp(item.time),
                "attributes": attributes,
                "relationships": relationships,
            }
        )

    def end(self) -> None:
        self._out.write("\n]}\n")


XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000Z"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
"""
XES_TAGS = {str: "string", int: "int", float: "float", bool: "boolean", datetime: "date"}


def xes_attribute(key: str, value: Scalar, indent: str) -> str:
    """One XES attribute element (none for a missing value)."""
    if value is None:
        return ""
    tag = XES_TAGS[type(value)]
    text = timestamp(value) if isinstance(value, datetime) else str(value).lower() if tag == "boolean" else str(value)
    return f"{indent}<{tag} key={quoteattr(key)} value={quoteattr(text)}/>\n"


class XesWriter:
    """XES with one trace per case: trace attributes, then its events in journal order."""

    def __init__(self, out: TextIO, *, log_name: str) -> None:
        self._out = out
        self._open = False
        out.write(XES_HEAD + xes_attribute("concept:name", log_name, "  "))

    def trace(self, attributes: Mapping[str, Scalar]) -> None:
        """Start a case's trace (closing the one before)."""
        self._close()
        self._out.write("  <trace>\n" + "".join(xes_attribute(k, v, "    ") for k, v in attributes.items()))
        self._open = True

    def event(self, attributes: Mapping[str, Scalar]) -> None:
        body = "".join(xes_attribute(k, v, "      ") for k, v in attributes.items())
        self._out.write(f"    <event>\n{body}    </event>\n")

    def _close(self) -> None:
        if self._open:
            self._out.write("  </trace>\n")
        self._open = False

    def end(self) -> None:
        self._close()
        self._out.write("</log>\n")
