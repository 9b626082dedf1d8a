"""Loading the domain's data files: YAML validated by pydantic, every number with its basis.

A number in a data file carries either `source` (where the law or practice says it) or `assumed: true` with a
`note` saying why a default was chosen. Errors name the file, the field path and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from domain.errors import DataFileError

M = TypeVar("M", bound=BaseModel)


class Frozen(BaseModel):
    """Immutable, strict about unknown keys: a typo in a data file is an error, not a silent default."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def field_problem(field: str, reason: str) -> PydanticCustomError:
    """An error from a cross-field check, carrying the field path so the loader can name it."""
    return PydanticCustomError("field_problem", "{field}: {reason}", {"field": field, "reason": reason})


class Basis(Frozen):
    """Where a number comes from: a source, or an assumed default with the reason for it."""

    source: str | None = None
    assumed: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _sourced_or_assumed(self) -> Self:
        if self.assumed and not self.note:
            raise field_problem("note", "an assumed value needs a note saying why")
        if not self.assumed and not self.source:
            raise field_problem("source", "give the source of this value, or mark it `assumed: true` with a note")
        return self


def describe_basis(basis: Basis) -> str:
    """One line for a reader: the source, or "assumed: " and the note."""
    if basis.assumed:
        return f"assumed: {basis.note}"
    return basis.source or ""


class MonthDay(Frozen):
    """A day of the year without the year, written "MM-DD" in data files (29 February is refused)."""

    month: int
    day: int

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.split("-")
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise ValueError(f"expected MM-DD, got {value!r}")
            return {"month": int(parts[0]), "day": int(parts[1])}
        return value

    @model_validator(mode="after")
    def _real_day(self) -> Self:
        if (self.month, self.day) == (2, 29):
            raise ValueError("29 February does not occur every year")
        try:
            date(2001, self.month, self.day)
        except ValueError as exc:
            raise ValueError(f"not a day of the year: {self.month:02d}-{self.day:02d} ({exc})") from None
        return self

    def in_year(self, year: int) -> date:
        return date(year, self.month, self.day)

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


def _field_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_validation_error(exc: ValidationError) -> tuple[str, str]:
    """(field path, reason) of the first problem, with a count of the others."""
    problems: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        reason = str(err["msg"]).removeprefix("Value error, ")
        ctx = err.get("ctx") or {}
        if err["type"] == "field_problem":
            loc = [*loc, *str(ctx["field"]).split(".")]
            reason = str(ctx["reason"])
        problems.append((_field_path(loc) or "(document)", reason))
    where, reason = problems[0]
    if len(problems) > 1:
        others = "; ".join(f"{w}: {r}" for w, r in problems[1:])
        reason = f"{reason} (and {len(problems) - 1} more: {others})"
    return where, reason


def read_data_file(path: Path, error: type[DataFileError], *, encoding: str = "utf-8") -> str:
    """A data file's text; a file that is absent or unreadable becomes `error(path, "(file)", reason)`."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise error(path, "(file)", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, "(file)", f"cannot read: {exc}") from None


def load_yaml_model(path: Path, model: type[M], error: type[DataFileError]) -> M:
    """Read a YAML file and validate it as `model`; every failure becomes `error(path, field, reason)`."""
    return parse_yaml_model(read_data_file(path, error), path, model, error)


def parse_yaml_model(text: str, path: Path | str, model: type[M], error: type[DataFileError]) -> M:
    """Validate YAML text (a file read, or one uploaded as `path`) as `model`; every failure becomes
    `error(path, field, reason)`."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        raise error(path, where, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise error(path, "(document)", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(path, "(document)", f"expected a mapping at the top, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where, reason = describe_validation_error(exc)
        raise error(path, where, reason) from None
