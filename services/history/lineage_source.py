"""The 2025 merger lineage from the data files of the `vietnamadminunits` package (MIT), keyed by our unit codes.

Only its data files are read, found with `importlib.util.find_spec` (which does not run the package: its code
imports shapely and geopy for address matching, which this product does not need):
- `data/dataset.db` (SQLite): `admin_units_legacy`, the 10,040 units before 1 July 2025 (province, district, ward,
  their keys and the ward's GSO code), and `admin_units`, the 3,321 units after, with their codes;
- `data/converter_2025.json`: `DICT_PROVINCE_WARD_NO_DIVIDED` (new province key → new ward key → the old
  "province_district_ward" keys merged wholly into it) and `DICT_PROVINCE_WARD_DIVIDED` (new province key → old key
  of a commune divided among several new units → those units, one marked `isDefaultNewWard`).

Our unit codes come from `vietnam-provinces`. The two packages agree on the code of 3,198 of the 3,321 units; for
114 they give different codes and for 9 they swap codes between units of one province, so a new unit of the package
is matched to ours by province and name (unique within a province), never by code. A former unit keeps the GSO code
the package gives it; an island district that had no communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo) is
"H" and its district code.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from domain.past_rounds import folded, spelled
from domain.units import load_units

PACKAGE = "vietnamadminunits"


class LineageSourceError(RuntimeError):
    """The package's data files are missing or do not fit our units."""


@dataclass(frozen=True)
class LineageEntry:
    unit_code: str
    province_code: str
    former_code: str
    former_name: str
    former_district_name: str | None
    former_province_name: str | None
    divided: bool
    is_default: bool


def data_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise LineageSourceError(f"the {PACKAGE} package is not installed: pip install -e . brings it")
    return Path(locations[0]) / "data"


def source_label() -> str:
    return f"{PACKAGE} {importlib.metadata.version(PACKAGE)}"


@dataclass(frozen=True)
class _Former:
    code: str
    name: str
    district: str | None
    province: str | None


def _read(data: Path) -> tuple[dict[str, _Former], dict[tuple[str, str], tuple[str, str]], dict[str, Any]]:
    db = sqlite3.connect(f"file:{data / 'dataset.db'}?mode=ro", uri=True)
    try:
        former = {
            f"{pk}_{dk}_{wk or ''}": _Former(code or f"H{dcode}", ward or district, district, province)
            for pk, dk, wk, code, ward, district, province, dcode in db.execute(
                "SELECT provinceKey, districtKey, wardKey, wardCode, ward, district, province, districtCode "
                "FROM admin_units_legacy"
            )
        }
        new = {
            (pk, wk): (str(pcode), str(name))
            for pk, wk, pcode, name in db.execute("SELECT provinceKey, wardKey, provinceCode, ward FROM admin_units")
        }
    finally:
        db.close()
    converter = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    return former, new, converter


def _our_codes(new: dict[tuple[str, str], tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The package's new units → our codes, by province and name as written (diacritics count: Văn Lang and Văn
    Lăng are two communes); then, for the few spelled differently, by name without diacritics when that is unique."""
    units = load_units()
    exact = {(u.province_code, spelled(u.name)): u.code for u in units}
    out = {key: code for key, (p, name) in new.items() if (code := exact.get((p, spelled(name)))) is not None}
    taken = set(out.values())
    loose: dict[tuple[str, str], list[str]] = {}
    for u in units:
        if u.code not in taken:
            loose.setdefault((u.province_code, folded(u.name)), []).append(u.code)
    for key, (province, name) in new.items():
        if key in out:
            continue
        codes = loose.get((province, folded(name)), [])
        if len(codes) != 1:
            raise LineageSourceError(f"{PACKAGE}: {name} ({province}) matches {len(codes)} units of vietnam-provinces")
        out[key] = codes[0]
    if len(set(out.values())) != len(out):
        raise LineageSourceError(f"{PACKAGE}: two of its units match one unit of vietnam-provinces")
    return out


@cache
def lineage_entries() -> tuple[LineageEntry, ...]:
    """Every current unit's predecessors, from the package's data files (read once per process)."""
    try:
        former, new, converter = _read(data_dir())
    except (OSError, sqlite3.Error, ValueError) as exc:
        raise LineageSourceError(f"{PACKAGE}: cannot read its data files ({exc})") from None
    codes = _our_codes(new)
    links: dict[tuple[str, str], LineageEntry] = {}

    def link(province_key: str, ward_key: str, old_key: str, divided: bool, default: bool) -> None:
        unit, old = codes.get((province_key, ward_key)), former.get(old_key)
        if unit is None or old is None:
            raise LineageSourceError(f"{PACKAGE}: {old_key} → {province_key}/{ward_key} names no unit")
        province = new[(province_key, ward_key)][0]
        entry = LineageEntry(unit, province, old.code, old.name, old.district, old.province, divided, default)
        links.setdefault((unit, old.code), entry)

    wholly = converter["DICT_PROVINCE_WARD_NO_DIVIDED"]
    for province_key, wards in wholly.items():
        for ward_key, old_keys in wards.items():
            for old_key in old_keys:
                link(province_key, ward_key, old_key, False, False)
    divided = converter["DICT_PROVINCE_WARD_DIVIDED"]
    for province_key, olds in divided.items():
        for old_key, successors in olds.items():
            for s in successors:
                link(province_key, s["newWardKey"], old_key, True, bool(s["isDefaultNewWard"]))
    return tuple(sorted(links.values(), key=lambda e: (e.province_code, e.unit_code, e.former_code)))
