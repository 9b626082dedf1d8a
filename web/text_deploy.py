"""What `xptt deploy` says to the operator who deploys (the pre-deploy check's tables, the promotion); merged into
web/i18n.py's TEXT."""

from __future__ import annotations

DEPLOY_TEXT: dict[str, tuple[str, str]] = {
    "dep_title": (
        "Kiểm tra trước khi triển khai — mã phiên bản {build}",
        "Pre-deploy check — build {build}",
    ),
    "dep_scope_all": ("mọi tỉnh", "every province"),
    "dep_sample_all": ("kiểm tra toàn bộ", "every running workflow"),
    "dep_sample_n": ("tối đa {n} mỗi nhóm, cũ nhất trước", "at most {n} per group, oldest first"),
    "dep_kind": ("Loại", "Kind"),
    "dep_kind_case": ("Lượt xét công nhận", "Case"),
    "dep_kind_round": ("Kỳ đánh giá của tỉnh", "Province round"),
    "dep_rule_set": ("Bộ tiêu chí", "Rule set"),
    "dep_stage": ("Bước", "Stage"),
    "dep_running": ("Đang chạy", "Running"),
    "dep_checked": ("Đã chạy lại", "Replayed"),
    "dep_failed": ("Lỗi", "Failed"),
    "dep_total": ("Tổng", "Total"),
    "dep_failures_title": (
        "Không chạy lại được trên mã mới ({n})",
        "Cannot be replayed on the new code ({n})",
    ),
    "dep_workflow": ("Mã luồng xử lý", "Workflow id"),
    "dep_unit": ("Đơn vị", "Unit"),
    "dep_province": ("Tỉnh", "Province"),
    "dep_reason": ("Lý do", "Reason"),
    "dep_why_nondeterminism": ("mã mới ra lệnh khác lịch sử đã ghi", "the new code departs from the recorded history"),
    "dep_why_error": ("lỗi khi chạy lại", "the replay failed"),
    "dep_why_unreadable": ("không đọc được lịch sử", "the history could not be read"),
    "dep_passed": (
        "Đạt: {checked} luồng đang chạy đều chạy lại được trên mã mới.",
        "Passed: all {checked} running workflows replay on the new code.",
    ),
    "dep_failed_summary": (
        "Không đạt: {failed}/{checked} luồng không chạy lại được. Không được triển khai: xem docs/deploys.md.",
        "Failed: {failed} of {checked} workflows cannot be replayed. Do not deploy: see docs/deploys.md.",
    ),
    "dep_progress": ("Đã chạy lại {done}/{total}", "Replayed {done}/{total}"),
    "dep_listing": ("Đang liệt kê các luồng đang chạy…", "Listing the running workflows…"),
    "dep_promoted": (
        "Đã chuyển phiên bản hiện hành của {deployment} sang {build}.",
        "{deployment}'s current version is now {build}.",
    ),
    "dep_refused_check_failed": (
        "Từ chối chuyển phiên bản: kiểm tra không đạt, phiên bản hiện hành giữ nguyên.",
        "Promotion refused: the check failed; the current version is unchanged.",
    ),
    "dep_refused_no_workers": (
        "Từ chối chuyển phiên bản: chưa có worker nào của {build} kết nối máy chủ Temporal. "
        "Hãy khởi động worker mới trước.",
        "Promotion refused: no worker of {build} has polled the Temporal server yet. Start the new workers first.",
    ),
    "dep_refused_other_code": (
        "Từ chối chuyển phiên bản: {build} là mã của một bản mã quy trình khác bản đang kiểm tra ({here}); "
        "hãy chạy lệnh từ đúng bản phát hành.",
        "Promotion refused: {build} names other workflow code than the one checked here ({here}); "
        "run it from the release being deployed.",
    ),
    "dep_refused_server_refused": (
        "Từ chối chuyển phiên bản: máy chủ Temporal không chấp nhận ({detail}).",
        "Promotion refused: the Temporal server refused it ({detail}).",
    ),
    "dep_no_build": (
        "Chưa có mã phiên bản: đặt WORKER_BUILD_ID (hoặc --build-id) giống các worker mới.",
        "No build id: set WORKER_BUILD_ID (or --build-id) as the new workers have it.",
    ),
    "dep_status_title": ("Triển khai {deployment}", "Deployment {deployment}"),
    "dep_current": ("Phiên bản hiện hành", "Current version"),
    "dep_none": ("(chưa có: worker không phiên bản nhận việc)", "(none: unversioned workers take the tasks)"),
    "dep_version": ("Phiên bản", "Version"),
    "dep_status": ("Trạng thái", "Status"),
    "dep_st_current": ("hiện hành", "current"),
    "dep_st_ramping": ("đang chuyển dần", "ramping"),
    "dep_st_draining": ("đang rút (còn luồng ghim)", "draining (pinned workflows left)"),
    "dep_st_drained": ("đã rút xong, có thể tắt worker", "drained: its workers may stop"),
    "dep_st_inactive": ("chưa dùng", "inactive"),
    "dep_st_created": ("mới tạo", "created"),
    "dep_st_unspecified": ("không rõ", "unknown"),
}
