"""What past rounds and the merger lineage say to people (the case page's streak, the CLI's tables); merged into
web/i18n.py's TEXT."""

from __future__ import annotations

HISTORY_TEXT: dict[str, tuple[str, str]] = {
    "streak_title": ("Chuỗi công nhận liên tục", "Recognitions in a row"),
    "hist_import_title": ("Nhập kết quả công nhận các kỳ trước — {province}", "Past rounds' import — {province}"),
    "hist_list_title": ("Kết quả công nhận các kỳ trước — {province}", "Past rounds' recognitions — {province}"),
    "hist_applied": ("đã ghi vào kết quả các kỳ trước", "written to the past rounds"),
    "hist_row": ("Dòng", "Row"),
    "hist_unit": ("Đơn vị", "Unit"),
    "hist_district": ("Huyện (trước 01/7/2025)", "District (before 1 July 2025)"),
    "hist_year": ("Năm", "Year"),
    "hist_decision": ("Quyết định", "Decision"),
    "hist_outcome": ("Kết quả", "Outcome"),
    "hist_note": ("Ghi chú", "Note"),
    "hist_refused_at": ("{column}: {reason}", "{column}: {reason}"),
    # the file's columns as its header names them
    "hist_col_ma_don_vi": ("Mã đơn vị", "Unit code"),
    "hist_col_ten_don_vi": ("Tên đơn vị", "Unit name"),
    "hist_col_ten_huyen": ("Tên huyện", "District"),
    "hist_col_nam": ("Năm", "Year"),
    "hist_col_so_quyet_dinh": ("Số quyết định", "Decision number"),
    "hist_col_ngay_quyet_dinh": ("Ngày quyết định", "Decision date"),
    # why a row is refused (domain/past_rounds.py, services/history/importer.py), by its code
    "hist_missing": ("chưa điền", "missing"),
    "hist_unit_missing": ("cần mã hoặc tên đơn vị", "give the unit's code or name"),
    "hist_bad_unit_code": ("“{value}” không phải mã đơn vị (tối đa 5 chữ số)", "“{value}” is not a unit code"),
    "hist_too_long": ("quá dài", "too long"),
    "hist_bad_year": ("“{value}” không phải một năm", "“{value}” is not a year"),
    "hist_year_outside_rule_sets": (
        "năm {value} không phải năm đánh giá của bộ tiêu chí nào (QĐ 06/QĐ-TTg đánh giá các năm 2019, 2022, 2024)",
        "no rule set assessed units in {value} (QĐ 06/QĐ-TTg assessed 2019, 2022, 2024)",
    ),
    "hist_round_not_past": ("kỳ đánh giá năm {value} chưa kết thúc", "the {value} round has not ended"),
    "hist_bad_date": ("“{value}” không phải ngày hợp lệ (dd/mm/yyyy)", "“{value}” is not a date (dd/mm/yyyy)"),
    "hist_date_in_future": ("ngày {value} chưa đến", "{value} has not come yet"),
    "hist_date_before_round": (
        "ngày {value} sớm hơn ngày bắt đầu đánh giá của kỳ này",
        "{value} is before the round's assessment opened",
    ),
    "hist_unknown_unit": (
        "tỉnh không có đơn vị “{value}” vào thời điểm của kỳ đánh giá",
        "the province had no unit “{value}” at the time of the round",
    ),
    "hist_ambiguous_unit": (
        "có nhiều đơn vị cùng tên trong tỉnh: cần ghi tên huyện",
        "several units of the province have this name: give the district",
    ),
    "hist_name_mismatch": ("tên “{value}” không khớp với mã đơn vị", "the name “{value}” is not the code's unit"),
    "hist_duplicate_row": ("đơn vị và năm này đã có ở dòng trước", "this unit and year are on an earlier row"),
    "hist_decision_text": ("số {number} ngày {day}", "no. {number} of {day}"),
    "hist_lineage_title": (
        "{unit} — các đơn vị trước sáp nhập (01/7/2025)",
        "{unit} — the units merged into it (1 July 2025)",
    ),
    "hist_lineage_none": (
        "Không có đơn vị trước sáp nhập: chuỗi công nhận chỉ tính các kỳ của chính đơn vị.",
        "No predecessor: the streak counts only the unit's own rounds.",
    ),
    "hist_former_unit": ("Đơn vị trước sáp nhập", "Former unit"),
    "hist_former_province": ("Tỉnh (trước 01/7/2025)", "Province (before 1 July 2025)"),
    "hist_divided": ("Bị chia cho nhiều đơn vị mới", "Divided among new units"),
    "hist_default": ("đơn vị kế thừa chính", "its main successor"),
    "hist_counted": ("Tính vào chuỗi", "Counts"),
    "hist_policy": ("Quy tắc tính chuỗi: {policy}", "Streak rule: {policy}"),
    "hist_source": ("Nguồn dữ liệu sáp nhập: {source}", "Merger data: {source}"),
}
