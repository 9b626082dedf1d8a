"""Commune-level units from vietnam-provinces, their locality types, overrides and pre-2025 imports."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from domain import units as units_module
from domain.errors import UnitError, UnitsFileError
from domain.stages import LocalityType
from domain.units import import_units_csv, load_locality_overrides, load_provinces, load_units

CITY, MOUNTAIN, OTHER = LocalityType.CENTRAL_CITY_WARD, LocalityType.MOUNTAIN_ISLAND_DISADVANTAGED, LocalityType.OTHER


def test_all_3321_current_units_load_in_under_a_second_each_with_a_locality_type() -> None:
    units_module._provinces.cache_clear()
    units_module._derived_units.cache_clear()
    units_module._shipped_overrides.cache_clear()
    started = time.perf_counter()
    units = load_units()
    elapsed = time.perf_counter() - started
    assert len(units) == 3321
    assert elapsed < 1.0, f"loading took {elapsed:.3f}s"
    assert all(isinstance(u.locality_type, LocalityType) for u in units)
    assert len({u.code for u in units}) == 3321
    by_type = Counter(u.locality_type.value for u in units)
    print(f"\n{len(units)} units in {elapsed * 1000:.0f} ms; by locality type: {dict(by_type)}")


def test_34_provinces_of_which_6_are_centrally_run_cities() -> None:
    provinces = load_provinces()
    assert len(provinces) == 34
    assert sum(p.is_central_city for p in provinces) == 6
    assert next(p for p in provinces if p.code == "01").is_central_city  # Hà Nội


def test_locality_type_follows_division_type_and_province() -> None:
    central = {p.code for p in load_provinces() if p.is_central_city}
    for u in load_units():
        if u.division_type == "phường" and u.province_code in central:
            assert u.locality_type is CITY, u
        elif u.division_type == "đặc khu":
            assert u.locality_type is MOUNTAIN, u
        else:
            assert u.locality_type is OTHER, u


def test_counts_by_division_type_and_special_zones_are_islands() -> None:
    units = load_units()
    by_division = Counter(u.division_type for u in units)
    assert set(by_division) == {"xã", "phường", "đặc khu"}
    assert by_division["đặc khu"] == 13
    assert sum(by_division.values()) == 3321
    assert Counter(u.locality_type for u in units)[MOUNTAIN] == 13


def test_codes_are_zero_padded() -> None:
    hoan_kiem = next(u for u in load_units("01") if u.code == "00070")
    assert (hoan_kiem.name, hoan_kiem.province_code, hoan_kiem.locality_type) == ("Phường Hoàn Kiếm", "01", CITY)


def test_a_ward_outside_a_centrally_run_city_is_other() -> None:
    wards = [u for u in load_units() if u.division_type == "phường" and u.locality_type is OTHER]
    central = {p.code for p in load_provinces() if p.is_central_city}
    assert wards and {u.province_code for u in wards}.isdisjoint(central)


def test_units_of_one_province() -> None:
    hanoi = load_units("01")
    assert hanoi and all(u.province_code == "01" for u in hanoi)
    assert load_units("1") == hanoi
    with pytest.raises(UnitError, match="'99'"):
        load_units("99")


def test_overrides_change_the_locality_type_of_the_named_units_only() -> None:
    base = load_units("04")
    target = next(u for u in base if u.locality_type is OTHER)
    changed = load_units("04", overrides={target.code: MOUNTAIN})
    assert next(u for u in changed if u.code == target.code).locality_type is MOUNTAIN
    assert [u for u in changed if u.code != target.code] == [u for u in base if u.code != target.code]


def test_override_for_an_unknown_unit_is_refused() -> None:
    with pytest.raises(UnitError, match="99999"):
        load_units(overrides={"99999": MOUNTAIN})


def test_shipped_override_file_loads() -> None:
    assert load_locality_overrides(units_module.LOCALITY_OVERRIDES_CSV) == {}


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_override_file_rows_are_read_with_comments_skipped(tmp_path: Path) -> None:
    path = _csv(tmp_path, "# note\ncode,locality_type,source\n70,mountain-island-disadvantaged,test decision\n")
    assert load_locality_overrides(path) == {"00070": MOUNTAIN}


def test_override_file_without_a_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnitsFileError, match=r"line 1, header: missing column\(s\): source"):
        load_locality_overrides(_csv(tmp_path, "code,locality_type\n70,other\n"))


PRE_2025_HEADER = "code,name,division_type,province_code,province_name,locality_type\n"


def test_pre_2025_units_import_with_derived_or_given_locality_types(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        PRE_2025_HEADER
        + "4,Phường Phúc Xá,phường,1,Thành phố Hà Nội,\n"
        + "1234,Thị trấn Tam Sơn,thị trấn,2,Tỉnh Hà Giang,mountain-island-disadvantaged\n"
        + "9000,Phường Một,phường,26,Tỉnh Vĩnh Phúc,\n",
    )
    units = import_units_csv(path)
    assert [(u.code, u.province_code, u.locality_type) for u in units] == [
        ("00004", "01", CITY),
        ("01234", "02", MOUNTAIN),
        ("09000", "26", OTHER),
    ]


# A file of each kind with one bad row: (kind, row, where the error points, what it says).
BAD_ROWS = [
    ("override", "abc,other,src\n", "line 2, field code", "up to 5 digits"),
    ("override", "00070,urban,src\n", "line 2, field locality_type", "'urban' is not one of"),
    ("override", "00070,other,\n", "line 2, field source", "where this locality type comes from"),
    ("override", "00070,other,a\n00070,other,b\n", "line 3, field code", "listed twice"),
    ("override", "00070,other\n", "line 2", "expected 3 fields, got 2"),
    ("pre-2025", "12a,X,xã,1,P,\n", "line 2, field code", "up to 5 digits"),
    ("pre-2025", "1,X,huyện,1,P,\n", "line 2, field division_type", "'huyện' is not one of"),
    ("pre-2025", "1,X,xã,123,P,\n", "line 2, field province_code", "up to 2 digits"),
    ("pre-2025", "1,,xã,1,P,\n", "line 2, field name", "must not be empty"),
    ("pre-2025", "1,X,xã,1,P,rural\n", "line 2, field locality_type", "'rural' is not one of"),
]
READERS = {
    "override": ("code,locality_type,source\n", load_locality_overrides),
    "pre-2025": (PRE_2025_HEADER, import_units_csv),
}


@pytest.mark.parametrize(("kind", "row", "where", "reason"), BAD_ROWS)
def test_a_bad_override_or_pre_2025_row_names_file_line_and_field(
    tmp_path: Path, kind: str, row: str, where: str, reason: str
) -> None:
    header, read = READERS[kind]
    path = _csv(tmp_path, header + row)
    with pytest.raises(UnitsFileError) as caught:
        read(path)
    assert str(caught.value).startswith(f"{path}: {where}: ")
    assert reason in str(caught.value)


def test_missing_units_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UnitsFileError, match="no such file"):
        import_units_csv(tmp_path / "absent.csv")
