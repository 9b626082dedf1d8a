"""What the `xptt` commands say when they stop on bad input or cannot run (cli/common.py `fail` and the commands):
Vietnamese first, English second; merged into web/i18n.py."""

from __future__ import annotations

CLI_TEXT: dict[str, tuple[str, str]] = {
    "cli_error": ("Lỗi:", "error:"),
    "cli_field": ("{field}: {reason}", "{field}: {reason}"),
    "cli_named": ("{said}: {value}", "{said}: {value}"),
    "cli_all_needed": ("Dùng --all để xác nhận.", "Use --all to confirm."),
    "cli_bulk_counting": ("Đang đếm các lượt xét khớp bộ lọc…", "Counting the matches…"),
    "cli_bulk_applying": ("Đang áp dụng cho từng lượt xét khớp bộ lọc…", "Applying to every match…"),
    "cli_no_database": (
        "Chưa đặt DATABASE_URL (môi trường phát triển tự đặt; khi vận hành, trỏ tới PostgreSQL)",
        "DATABASE_URL is not set (the dev stack sets it; in production point it at PostgreSQL)",
    ),
    "cli_official_inactive": (
        "Cán bộ {official} chưa đăng ký hoặc đã ngừng hoạt động",
        "official {official} is not registered or not active",
    ),
    "cli_unreachable": ("Không kết nối được {what}: {detail}", "cannot reach {what}: {detail}"),
    "cli_pg_temporal": ("PostgreSQL hoặc Temporal", "PostgreSQL or Temporal"),
    "cli_temporal_at": ("Temporal tại {address}", "Temporal at {address}"),
    "cli_format": (
        "--format: “{value}” không phải một trong: {choices}",
        "--format: “{value}” is not one of {choices}",
    ),
    "cli_port_taken": (
        "Cổng {port} ({what}) đang bị chiếm: dừng chương trình đang giữ cổng hoặc chọn cổng khác",
        "port {port} ({what}) is already in use: stop what holds it or choose another port",
    ),
    "cli_due_one_of": (
        "Chỉ chọn một trong hai: --new-due-at hoặc --add-working-days",
        "give exactly one of --new-due-at and --add-working-days",
    ),
    "cli_due_not_iso": (
        "--new-due-at: “{value}” không phải ngày giờ ISO (ví dụ 2027-11-20T17:00+07:00)",
        "--new-due-at: “{value}” is not an ISO date-time (e.g. 2027-11-20T17:00+07:00)",
    ),
    "cli_due_no_zone": (
        "--new-due-at: thiếu múi giờ (time zone), ví dụ +07:00",
        "--new-due-at needs its time zone, e.g. +07:00",
    ),
    "cli_token_hours_days": ("Chỉ chọn --hours hoặc --days, không chọn cả hai", "give --hours or --days, not both"),
    "cli_token_person_hours": (
        "Mã của một người có hiệu lực tối đa {hours} giờ: dùng --hours (hoặc --service)",
        "a person's token lives at most {hours} hours: use --hours (or --service)",
    ),
    "cli_token_service_only": (
        "Đã đặt XPTT_JWT_SERVICE_ONLY: cán bộ đăng nhập qua nhà cung cấp OIDC; ở đây chỉ cấp mã --service",
        "XPTT_JWT_SERVICE_ONLY is set: people sign in through the OIDC provider; only --service tokens here",
    ),
    "cli_jti_length": ("jti dài từ 1 đến 200 ký tự", "a jti is 1 to 200 characters"),
    "cli_token_issued": ("jti {jti}, hết hạn {expires}", "jti {jti}, expires {expires}"),
    "cli_token_revoked": ("Đã thu hồi {jti}", "revoked {jti}"),
    "cli_token_already": ("{jti} đã bị thu hồi trước đó", "{jti} was already revoked"),
    "cli_units_seeded": ("Đã nạp {n} đơn vị", "{n} units seeded"),
    "cli_no_unit": ("Không có đơn vị hiện hành mã {unit}", "no current unit {unit}"),
    "cli_units_title": ("{n} đơn vị", "{n} units"),
    "cli_units_title_province": ("{n} đơn vị của tỉnh {province}", "{n} units in province {province}"),
    "cli_locality": ("Loại địa bàn", "Locality type"),
    "cli_units": ("Số đơn vị", "Units"),
    "cli_font_missing": (
        "thiếu {missing} trong {directory}: đặt XPTT_PDF_FONT_DIR là thư mục có DejaVuSerif.ttf cùng các kiểu Bold, "
        "Italic, BoldItalic (Debian: apt-get install fonts-dejavu-core fonts-dejavu-extra)",
        "{missing} not found in {directory}: set XPTT_PDF_FONT_DIR to a directory holding DejaVuSerif.ttf and its "
        "Bold, Italic and BoldItalic faces (Debian: apt-get install fonts-dejavu-core fonts-dejavu-extra)",
    ),
    # what pydantic says of a field, by its error type; anything else reads "giá trị không hợp lệ" with the reason
    "cli_invalid": ("giá trị không hợp lệ ({reason})", "not valid ({reason})"),
    "cli_missing": ("bắt buộc phải có", "required"),
    "cli_too_long": ("dài quá {max_length} ký tự", "longer than {max_length} characters"),
    "cli_too_short": ("ngắn hơn {min_length} ký tự", "shorter than {min_length} characters"),
    "cli_not_above": ("phải lớn hơn {gt}", "must be greater than {gt}"),
    "cli_not_at_least": ("phải từ {ge} trở lên", "must be at least {ge}"),
    "cli_not_below": ("phải nhỏ hơn {lt}", "must be less than {lt}"),
    "cli_not_at_most": ("phải không quá {le}", "must be at most {le}"),
}

# pydantic's error types said in words of their own (the keys above), with the context pydantic gives them
PYDANTIC_KEYS: dict[str, str] = {
    "missing": "cli_missing",
    "string_too_long": "cli_too_long",
    "string_too_short": "cli_too_short",
    "greater_than": "cli_not_above",
    "greater_than_equal": "cli_not_at_least",
    "less_than": "cli_not_below",
    "less_than_equal": "cli_not_at_most",
}
