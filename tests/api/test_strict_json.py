"""The JSON a body may hold: finite numbers that can be read, each key once per object. What Python's parser takes
beyond JSON (Infinity, NaN), reads as infinite (1e309) or cannot read (an integer of thousands of digits) is named by
where it sits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.hygiene import MAX_INT_DIGITS, json_problem


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        (b'{"note": Infinity}', "note", "Infinity is not a JSON number"),
        (b'{"note": -Infinity}', "note", "-Infinity is not a JSON number"),
        (b'{"scores": {"3": NaN}}', "scores.3", "NaN is not a JSON number"),
        (b'{"a": [1, {"b": 1e309}]}', "a.1.b", "beyond the range of numbers"),
        (b'{"a": -1E400}', "a", "beyond the range of numbers"),
        (b'{"n": ' + b"9" * (MAX_INT_DIGITS + 1) + b"}", "n", f"{MAX_INT_DIGITS + 1} digits"),
        (b'{"scores": {"1": 3, "1": 74}}', "scores.1", "appears twice"),
        (b"NaN", "body", "NaN is not a JSON number"),
        (b'[{"x": 1}, {"y": Infinity}]', "1.y", "Infinity"),
    ],
)
def test_a_number_json_does_not_have_or_a_repeated_key_is_named_by_where_it_sits(
    body: bytes, field: str, fragment: str
) -> None:
    problem = json_problem(body)
    assert problem is not None and problem[0] == field and fragment in problem[1], problem


def test_the_first_problem_in_document_order_is_named() -> None:
    assert json_problem(b'{"a": {"b": NaN}, "c": Infinity}') == (
        "a.b",
        "NaN is not a JSON number; numbers must be finite",
    )


@pytest.mark.parametrize("body", [b"not json", b"", b"{", b'{"a": 1', b"[" * 100_000])
def test_a_body_that_is_not_json_is_left_to_the_routes_parser(body: bytes) -> None:
    assert json_problem(body) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_plain_json_passes(value: object) -> None:
    assert json_problem(json.dumps(value).encode()) is None
