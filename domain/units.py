"""Commune-level units (đơn vị hành chính cấp xã) and their locality types.

Current units come from the `vietnam-provinces` package (34 provinces, 3,321 units since 1 July 2025). The
locality type, which picks the recognition threshold, is derived:
- a phường of a centrally-run city (province type "thành phố trung ương") → central-city-ward;
- a đặc khu (special zones are islands) → mountain-island-disadvantaged;
- everything else → other,
then overridden per unit code from domain/data/locality_overrides.csv (shipped) and from the caller's overrides.
Pre-2025 units (63 provinces, about 10,035 units) are imported from a CSV (`import_units_csv`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from vietnam_provinces import Province as VnProvince
from vietnam_provinces import VietNamDivisionType, Ward

from domain.csvfiles import read_csv_rows
from domain.errors import UnitError, UnitsFileError
from domain.stages import LocalityType

DATA_DIR = Path(__file__).parent / "data"
LOCALITY_OVERRIDES_CSV = DATA_DIR / "locality_overrides.csv"
DIVISION_TYPES = ("xã", "phường", "thị trấn", "đặc khu")
# Centrally-run cities before 2025 (GSO province codes): Hà Nội, Hải Phòng, Đà Nẵng, TP Hồ Chí Minh, Cần Thơ.
PRE_2025_CENTRAL_CITY_CODES = frozenset({"01", "31", "48", "79", "92"})


class Province(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^\d{2}$")
    name: str
    is_central_city: bool


class Unit(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^\d{5}$")
    name: str
    division_type: str
    province_code: str = Field(pattern=r"^\d{2}$")
    province_name: str
    locality_type: LocalityType


def derive_locality_type(division_type: str, in_central_city: bool) -> LocalityType:
    if division_type == "phường" and in_central_city:
        return LocalityType.CENTRAL_CITY_WARD
    if division_type == "đặc khu":
        return LocalityType.MOUNTAIN_ISLAND_DISADVANTAGED
    return LocalityType.OTHER


@cache
def _provinces() -> tuple[Province, ...]:
    return tuple(
        Province(
            code=f"{int(p.code):02d}",
            name=p.name,
            is_central_city=p.division_type == VietNamDivisionType.THANH_PHO_TRUNG_UONG,
        )
        for p in sorted(VnProvince.iter_all(), key=lambda p: int(p.code))
    )


def load_provinces() -> list[Province]:
    """The 34 current provinces and centrally-run cities, by code."""
    return list(_provinces())


@cache
def _derived_units() -> tuple[Unit, ...]:
    provinces = {p.code: p for p in _provinces()}
    units = []
    for ward in Ward.iter_all():
        province = provinces[f"{int(ward.province_code):02d}"]
        division_type = ward.division_type.value
        units.append(
            Unit(
                code=f"{int(ward.code):05d}",
                name=ward.name,
                division_type=division_type,
                province_code=province.code,
                province_name=province.name,
                locality_type=derive_locality_type(division_type, province.is_central_city),
            )
        )
    return tuple(sorted(units, key=lambda u: (u.province_code, u.code)))


def load_locality_overrides(path: Path | str) -> dict[str, LocalityType]:
    """Read `code,locality_type,source` rows (lines starting with # are comments); errors name file, line, field."""
    path = Path(path)
    overrides: dict[str, LocalityType] = {}
    for line, row in read_csv_rows(path, ("code", "locality_type", "source")):
        code = row["code"]
        if not (code.isdigit() and len(code) <= 5):
            raise UnitsFileError(
                path, f"line {line}, field code", f"expected a unit code of up to 5 digits, got {code!r}"
            )
        code = code.zfill(5)
        try:
            locality_type = LocalityType(row["locality_type"])
        except ValueError:
            allowed = ", ".join(t.value for t in LocalityType)
            raise UnitsFileError(
                path, f"line {line}, field locality_type", f"{row['locality_type']!r} is not one of {allowed}"
            ) from None
        if not row["source"]:
            raise UnitsFileError(path, f"line {line}, field source", "say where this locality type comes from")
        if code in overrides:
            raise UnitsFileError(path, f"line {line}, field code", f"unit {code} is listed twice")
        overrides[code] = locality_type
    return overrides


@cache
def _shipped_overrides() -> dict[str, LocalityType]:
    return load_locality_overrides(LOCALITY_OVERRIDES_CSV)


def load_units(province_code: str | None = None, overrides: Mapping[str, LocalityType] | None = None) -> list[Unit]:
    """Current units (all, or of one province), each with its locality type: derived, then the shipped overrides
    file, then `overrides` (code → type) on top. An override or province code that names nothing is an error."""
    units = _derived_units()
    merged = {**_shipped_overrides(), **(overrides or {})}
    if merged:
        known = {u.code for u in units}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise UnitError(f"locality override for unknown unit code(s): {', '.join(unknown[:5])}")
        units = tuple(
            u.model_copy(update={"locality_type": LocalityType(merged[u.code])}) if u.code in merged else u
            for u in units
        )
    if province_code is None:
        return list(units)
    code = province_code.zfill(2)
    if code not in {p.code for p in _provinces()}:
        raise UnitError(f"unknown province code {province_code!r}")
    return [u for u in units if u.province_code == code]


def import_units_csv(path: Path | str) -> list[Unit]:
    """Units from a CSV with columns code, name, division_type, province_code, province_name, locality_type.

    code: up to 5 digits (zero-padded); division_type: xã, phường, thị trấn or đặc khu; province_code: up to 2
    digits; locality_type: central-city-ward, mountain-island-disadvantaged, other, or empty to derive it (a phường
    of a pre-2025 centrally-run city, codes 01 31 48 79 92 → central-city-ward; đặc khu → mountain-island-
    disadvantaged; else other). Errors name the file, the line and the field."""
    path = Path(path)
    columns = ("code", "name", "division_type", "province_code", "province_name", "locality_type")
    units: list[Unit] = []
    seen: set[str] = set()
    for line, row in read_csv_rows(path, columns):

        def bad(field: str, reason: str, line: int = line) -> UnitsFileError:
            return UnitsFileError(path, f"line {line}, field {field}", reason)

        code, province_code = row["code"], row["province_code"]
        if not (code.isdigit() and len(code) <= 5):
            raise bad("code", f"expected up to 5 digits, got {code!r}")
        if not (province_code.isdigit() and len(province_code) <= 2):
            raise bad("province_code", f"expected up to 2 digits, got {province_code!r}")
        for field in ("name", "province_name"):
            if not row[field]:
                raise bad(field, "must not be empty")
        if row["division_type"] not in DIVISION_TYPES:
            raise bad("division_type", f"{row['division_type']!r} is not one of {', '.join(DIVISION_TYPES)}")
        code, province_code = code.zfill(5), province_code.zfill(2)
        if code in seen:
            raise bad("code", f"unit {code} is listed twice")
        seen.add(code)
        if row["locality_type"]:
            try:
                locality_type = LocalityType(row["locality_type"])
            except ValueError:
                allowed = ", ".join(t.value for t in LocalityType)
                raise bad("locality_type", f"{row['locality_type']!r} is not one of {allowed}") from None
        else:
            locality_type = derive_locality_type(row["division_type"], province_code in PRE_2025_CENTRAL_CITY_CODES)
        units.append(
            Unit(
                code=code,
                name=row["name"],
                division_type=row["division_type"],
                province_code=province_code,
                province_name=row["province_name"],
                locality_type=locality_type,
            )
        )
    return units
