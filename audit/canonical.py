"""The canonical encoding every audit hash is taken over: JSON Canonicalization Scheme (RFC 8785, "JCS").

An auditor can re-implement it with any JCS library, or by hand:
- objects: members sorted by their names compared as UTF-16 code units, written `{"name":value,...}`, no spaces;
- arrays: `[v1,v2,...]`; `true`, `false`, `null` as such;
- strings: UTF-8, with only `"` and `\\` escaped by a backslash and the control characters U+0000..U+001F written
  as `\\b \\t \\n \\f \\r` or `\\u00xx` (lower-case hex); every other character as itself (no `\\u` escapes);
- numbers: as ECMAScript's `Number.prototype.toString` writes the IEEE-754 double: integers without a fraction or
  exponent (`1.0` is `1`), others in the shortest form that reads back to the same double (`0.1`, `1e-7`, `1e+21`).
  Integers beyond ±(2^53 − 1), NaN and infinities are refused (JCS cannot carry them faithfully).

Because numbers are written by value, a JSON value keeps its encoding through PostgreSQL's `jsonb` (which may turn
`1.0` into `1` and `1e2` into `100`) and through any JSON parser.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """A value that has no canonical encoding; the message names where it sits (e.g. `payload.scores.3`)."""


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 encoding of a JSON value (dict, list, str, int, float, bool, None) as UTF-8 bytes."""
    if not _plain(value):
        # Integral floats (e.g. a retry policy's backoff coefficient 2.0 in a workflow history) are written as the
        # integers they equal (JCS writes 2.0 as `2`); then the fast path below usually applies.
        value = _integral_floats_as_ints(value)
    if _plain(value):
        # No floats and no member name beyond U+FFFF: JCS is then exactly what `json` writes with sorted keys
        # (code-point order equals UTF-16 order below U+10000), and C-fast.
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    else:
        parts: list[str] = []
        _encode(value, parts, "$")
        text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"a string holds a lone surrogate ({exc.reason})") from None


def _plain(value: Any) -> bool:
    if value is None or value is True or value is False or type(value) is str:
        return True
    if type(value) is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if type(value) is dict:
        return all(type(k) is str and (k.isascii() or max(k) < "\U00010000") and _plain(v) for k, v in value.items())
    if type(value) is list or type(value) is tuple:
        return all(_plain(v) for v in value)
    return False  # floats, mappings of other kinds, anything else: the general encoder decides


def _integral_floats_as_ints(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() and abs(value) <= MAX_SAFE_INTEGER else value
    if kind is dict:
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_integral_floats_as_ints(v) for v in value]
    return value


def sha256_hex(value: Any) -> str:
    """SHA-256 (lower-case hex) of the canonical encoding of `value`."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def _encode(value: Any, out: list[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer {value} is beyond ±(2^53 − 1); store it as a string")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(number_text(value, path))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key in sorted(value, key=_utf16_key(path)):
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out, f"{path}.{key}")
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, f"{path}.{i}")
        out.append("]")
    else:
        raise CanonicalError(f"{path}: a {type(value).__name__} is not a JSON value (convert it first)")


def _utf16_key(path: str) -> Any:
    def key(name: Any) -> bytes:
        if not isinstance(name, str):
            raise CanonicalError(f"{path}: object member name {name!r} is not a string")
        return name.encode("utf-16-be", "surrogatepass")

    return key


def number_text(x: float, path: str = "$") -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 §3.2.2.3)."""
    if math.isnan(x) or math.isinf(x):
        raise CanonicalError(f"{path}: {x} is not a JSON number")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_text(-x, path)
    _, digit_tuple, exponent = Decimal(repr(x)).as_tuple()  # repr: the shortest digits that read back to x
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)
    exponent += len("".join(map(str, digit_tuple))) - len(digits)
    k = len(digits)
    n = k + exponent  # x = 0.d1d2...dk × 10^n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
