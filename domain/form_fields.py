"""The strict field types of the stages' forms: what an official's JSON must say, with nothing guessed.

A score is a JSON integer (not text, a decimal or true/false) under the key of its criterion: the decimal of the
criterion's number, without sign, leading zero or space ("1", "13"; not "01", " 1", "1.0"). A flag is true or false;
a day is written YYYY-MM-DD. JSON has no integer keys, so a key is always text; a Python caller may pass the number
itself.

Forms recorded before these types were strict were read leniently (pydantic's lax mode: "74" and 74.0 as 74, "01" as
criterion 1). A validation `context` of `{"lax": True}` reads them the same way again, so that a case recorded then
replays as it ran (workflows/case.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

MAX_CRITERION_DIGITS = 9  # far above any rule set's criteria (QĐ 37/2010 has the most: 25)
MAX_POINTS_DIGITS = 9  # far above any criterion's maximum (QĐ 06/QĐ-TTg: 125)

_CRITERION_KEY = re.compile(rf"[1-9][0-9]{{0,{MAX_CRITERION_DIGITS - 1}}}")
_WHOLE_TEXT = re.compile(rf"-?[0-9]{{1,{MAX_POINTS_DIGITS}}}")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def criterion_number(key: object) -> int | None:
    """The criterion a key names: a canonical decimal ("1", "13"), or an int (not a bool) from a Python caller;
    None for anything else ("01", " 1", "+1", "1.0", "١", a number of more than nine digits)."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if key >= 1 else None
    if isinstance(key, str) and _CRITERION_KEY.fullmatch(key):
        return int(key)
    return None


def whole_number(text: str) -> int | None:
    """A whole number typed on a page ("74", "-3", " 74 "): ASCII digits with an optional minus, at most nine of
    them; None for anything else ("7_4", "74.0", "٧٤", a number of thousands of digits)."""
    stripped = text.strip()
    return int(stripped) if _WHOLE_TEXT.fullmatch(stripped) else None


def _lax(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and context.get("lax") is True


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    if isinstance(value, int):
        return "a number"
    return "a list or an object" if isinstance(value, list | dict) else type(value).__name__


def _criterion_key(value: object, info: ValidationInfo) -> Any:
    if _lax(info):
        return value
    number = criterion_number(value)
    if number is None:
        raise PydanticCustomError(
            "criterion_key",
            'not a criterion number: write the number in decimal, without sign, leading zero or space (e.g. "1")',
        )
    return number


def _points(value: object, info: ValidationInfo) -> Any:
    if _lax(info) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError(
        "whole_number", "points must be a whole number given as a JSON integer, not {kind}", {"kind": _kind(value)}
    )


def _flag(value: object, info: ValidationInfo) -> Any:
    if _lax(info) or isinstance(value, bool):
        return value
    raise PydanticCustomError("flag", "expected true or false, not {kind}", {"kind": _kind(value)})


def _day(value: object, info: ValidationInfo) -> Any:
    if _lax(info) or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return value  # the date type then checks that the day exists
    raise PydanticCustomError("day", "expected a date written YYYY-MM-DD")


# What the forms' JSON Schema says of the keys of a score sheet (GET /v1/tasks/{id} hands it to clients).
CRITERION_KEYS_SCHEMA: dict[str, Any] = {"propertyNames": {"pattern": f"^{_CRITERION_KEY.pattern}$"}}

CriterionKey = Annotated[int, BeforeValidator(_criterion_key)]
Points = Annotated[int, BeforeValidator(_points)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Day = Annotated[date, BeforeValidator(_day)]
