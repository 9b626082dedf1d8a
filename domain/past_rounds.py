"""Past rounds: recognitions of rounds assessed before this system existed, as a province's file lists them (one row
per unit recognised in a round; services/history imports the file).

A row names the unit as it was then, by code or by name (with its former district when two units of the province
shared the name), the year of the round, and the recognition decision's number and date. The year maps to the
canonical round whose assessment year it is (domain.rounds: 2019 → qd06-2019:2019, 2016 → qd34-2014:2016); a year
no rule set assessed in (2020, 2009) is refused naming the field, as is a round whose assessment has not ended. A
round assessed before 1 July 2025 names a unit before the merger (`former`: its code is a pre-2025 one); a later
one names a current unit.

Pure: values in, a checked row or a `RowRefused` naming the column, a stable code and the reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache

from domain.datafiles import Frozen
from domain.errors import DomainError
from domain.rounds import Round, canonical_rounds

# The file's columns (headers are read without case or diacritics: `Mã đơn vị` is `ma_don_vi`).
COLUMNS: dict[str, str] = {
    "ma_don_vi": "the unit's code as it was in that round (5 digits; before 1 July 2025, the former code)",
    "ten_don_vi": "the unit's name as it was (e.g. Xã An Bình); with or without its code",
    "ten_huyen": "its former district, when two units of the province had the same name",
    "nam": "the year of the round (an assessment year: 2019, 2022, 2024 under QĐ 06/QĐ-TTg)",
    "so_quyet_dinh": "the recognition decision's number (required)",
    "ngay_quyet_dinh": "the decision's date, dd/mm/yyyy (required)",
}
REQUIRED = ("nam", "so_quyet_dinh", "ngay_quyet_dinh")
REFORM_DAY = date(2025, 7, 1)  # the two-tier reform: 10,035 commune-level units became 3,321
FIRST_YEAR, LAST_YEAR = 2010, 2100
_CODE = re.compile(r"[0-9]{1,5}|H[0-9]{3}")  # H + district code: an island district that had no communes
_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TYPES = ("thi tran ", "phuong ", "xa ", "dac khu ", "huyen ", "quan ", "thi xa ", "thanh pho ")


class RowRefused(DomainError, ValueError):
    """A row that cannot be taken: the column at fault, a stable code, the reason."""

    code = "past_round_row_refused"

    def __init__(self, field: str, kind: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.kind = kind
        self.reason = reason


class PastRecognition(Frozen):
    """A checked row: the unit as named (not yet resolved against the lineage) and the round it was recognised in."""

    line: int
    unit_code: str | None
    unit_name: str | None
    district_name: str | None
    year: int
    round_id: str
    rule_set_id: str
    former: bool
    decision_number: str
    decision_date: date


def folded(text: str) -> str:
    """Lower case, no diacritics, single spaces: "Xã  Ân Thi" → "xa an thi"."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", plain).split())


# Old-style tone placement as the new style writes it: "hoá" → "hóa", "thuỷ" → "thủy".
_RESPELL = tuple(
    (old + tone, new + rest)
    for old, rest, tones, moved in (
        ("o", "a", "àáảãạ", "òóỏõọ"),
        ("o", "e", "èéẻẽẹ", "òóỏõọ"),
        ("u", "y", "ỳýỷỹỵ", "ùúủũụ"),
    )
    for tone, new in zip(tones, moved, strict=True)
)


def spelled(text: str) -> str:
    """A name as written, for exact matching: NFC, lower case, single spaces, punctuation dropped, new-style tone
    placement ("Xã Chiêm Hoá" and "xã  chiêm hóa" are one name; "Văn Lang" and "Văn Lăng" are two)."""
    out = " ".join(re.sub(r"[^\w ]", " ", unicodedata.normalize("NFC", text).lower()).split())
    for old, new in _RESPELL:
        out = out.replace(old, new)
    return out


@lru_cache(maxsize=65536)  # each unit's name is matched against every row of a file
def name_key(name: str, *, fold: bool = False) -> str:
    """A unit's or district's name for matching, without its type ("Xã An Bình" → "an bình"); `fold`: without
    diacritics too ("an binh")."""
    words = spelled(name).split()
    plain = folded(" ".join(words)) + " "
    for prefix in _TYPES:
        n = prefix.count(" ")
        if plain.startswith(prefix) and len(words) > n:
            words = words[n:]
            break
    key = " ".join(words)
    return folded(key) if fold else key


