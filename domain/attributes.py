"""One model built from another object's attributes of the same names."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def from_row(model: type[M], row: object, **given: Any) -> M:
    """`model` from the row's attributes of the same names (a mapped row, a selected one, or any object that holds
    them: a case's state, its open task), with the values the row does not hold given by name."""
    values = {name: given[name] if name in given else getattr(row, name) for name in model.model_fields}
    return model.model_validate(values)
