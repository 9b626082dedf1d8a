"""What the stage-times page (web/pages/stage_times.py) and `xptt round stage-times` say: Vietnamese first, English
second; merged into web/i18n.py. Stage, province and locality names come from the glossary."""

from __future__ import annotations

STAGE_TIMES_TEXT: dict[str, tuple[str, str]] = {
    "st_nav": ("Thời gian theo bước", "Where the time goes"),
    "st_title": ("Thời gian theo bước — {round_name} — {scope}", "Where the time goes — {round_name} — {scope}"),
    "st_all_provinces": ("các tỉnh được xem", "the provinces you read"),
    "st_national": ("toàn quốc", "nationwide"),
    "st_heatmap": (
        "Thời gian ở mỗi bước theo tỉnh (P90, ngày làm việc)",
        "Time in each stage by province (P90, working days)",
    ),
    "st_legend": ("Chú giải: P90 số ngày làm việc ở bước", "Legend: P90 of working days in the stage"),
    "st_no_data": ("chưa có số liệu", "no data"),
    "st_bucket": ("{low}–{high} ngày", "{low}–{high} days"),
    "st_bucket_top": ("từ {low} ngày", "{low} days or more"),
    "st_cell": (
        "{stage} — {province}: trung vị {p50}, P90 {p90}, tối đa {max} ngày làm việc; {cases} lượt xét, "
        "chuyển cấp {escalated}, đúng hạn {on_time}",
        "{stage} — {province}: median {p50}, P90 {p90}, max {max} working days; {cases} cases, "
        "escalated {escalated}, on time {on_time}",
    ),
    "st_stage_table": ("Các bước — {scope}", "Stages — {scope}"),
    "st_cases": ("Số lượt xét", "Cases"),
    "st_p50": ("Trung vị (ngày làm việc)", "Median (working days)"),
    "st_p90": ("P90 (ngày làm việc)", "P90 (working days)"),
    "st_max": ("Tối đa (ngày làm việc)", "Max (working days)"),
    "st_open": ("Đang ở bước", "Still in the stage"),
    "st_escalated": ("Tỷ lệ chuyển cấp", "Share escalated"),
    "st_on_time": ("Tỷ lệ đúng hạn", "On-time rate"),
    "st_loops": (
        "Trả hồ sơ bổ sung: {returns} lần ({returns_per_case} mỗi lượt xét) · Kiến nghị khi công khai: {objections} "
        "({objections_per_case} mỗi lượt xét)",
        "Dossiers returned for completion: {returns} ({returns_per_case} per case) · Objections during posting: "
        "{objections} ({objections_per_case} per case)",
    ),
    "st_by_province": ("Các bước theo tỉnh", "Stages by province"),
    "st_by_locality": ("Các bước theo loại địa bàn", "Stages by locality type"),
    "st_loops_title": ("Trả hồ sơ và kiến nghị theo nhóm", "Returns and objections by group"),
    "st_group": ("Nhóm", "Group"),
    "st_overall": ("Tất cả", "All"),
    "st_returns": ("Trả hồ sơ bổ sung", "Dossiers returned"),
    "st_returns_per_case": ("Trả hồ sơ mỗi lượt xét", "Returns per case"),
    "st_objections": ("Kiến nghị khi công khai", "Objections during posting"),
    "st_objections_per_case": ("Kiến nghị mỗi lượt xét", "Objections per case"),
    "st_suppressed": ("ít hơn {n} lượt xét", "fewer than {n} cases"),
    "st_suppressed_short": ("<{n}", "<{n}"),
    "st_suppressed_note": (
        "“<{n}”: nhóm ít hơn {n} lượt xét; số liệu không hiển thị vì một, hai lượt xét là thời gian của từng đơn vị.",
        "“<{n}”: a group of fewer than {n} cases; its figures are not shown, since one or two cases are single "
        "units' timings.",
    ),
    "st_loops_suppressed": (
        "Trả hồ sơ bổ sung và kiến nghị khi công khai: ít hơn {n} lượt xét, số liệu không hiển thị.",
        "Dossiers returned and objections during posting: fewer than {n} cases, not shown.",
    ),
    "st_slowest": ("Đơn vị chậm nhất", "Slowest units"),
    "st_total_days": ("Tổng số ngày làm việc", "Working days in all"),
    "st_slowest_stage": ("Bước chậm nhất", "Slowest stage"),
    "st_slowest_stage_days": ("Số ngày ở bước đó", "Days in that stage"),
    "st_no_units": ("Không có đơn vị nào để liệt kê.", "No unit to list."),
    "st_units_hidden": (
        "Danh sách đơn vị chỉ dành cho quản trị viên và giám sát viên của tỉnh.",
        "The list of units is for the province's administrators and oversight officers only.",
    ),
    "st_filter": ("Lọc", "Filter"),
    "st_all_localities": ("Mọi loại địa bàn", "Every locality type"),
    "st_locality": ("Loại địa bàn", "Locality type"),
    "st_how": (
        "Ngày làm việc tính như thời hạn: không tính ngày bắt đầu, tính trọn ngày kết thúc, không tính thứ Bảy, "
        "Chủ nhật và ngày nghỉ lễ. Trung vị và P90 theo thứ hạng gần nhất, chỉ trên các lần ở bước đã kết thúc.",
        "Working days count as deadlines do: not the day the stay starts, the whole day it ends, no weekend or "
        "public holiday. Median and P90 are nearest-rank, over the ended stays only.",
    ),
    "st_none": ("—", "—"),
    "st_refused": ("Không xem được thời gian theo bước", "Where the time goes cannot be shown"),
    "st_bad_province": (
        "{field}: không có tỉnh nào mang mã “{value}”.",
        "{field}: no province has the code “{value}”.",
    ),
    "st_bad_locality_type": (
        "{field}: “{value}” không phải loại địa bàn nào; chọn một trong: {known}.",
        "{field}: “{value}” is no locality type; choose one of: {known}.",
    ),
    "st_bad_top": ("{field}: phải là số từ 0 đến {max}.", "{field}: must be a number from 0 to {max}."),
}
