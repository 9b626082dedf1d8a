"""Rows of a province's file of past rounds: each column checked, a year mapped to its round, units resolved."""

from __future__ import annotations

from datetime import date

import pytest

from domain.past_rounds import (
    KnownUnit,
    RowRefused,
    check_row,
    name_key,
    parse_day,
    resolve_unit,
    round_of_year,
    spelled,
)

TODAY = date(2026, 3, 1)
ROW = {
    "ma_don_vi": "12100",
    "ten_don_vi": None,
    "ten_huyen": None,
    "nam": "2022",
    "so_quyet_dinh": "1234/QĐ-UBND",
    "ngay_quyet_dinh": "20/12/2022",
}


def refused(values: dict[str, str | None], *, today: date = TODAY) -> RowRefused:
    with pytest.raises(RowRefused) as exc:
        check_row(7, values, today=today)
    return exc.value


def test_a_good_row_maps_its_year_to_the_canonical_round_and_marks_a_former_unit() -> None:
    row = check_row(7, ROW, today=TODAY)
    assert (row.line, row.unit_code, row.round_id, row.rule_set_id, row.year) == (
        7,
        "12100",
        "qd06-2019:2022",
        "qd06-2019",
        2022,
    )
    assert row.former is True
    assert row.decision_date == date(2022, 12, 20)
    assert row.decision_number == "1234/QĐ-UBND"


@pytest.mark.parametrize(
    ("year", "round_id"),
    [(2019, "qd06-2019:2019"), (2024, "qd06-2019:2024"), (2016, "qd34-2014:2016"), (2012, "qd37-2010:2012")],
)
def test_each_assessment_year_maps_to_the_round_of_the_rule_set_in_force(year: int, round_id: str) -> None:
    assert round_of_year(year, today=TODAY).id == round_id


@pytest.mark.parametrize("year", ["2020", "2021", "2023", "2009", "2101"])
def test_a_year_no_rule_set_assessed_in_is_refused_naming_the_year(year: str) -> None:
    exc = refused({**ROW, "nam": year, "ngay_quyet_dinh": "01/01/2025"})
    assert (exc.field, exc.kind) == ("nam", "year_outside_rule_sets")
    assert year in exc.reason


def test_a_round_not_yet_assessed_is_not_past() -> None:
    exc = refused({**ROW, "nam": "2027", "ngay_quyet_dinh": "05/11/2027"}, today=date(2027, 11, 15))
    assert (exc.field, exc.kind) == ("nam", "round_not_past")


def test_a_round_after_the_merger_names_a_current_unit() -> None:
    row = check_row(2, {**ROW, "nam": "2027", "ngay_quyet_dinh": "20/12/2027"}, today=date(2028, 2, 1))
    assert (row.round_id, row.former) == ("qd06-2019:2027", False)


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("nam", None, "missing"),
        ("nam", "22", "bad_year"),
        ("nam", "２０２２", "bad_year"),
        ("so_quyet_dinh", None, "missing"),
        ("so_quyet_dinh", "x" * 101, "too_long"),
        ("ngay_quyet_dinh", None, "missing"),
        ("ngay_quyet_dinh", "31/02/2023", "bad_date"),
        ("ngay_quyet_dinh", "hôm qua", "bad_date"),
        ("ngay_quyet_dinh", "01/01/2027", "date_in_future"),
        ("ngay_quyet_dinh", "01/06/2022", "date_before_round"),
        ("ma_don_vi", "12a", "bad_unit_code"),
        ("ma_don_vi", "123456", "bad_unit_code"),
    ],
)
def test_a_bad_column_is_refused_naming_it(field: str, value: str | None, kind: str) -> None:
    exc = refused({**ROW, field: value})
    assert (exc.field, exc.kind) == (field, kind)
    assert str(exc).startswith(f"{field}: ")


def test_a_row_without_code_or_name_is_refused() -> None:
    exc = refused({**ROW, "ma_don_vi": None, "ten_don_vi": None})
    assert (exc.field, exc.kind) == ("ma_don_vi", "unit_missing")


def test_short_codes_get_their_zeros_back_and_an_island_district_keeps_its_h() -> None:
    assert check_row(2, {**ROW, "ma_don_vi": "4"}, today=TODAY).unit_code == "00004"
    assert check_row(2, {**ROW, "ma_don_vi": "H318"}, today=TODAY).unit_code == "H318"


def test_dates_read_as_people_write_them_and_as_spreadsheet_cells() -> None:
    assert parse_day("5/1/2023", "f") == date(2023, 1, 5)
    assert parse_day("2023-01-05", "f") == date(2023, 1, 5)


def test_names_match_whatever_the_spacing_case_and_tone_placement_but_not_other_letters() -> None:
    assert spelled("Xã  Chiêm Hoá") == spelled("xã chiêm hóa")
    assert name_key("Xã Văn Lang") != name_key("Xã Văn Lăng")
    assert name_key("Xã Văn Lang", fold=True) == name_key("Văn Lăng", fold=True)
    assert name_key("Thị trấn Ân Thi") == "ân thi"
    assert name_key("Huyện Tiên Lữ", fold=True) == "tien lu"


UNITS = [
    KnownUnit(code="12100", name="Xã An Bình", district_name="Huyện Tiên Lữ"),
    KnownUnit(code="12200", name="Xã An Bình", district_name="Huyện Phù Cừ"),
    KnownUnit(code="12300", name="Xã Văn Lang", district_name="Huyện Tiên Lữ"),
    KnownUnit(code="12400", name="Xã Văn Lăng", district_name="Huyện Tiên Lữ"),
]


def row(**values: str | None) -> dict[str, str | None]:
    return {**ROW, "ma_don_vi": None, **values}


def test_a_unit_is_found_by_code_by_name_or_by_name_and_district() -> None:
    by = lambda **v: resolve_unit(check_row(2, row(**v), today=TODAY), UNITS).code  # noqa: E731
    assert by(ma_don_vi="12100") == "12100"
    assert by(ten_don_vi="Văn Lăng") == "12400"
    assert by(ten_don_vi="xã an bình", ten_huyen="Phù Cừ") == "12200"
    assert by(ma_don_vi="12300", ten_don_vi="Xã Văn Lang") == "12300"


@pytest.mark.parametrize(
    ("values", "field", "kind"),
    [
        ({"ma_don_vi": "99999"}, "ma_don_vi", "unknown_unit"),
        ({"ten_don_vi": "Xã Không Có"}, "ten_don_vi", "unknown_unit"),
        ({"ten_don_vi": "Xã An Bình"}, "ten_huyen", "ambiguous_unit"),
        ({"ten_don_vi": "Xã An Bình", "ten_huyen": "Huyện Kim Động"}, "ten_don_vi", "unknown_unit"),
        ({"ma_don_vi": "12100", "ten_don_vi": "Xã Văn Lang"}, "ten_don_vi", "name_mismatch"),
    ],
)
def test_a_unit_the_province_did_not_have_or_cannot_tell_apart_is_refused(
    values: dict[str, str], field: str, kind: str
) -> None:
    with pytest.raises(RowRefused) as exc:
        resolve_unit(check_row(2, row(**values), today=TODAY), UNITS)
    assert (exc.value.field, exc.value.kind) == (field, kind)
