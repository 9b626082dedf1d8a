"""What the policy what-if says (the page /web/what-if, `xptt rules what-if`, its workbook): Vietnamese first, English
second; merged into web/i18n.py."""

from __future__ import annotations

WHATIF_TEXT: dict[str, tuple[str, str]] = {
    "wi_nav": ("Dự thảo tiêu chí", "Draft rules"),
    "wi_title": ("Thử nghiệm dự thảo bộ tiêu chí", "What-if under a draft rule set"),
    "wi_intro": (
        "Chấm lại điểm Hội đồng đánh giá đã ghi nhận của các lượt xét đã kết thúc theo một dự thảo bộ tiêu chí. "
        "Không ghi gì vào hệ thống; dự thảo không bao giờ được dùng để xét công nhận.",
        "Re-evaluates the recorded council scores of a round's closed cases under a draft rule set. Nothing is "
        "written; the draft never decides a case.",
    ),
    "wi_draft_file": ("Tệp dự thảo bộ tiêu chí (YAML, có draft: true)", "Draft rule set file (YAML, draft: true)"),
    "wi_mapping_file": (
        "Tệp đối chiếu tiêu chí (YAML, không bắt buộc)",
        "Criteria mapping file (YAML, optional)",
    ),
    "wi_province_all": ("Toàn quốc", "The whole country"),
    "wi_run": ("Chạy thử nghiệm", "Run the what-if"),
    "wi_heading": (
        "{round_name} — theo {draft}",
        "{round_name} — under {draft}",
    ),
    "wi_shares": ("Tỷ lệ đơn vị đạt chuẩn", "Share of units recognised"),
    "wi_scope": ("Phạm vi", "Scope"),
    "wi_national": ("Toàn quốc", "Nationally"),
    "wi_units": ("Số đơn vị", "Units"),
    "wi_assessed": ("Đã có kết quả Hội đồng", "With a council verdict"),
    "wi_official": ("Theo bộ tiêu chí hiện hành", "Under the rule set in force"),
    "wi_draft": ("Theo dự thảo", "Under the draft"),
    "wi_target": ("Chỉ tiêu", "Target"),
    "wi_no_target": ("chưa có chỉ tiêu", "no target"),
    "wi_meets": ("đạt chỉ tiêu", "meets the target"),
    "wi_misses": ("chưa đạt chỉ tiêu", "misses the target"),
    "wi_count_share": ("{n} ({share})", "{n} ({share})"),
    "wi_search": (
        "Mức điểm đạt cao nhất để tỉnh vẫn đạt chỉ tiêu",
        "Highest threshold at which the province reaches its target",
    ),
    "wi_search_help": (
        "Với từng loại địa bàn, giữ nguyên mức đạt của các loại khác theo dự thảo: mức điểm đạt cao nhất mà tỉnh "
        "vẫn đạt chỉ tiêu (mọi mức thấp hơn cũng đạt).",
        "Per locality type, the others held at the draft's thresholds: the highest threshold at which the province "
        "still reaches its target (every lower one does too).",
    ),
    "wi_locality": ("Loại địa bàn", "Locality type"),
    "wi_draft_threshold": ("Mức đạt theo dự thảo", "Draft threshold"),
    "wi_found": ("Mức đạt cần có", "Threshold needed"),
    "wi_change": ("Cần hạ", "Lower by"),
    "wi_unreachable": ("không thể đạt (kể cả ở mức 1 điểm)", "unreachable (even at 1 point)"),
    "wi_points": ("{n} điểm", "{n} points"),
    "wi_raise": ("có thể nâng {n} điểm", "could rise by {n} points"),
    "wi_flipped": ("Đơn vị thay đổi kết quả ({n})", "Units whose result changes ({n})"),
    "wi_no_flips": ("Không đơn vị nào thay đổi kết quả.", "No unit's result changes."),
    "wi_unit": ("Đơn vị", "Unit"),
    "wi_province": ("Tỉnh, thành phố", "Province"),
    "wi_change_kind": ("Thay đổi", "Change"),
    "wi_gained": ("chưa đạt → đạt chuẩn", "not recognised → recognised"),
    "wi_lost": ("đạt → chưa đạt chuẩn", "recognised → not recognised"),
    "wi_why_official": ("Lý do theo bộ tiêu chí hiện hành", "Why, under the rule set in force"),
    "wi_why_draft": ("Lý do theo dự thảo", "Why, under the draft"),
    "wi_total_of": ("{total}/{threshold} điểm", "{total}/{threshold} points"),
    "wi_meets_all": ("đủ điều kiện", "meets every condition"),
    "wi_capped": (
        "tiêu chí {criterion} của dự thảo (gộp {sources}): {points} điểm, tính tối đa {maximum}",
        "draft criterion {criterion} (merging {sources}): {points} points, counted at most {maximum}",
    ),
    "wi_capped_head": ("Điểm gộp vượt mức tối đa", "Merged points above the maximum"),
    "wi_mapping": ("Đối chiếu tiêu chí", "Criteria mapping"),
    "wi_identity": (
        "Không có tệp đối chiếu: tiêu chí giữ nguyên số thứ tự.",
        "No mapping: each criterion keeps its number.",
    ),
    "wi_dropped": ("Tiêu chí bị bỏ", "Criteria dropped"),
    "wi_unmapped": (
        "Tiêu chí chưa được đối chiếu (điểm không được tính)",
        "Criteria left unmapped (their points count nowhere)",
    ),
    "wi_unscored": (
        "Tiêu chí của dự thảo không có điểm đã ghi nhận",
        "Draft criteria with no recorded score",
    ),
    "wi_criterion_line": ("Tiêu chí {number}: {name}", "Criterion {number}: {name}"),
    "wi_refused": ("Chưa chạy được thử nghiệm: {reason}", "The what-if did not run: {reason}"),
    "wi_err_draft": ("tệp dự thảo chưa hợp lệ ở “{where}”", "the draft is not valid at “{where}”"),
    "wi_err_mapping": ("tệp đối chiếu tiêu chí chưa hợp lệ", "the criteria mapping is not valid"),
    "wi_err_missing_draft": ("chưa chọn tệp dự thảo", "no draft file was chosen"),
    "wi_detail": ("Chi tiết kỹ thuật", "Technical detail"),
    "wi_xlsx_units": ("Đơn vị", "Units"),
    "wi_xlsx_shares": ("Tỷ lệ", "Shares"),
    "wi_xlsx_search": ("Mức đạt cần có", "Thresholds needed"),
    "wi_xlsx_mapping": ("Đối chiếu tiêu chí", "Criteria mapping"),
    "wi_flip_none": ("không đổi", "unchanged"),
    "wi_not_assessed": ("chưa có kết quả Hội đồng", "no council verdict"),
    "wi_recognised": ("đạt chuẩn", "recognised"),
    "wi_not_recognised": ("chưa đạt chuẩn", "not recognised"),
}