def round_of_year(year: int, *, today: date) -> Round:
    """The canonical round assessed in `year`; refused (field `nam`) when no rule set assessed that year or its
    assessment has not ended by `today`."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise RowRefused("nam", "year_outside_rule_sets", f"{year} is outside every rule set (from {FIRST_YEAR})")
    found = [r for r in canonical_rounds(year, year) if r.year == year]
    if not found:
        near = [str(r.year) for r in canonical_rounds(year - 3, year + 3)]
        raise RowRefused(
            "nam",
            "year_outside_rule_sets",
            f"no rule set assessed units in {year} (assessment years near it: {', '.join(near) or 'none'})",
        )
    rnd = found[0]
    if rnd.assessment_end >= today:
        raise RowRefused(
            "nam", "round_not_past", f"the {year} round is assessed until {rnd.assessment_end:%d/%m/%Y}: not past"
        )
    return rnd


def parse_day(text: str, field: str) -> date:
    """dd/mm/yyyy (or yyyy-mm-dd, as a spreadsheet's date cell reads); refused naming `field`."""
    if m := _DAY.fullmatch(text):
        d, mo, y = (int(g) for g in m.groups())
    elif m := _ISO.fullmatch(text):
        y, mo, d = (int(g) for g in m.groups())
    else:
        raise RowRefused(field, "bad_date", f"{text!r} is not a date dd/mm/yyyy")
    try:
        return date(y, mo, d)
    except ValueError:
        raise RowRefused(field, "bad_date", f"{text!r} is not a day of the calendar") from None


def _unit(values: Mapping[str, str | None]) -> tuple[str | None, str | None, str | None]:
    code, name, district = values.get("ma_don_vi"), values.get("ten_don_vi"), values.get("ten_huyen")
    if code is None and name is None:
        raise RowRefused("ma_don_vi", "unit_missing", "give the unit's code or its name")
    if code is not None:
        if not _CODE.fullmatch(code):
            raise RowRefused("ma_don_vi", "bad_unit_code", f"{code!r} is not a unit code (up to 5 digits)")
        code = code if code.startswith("H") else code.zfill(5)
    if name is not None and len(name) > 200:
        raise RowRefused("ten_don_vi", "too_long", "a unit's name has at most 200 characters")
    if district is not None and len(district) > 200:
        raise RowRefused("ten_huyen", "too_long", "a district's name has at most 200 characters")
    return code, name, district


def check_row(line: int, values: Mapping[str, str | None], *, today: date) -> PastRecognition:
    """The row checked column by column (unit, year, decision); the first problem is refused naming its column."""
    code, name, district = _unit(values)
    year_text = values.get("nam")
    if year_text is None:
        raise RowRefused("nam", "missing", "the year of the round is required")
    if not (year_text.isascii() and year_text.isdigit() and len(year_text) == 4):
        raise RowRefused("nam", "bad_year", f"{year_text!r} is not a year")
    rnd = round_of_year(int(year_text), today=today)
    number = values.get("so_quyet_dinh")
    if number is None:
        raise RowRefused("so_quyet_dinh", "missing", "the decision's number is required")
    if len(number) > 100:
        raise RowRefused("so_quyet_dinh", "too_long", "a decision number has at most 100 characters")
    day_text = values.get("ngay_quyet_dinh")
    if day_text is None:
        raise RowRefused("ngay_quyet_dinh", "missing", "the decision's date is required")
    day = parse_day(day_text, "ngay_quyet_dinh")
    if day > today:
        raise RowRefused("ngay_quyet_dinh", "date_in_future", f"{day:%d/%m/%Y} has not come yet")
    if day < rnd.assessment_start:
        raise RowRefused(
            "ngay_quyet_dinh",
            "date_before_round",
            f"{day:%d/%m/%Y} is before the {rnd.year} round's assessment opened ({rnd.assessment_start:%d/%m/%Y})",
        )
    return PastRecognition(
        line=line,
        unit_code=code,
        unit_name=name,
        district_name=district,
        year=rnd.year,
        round_id=rnd.id,
        rule_set_id=rnd.rule_set_id,
        former=rnd.assessment_start < REFORM_DAY,
        decision_number=number,
        decision_date=day,
    )


class KnownUnit(Frozen):
    """A unit a row may name: a former unit of the province (its lineage) or a current one."""

    code: str
    name: str
    district_name: str | None = None


def _named(units: Sequence[KnownUnit], name: str, district: str | None, *, fold: bool) -> list[KnownUnit]:
    found = [u for u in units if name_key(u.name, fold=fold) == name_key(name, fold=fold)]
    if district is not None:
        found = [u for u in found if name_key(u.district_name or "", fold=fold) == name_key(district, fold=fold)]
    return found


def resolve_unit(row: PastRecognition, units: Sequence[KnownUnit]) -> KnownUnit:
    """The unit the row names among `units` (the province's units of the row's era): by code, else by name (and
    district); a name that fits several is refused asking for the district, a code whose name differs from the
    row's is refused."""
    if row.unit_code is not None:
        found = next((u for u in units if u.code == row.unit_code), None)
        if found is None:
            era = "before 1 July 2025" if row.former else "today"
            raise RowRefused("ma_don_vi", "unknown_unit", f"no unit {row.unit_code} of the province {era}")
        if row.unit_name is not None and name_key(row.unit_name, fold=True) != name_key(found.name, fold=True):
            raise RowRefused("ten_don_vi", "name_mismatch", f"unit {found.code} is {found.name}, not {row.unit_name}")
        return found
    assert row.unit_name is not None
    matches = _named(units, row.unit_name, row.district_name, fold=False) or _named(
        units, row.unit_name, row.district_name, fold=True
    )
    if not matches:
        where = f" in {row.district_name}" if row.district_name else ""
        raise RowRefused("ten_don_vi", "unknown_unit", f"no unit named {row.unit_name}{where} in the province")
    if len(matches) > 1:
        districts = ", ".join(sorted({u.district_name or "?" for u in matches}))
        raise RowRefused(
            "ten_huyen",
            "ambiguous_unit",
            f"{len(matches)} units are named {row.unit_name} ({districts}): name the district",
        )
    return matches[0]
