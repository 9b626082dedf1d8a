"""Texts of the report to the ministry, on the pages and in the CLI (merged into web/i18n.TEXT)."""

from __future__ import annotations

MINISTRY_TEXT: dict[str, tuple[str, str]] = {
    "mr_title": ("Báo cáo gửi Bộ — {round_name} — {province}", "Report to the ministry — {round_name} — {province}"),
    "mr_status": ("Tình trạng", "Status"),
    "mr_due": ("Hạn gửi", "Due"),
    "mr_hash": ("Mã kiểm tra (SHA-256)", "Check code (SHA-256)"),
    "mr_draft_hash": ("Mã kiểm tra của bản đang xem", "Check code of the draft shown"),
    "mr_submitted": ("Đã gửi lúc {when}, người gửi {who}", "Submitted at {when} by {who}"),
    "mr_submit": ("Gửi báo cáo cho Bộ", "Submit the report to the ministry"),
    "mr_submit_note": (
        "Báo cáo gửi đi là bản đã xem ở trên; sau khi gửi không thể sửa đổi.",
        "The report submitted is the one shown above; once submitted it cannot be changed.",
    ),
    "mr_submitted_line": (
        "Đã gửi báo cáo {round_name} của {province} cho Bộ; mã kiểm tra {hash}.",
        "Submitted the report of {round_name} for {province} to the ministry; check code {hash}.",
    ),
    "mr_verified": ("Báo cáo khớp mã kiểm tra đã ghi sổ.", "The report matches the check code recorded."),
    "mr_altered": ("Báo cáo KHÔNG khớp mã kiểm tra đã ghi sổ.", "The report does NOT match the check code recorded."),
    "mr_link": ("Báo cáo kết quả kỳ đánh giá gửi Bộ", "The round's report to the ministry"),
    "board_round_share": (
        "{recognised}/{units} đơn vị được công nhận ({share})",
        "{recognised}/{units} units recognised ({share})",
    ),
    "board_round_target": ("chỉ tiêu {target}", "target {target}"),
    "national_nav": ("Báo cáo toàn quốc", "National report"),
    "national_title": ("Báo cáo toàn quốc — {round_name}", "National report — {round_name}"),
    "national_province": ("Tỉnh, thành phố", "Province"),
    "national_units": ("Số đơn vị", "Units"),
    "national_recognised": ("Được công nhận", "Recognised"),
    "national_share": ("Tỷ lệ", "Share"),
    "national_submitted_at": ("Ngày gửi", "Submitted on"),
    "national_totals": (
        "{submitted}/{provinces} tỉnh, thành phố đã gửi báo cáo: {recognised}/{units} đơn vị được công nhận ({share}).",
        "{submitted} of {provinces} provinces reported: {recognised} of {units} units recognised ({share}).",
    ),
    "ministry_granted": ("Đã cấp vai trò Bộ cho {official}.", "Granted the ministry role to {official}."),
    "ministry_had": ("{official} đã có vai trò Bộ.", "{official} already holds the ministry role."),
    "ministry_revoked": ("Đã thu hồi vai trò Bộ của {official}.", "Withdrew the ministry role from {official}."),
    "ministry_none": ("{official} không có vai trò Bộ.", "{official} does not hold the ministry role."),
}
