"""The inbox SQL compiled once per shape and bound at each request, so that a request does not build, key and look up
a SQLAlchemy statement of its own.

A shape is what makes the SQL text differ: the kinds of the official's scopes (role, unit or whole province), which
filters are given, the status, the stages, the order and whether there is a cursor (and whether its row had a due
time). The statement of a shape is `queries.inbox_statement` itself, built once for a template official and template
filters whose values are stand-ins (`§…`, instants of the year 1); compiled with the session's dialect, each
parameter of the SQL is either a stand-in, which a request fills with its own value, or a constant of the shape (a
role, a status, a stage). So the SQL a request runs is the SQL `inbox_statement` gives for it, only compiled once.
Shapes are kept in a bounded LRU (`SHAPES`); a stand-in left over as a constant is a bug, refused when compiling.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect

from domain.access import RoleScope
from domain.stages import Role, Stage
from services.access import Principal
from services.inbox import cursor as cursors
from services.inbox.queries import inbox_statement
from services.inbox.schemas import Sort, TaskStatus

SHAPES = 256
_MARK = "§"
_LIMIT = 2_000_000_011  # the LIMIT's stand-in: a page is at most 501 rows


def _instant(n: int) -> datetime:
    return datetime(1, 1, 1, 0, 0, n, tzinfo=UTC)


_INSTANTS = {"now": _instant(1), "due_before": _instant(2), "due_after": _instant(3), "after_key": _instant(4)}


@dataclass(frozen=True)
class InboxSql:
    """The SQL of a shape, and for each of its positional parameters either the name of a request's value or a
    constant of the shape."""

    sql: str
    params: tuple[tuple[str | None, Any], ...]  # (value name, None) or (None, constant)

    def args(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] if name is not None else constant for name, constant in self.params)


@dataclass(frozen=True)
class _Shape:
    """What makes the SQL text of an inbox request differ (the key of `_shapes`)."""

    dialect: type[Dialect]
    scopes: tuple[tuple[Role, bool], ...]  # (role, over the whole province) of each scope, in order
    mine: bool
    status: TaskStatus
    stages: tuple[str, ...]
    overdue: bool | None
    escalated: bool | None
    escalated_to_me: bool
    given: tuple[bool, bool, bool, bool]  # due_before, due_after, unit, round
    sort: Sort
    cursor: bool | None  # None: no cursor; True: its row had no due time


_shapes: OrderedDict[_Shape, InboxSql] = OrderedDict()


def inbox_sql(
    dialect: Dialect,
    principal: Principal,
    *,
    now: datetime,
    limit: int,
    mine: bool = True,
    status: TaskStatus = "open",
    stage: list[Stage] | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    escalated_to_me: bool = False,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    unit: str | None = None,
    round: str | None = None,
    sort: Sort = "due",
    after: cursors.Cursor | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """`inbox_statement(...).limit(limit)` as SQL for `dialect` and its positional parameters."""
    shape = _Shape(
        type(dialect),
        tuple((s.role, s.unit_code is None) for s in principal.scopes),
        mine,
        status,
        tuple(s.value for s in stage) if stage else (),
        overdue,
        escalated,
        escalated_to_me,
        (due_before is not None, due_after is not None, unit is not None, round is not None),
        sort,
        None if after is None else after.key is None,
    )
    found = _shapes.get(shape)
    if found is None:
        found = _shapes[shape] = _compile(dialect, shape)
        if len(_shapes) > SHAPES:
            _shapes.popitem(last=False)
    else:
        _shapes.move_to_end(shape)
    values: dict[str, Any] = {
        "official": principal.official_id,
        "now": now,
        "limit": limit,
        "due_before": due_before,
        "due_after": due_after,
        "unit": unit,
        "round": round,
        "after_key": None if after is None else after.key,
        "after_id": None if after is None else after.id,
    }
    for n, s in enumerate(principal.scopes):
        values[f"province{n}"] = s.province_code
        values[f"unit{n}"] = s.unit_code
    return found.sql, found.args(values)


def _compile(dialect: Dialect, shape: _Shape) -> InboxSql:
    """The shape's statement built with stand-ins, compiled, each parameter named after the stand-in it holds."""
    template = Principal(
        official_id=f"{_MARK}official",
        full_name="",
        scopes=tuple(
            RoleScope(role=role, province_code=f"{_MARK}province{n}", unit_code=None if whole else f"{_MARK}unit{n}")
            for n, (role, whole) in enumerate(shape.scopes)
        ),
    )
    after = None
    if shape.cursor is not None:  # not a client's cursor: its stand-in is no valid id
        key = None if shape.cursor else _INSTANTS["after_key"]
        after = cursors.Cursor.model_construct(sort=shape.sort, key=key, id=f"{_MARK}after_id")
    due_before, due_after, unit, round_ = shape.given
    stmt = inbox_statement(
        template,
        now=_INSTANTS["now"],
        mine=shape.mine,
        status=shape.status,
        stage=[Stage(s) for s in shape.stages] or None,
        overdue=shape.overdue,
        escalated=shape.escalated,
        escalated_to_me=shape.escalated_to_me,
        due_before=_INSTANTS["due_before"] if due_before else None,
        due_after=_INSTANTS["due_after"] if due_after else None,
        unit=f"{_MARK}unit" if unit else None,
        round=f"{_MARK}round" if round_ else None,
        sort=shape.sort,
        after=after,
    ).limit(_LIMIT)
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    if compiled.positiontup is None or compiled._bind_processors:
        raise RuntimeError(f"the inbox SQL does not compile to plain positional parameters for {dialect.name}")
    stand_ins: dict[Any, str] = {v: k for k, v in _INSTANTS.items()} | {_LIMIT: "limit"}
    params: list[tuple[str | None, Any]] = []
    for name in compiled.positiontup:
        value = compiled.params[name]
        if isinstance(value, str) and value.startswith(_MARK):
            params.append((value.removeprefix(_MARK), None))
        elif isinstance(value, datetime | int) and not isinstance(value, bool) and value in stand_ins:
            params.append((stand_ins[value], None))
        else:
            params.append((None, value))
    return InboxSql(compiled.string, tuple(params))
