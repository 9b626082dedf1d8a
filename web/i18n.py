"""Vietnamese first, English on request (?lang=en, remembered in a cookie)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

import glossary
from web.text_case import CASE_TEXT
from web.text_cli import CLI_TEXT
from web.text_deploy import DEPLOY_TEXT
from web.text_directory import DIRECTORY_TEXT
from web.text_history import HISTORY_TEXT
from web.text_ministry import MINISTRY_TEXT
from web.text_reconcile import RECONCILE_TEXT
from web.text_stage_times import STAGE_TIMES_TEXT
from web.text_whatif import WHATIF_TEXT

LANGS = ("vi", "en")
COOKIE = "xptt_lang"

TEXT: dict[str, tuple[str, str]] = {
    "app": ("Xã, phường, thị trấn phù hợp với trẻ em", "Child-friendly communes, wards and towns"),
    "signin": ("Đăng nhập", "Sign in"),
    "signout": ("Đăng xuất", "Sign out"),
    "token": ("Mã truy cập (bearer token)", "Access token (bearer token)"),
    "token_help": (
        "Dán mã truy cập do quản trị viên cấp (lệnh xptt token) hoặc từ nhà cung cấp định danh.",
        "Paste the token your administrator issued (xptt token) or one from the identity provider.",
    ),
    "my_tasks": ("Việc của tôi", "My tasks"),
    "board": ("Bảng điều hành", "Board"),
    "no_tasks": ("Không có việc nào đang chờ.", "Nothing is waiting for you."),
    "unit": ("Đơn vị", "Unit"),
    "stage": ("Bước", "Stage"),
    "due": ("Hạn", "Due"),
    "overdue": ("Quá hạn", "Overdue"),
    "escalated": ("Đã chuyển cấp", "Escalated"),
    "round": ("Kỳ đánh giá", "Round"),
    "open": ("Mở", "Open"),
    "case": ("Lượt xét công nhận", "Case"),
    "timeline": ("Diễn biến", "Timeline"),
    "criterion": ("Tiêu chí", "Criterion"),
    "max": ("tối đa", "max"),
    "points": ("điểm", "points"),
    "source": ("Nguồn số liệu", "Data source"),
    "total": ("Tổng điểm", "Total"),
    "threshold": ("Mức đạt", "Threshold"),
    "preview": ("Xem trước kết quả", "Preview the verdict"),
    "submit": ("Gửi", "Submit"),
    "would_recognise": ("Dự kiến: đạt chuẩn", "Preview: would be recognised"),
    "would_not": ("Dự kiến: chưa đạt chuẩn", "Preview: would not be recognised"),
    "refused": ("Chưa gửi được, xin sửa các ô được đánh dấu.", "Not submitted: please correct the marked fields."),
    "done": ("Đã gửi. Lượt xét công nhận đã chuyển sang bước tiếp theo.", "Submitted. The case has moved on."),
    "not_yours": ("Bạn không thể hoàn thành việc này.", "You cannot complete this task."),
    "counts_by_stage": ("Số lượt xét đang mở theo bước", "Open cases by stage"),
    "counts_by_unit": ("Vướng mắc theo đơn vị và bước", "Stuck by unit and stage"),
    "cases": ("Số lượt xét", "Cases"),
    "stuck_items": ("Việc quá hạn, chuyển cấp, tạm dừng", "Overdue, escalated and held"),
    "reason": ("Lý do", "Reason"),
    "since": ("Từ", "Since"),
    "bulk_extend": ("Gia hạn hàng loạt", "Extend due dates in bulk"),
    "add_days": ("Thêm số ngày làm việc", "Working days to add"),
    "only_overdue": ("Chỉ việc quá hạn", "Overdue tasks only"),
    "all_stages": ("Mọi bước", "All stages"),
    "unit_code": ("Mã đơn vị (để trống: tất cả)", "Unit code (empty: all)"),
    "why": ("Lý do (ghi vào nhật ký)", "Reason (journalled)"),
    "dry_run": ("Đếm trước (chưa thay đổi gì)", "Count first (changes nothing)"),
    "apply": ("Áp dụng", "Apply"),
    "matched": ("Số lượt xét khớp", "Cases matched"),
    "applied": ("Đã áp dụng", "Applied"),
    "refused_n": ("Bị từ chối", "Refused"),
    "confirm": ("Xác nhận gia hạn cho {n} lượt xét", "Confirm: extend {n} cases"),
    "bulk_unfiltered": (
        "Chưa chọn bước, đơn vị hay điều kiện nào: gia hạn sẽ áp dụng cho toàn bộ {n} lượt xét đang mở của tỉnh.",
        "No stage, unit or condition is chosen: the extension applies to all {n} open cases of the province.",
    ),
    "bulk_all": ("Tôi xác nhận gia hạn cho toàn bộ {n} lượt xét đang mở", "Yes, extend all {n} open cases"),
    "empty_filter": (
        "Chưa có gì thay đổi: bộ lọc chưa chọn bước, đơn vị hay điều kiện nào, nên sẽ áp dụng cho mọi lượt xét đang mở "
        "của tỉnh. Xin chọn bớt, hoặc đánh dấu ô xác nhận áp dụng cho toàn bộ.",
        "Nothing was changed: the filter names no stage, unit or condition, so it would apply to every open case of "
        "the province. Narrow it, or tick the box confirming all of them.",
    ),
    # the board: why an item is listed, and the notifications that failed
    "stuck": ("Bị kẹt", "Stuck"),
    "on_hold": ("Tạm dừng", "On hold"),
    "failed_notification": ("Thông báo không gửi được", "Notification failed"),
    "failing_activity": ("Xử lý tự động lỗi lặp lại", "Failing activity"),
    "no_holder": ("Không ai đảm nhận vai trò này", "No one holds this role"),
    "role_gaps": ("Vai trò chưa có người đảm nhận", "Roles no one holds"),
    "role_gaps_count": ("{gaps} vai trò cần có chưa có người đảm nhận", "{gaps} needed roles are held by no one"),
    "failed_notifications": ("Thông báo không gửi được", "Notifications that failed"),
    "failed_short": ("Thông báo lỗi", "Failed notices"),
    "notification": ("Thông báo", "Notification"),
    "recipient": ("Người nhận", "Recipient"),
    "attempts": ("Số lần gửi", "Attempts"),
    "ntf_invalid_address": ("Địa chỉ email không hợp lệ", "Not a valid email address"),
    "ntf_smtp_recipient_refused": ("Máy chủ thư từ chối địa chỉ người nhận", "The mail server refused the recipient"),
    "ntf_smtp_message_rejected": ("Máy chủ thư từ chối nội dung thư", "The mail server rejected the message"),
    "ntf_no_address": ("Người nhận chưa có địa chỉ", "The recipient has no address"),
    "ntf_webhook_refused": ("Hệ thống nhận webhook từ chối", "The webhook receiver refused it"),
    "ntf_webhook_url_not_https": ("Địa chỉ webhook không dùng https", "The webhook address is not https"),
    "ntf_retries_exhausted": ("Đã thử lại nhiều lần mà không gửi được", "Retries exhausted"),
    "channel_email": ("thư điện tử", "email"),
    "channel_webhook": ("webhook", "webhook"),
    "province": ("Tỉnh", "Province"),
    "round_progress": ("Tiến độ kỳ đánh giá", "Round progress"),
    "recognised": ("Đạt chuẩn", "Recognised"),
    "recognised_share": ("Tỷ lệ đạt chuẩn", "Share recognised"),
    "target": ("Chỉ tiêu", "Target"),
    "units": ("Số đơn vị", "Units"),
    # a round's progress and report (the round page, xptt round)
    "round_opening": ("Đang mở", "Opening"),
    "round_opened": ("Đã mở {round_name}", "{round_name} opened"),
    "round_cases_opened": ("Số lượt xét đã mở", "Cases opened"),
    "round_progress_title": (
        "Tiến độ {round_name} — {province}: {cases} lượt xét / {units} đơn vị",
        "Progress of {round_name} — {province}: {cases} cases of {units} units",
    ),
    "round_report_title": (
        "Báo cáo {round_name} — {province} ({state})",
        "Report of {round_name} — {province} ({state})",
    ),
    "round_final": ("đã kết thúc", "final"),
    "round_ongoing": ("đang diễn ra", "open"),
    "round_outcome": ("Kết quả: {outcome}", "Outcome: {outcome}"),
    "round_registered": ("Đã đăng ký", "Registered"),
    "round_assessed": ("Hội đồng đã đánh giá", "Assessed by the council"),
    "round_submitted": ("Đã nộp hồ sơ", "Dossier submitted"),
    "round_share_percent": ("Tỷ lệ đạt chuẩn", "Share recognised"),
    "closed": ("Đã kết thúc", "Closed"),
    "when": ("Thời điểm", "When"),
    "event": ("Sự kiện", "Event"),
    "actor": ("Người thực hiện", "By"),
    "lang_other": ("English", "Tiếng Việt"),
    # the officials' directory (xptt officials)
    # the officials' page (/web/officials)
    "officials": ("Danh bạ cán bộ", "Officials"),
    "officials_title": ("Danh bạ cán bộ — {province}", "Officials — {province}"),
    "officials_counts": ("{active} đang hoạt động / {total} cán bộ", "{active} active of {total} officials"),
    "officials_read_only": (
        "Trang chỉ để xem. Danh bạ được thay đổi bằng tệp nhập (CSV, XLSX), API hoặc lệnh xptt officials.",
        "This page only reads. The directory changes through an import (CSV, XLSX), the API or xptt officials.",
    ),
    "officials_none": ("Tỉnh chưa có cán bộ nào trong danh bạ.", "The province has no officials in the directory."),
    "bad_token": ("Không đăng nhập được", "The token was not accepted"),
    "error": ("Lỗi", "Error"),
    "nothing_stuck": ("Không có gì bị vướng.", "Nothing is stuck."),
    "registered": ("Đăng ký phấn đấu", "Registers to strive for the standard"),
    "note": ("Ghi chú", "Note"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "meeting_date": ("Ngày họp hội đồng", "Council meeting date"),
    "minutes_ref": ("Số biên bản họp", "Minutes reference"),
    "members": ("Thành viên hội đồng (mỗi dòng một người)", "Council members (one per line)"),
    "answers": ("Trả lời ý kiến (mỗi dòng: mã: trả lời)", "Answers to objections (one per line: id: answer)"),
    "posted_from": ("Niêm yết từ ngày", "Posted from"),
    "posted_to": ("Niêm yết đến ngày", "Posted until"),
    "place": ("Địa điểm niêm yết", "Place of posting"),
    "objections": ("Ý kiến phản ánh (mỗi dòng: mã: nội dung)", "Objections (one per line: id: text)"),
    "outcome": ("Kết quả thẩm định", "Appraisal outcome"),
    "findings": ("Nhận xét", "Findings"),
    "missing": ("Hồ sơ cần bổ sung (mỗi dòng một mục)", "Missing documents (one per line)"),
    "decision_recognised": ("Công nhận đạt chuẩn", "Recognise"),
    "decision_number": ("Số quyết định", "Decision number"),
    "decision_date": ("Ngày quyết định", "Decision date"),
    "reasons": ("Lý do (mỗi dòng một lý do)", "Reasons (one per line)"),
    "awarded": ("Khen thưởng", "Award the commendation"),
    "doc_request_letter": ("Công văn đề nghị (số)", "Request letter (reference)"),
    "doc_assessment_report": ("Báo cáo đánh giá (số)", "Assessment report (reference)"),
    "doc_data_explanation": ("Giải trình nguồn số liệu (số)", "Data explanation (reference)"),
    "doc_council_minutes": ("Biên bản họp hội đồng (số)", "Council minutes (reference)"),
    "accept": ("Chấp nhận", "Accept"),
    "return": ("Trả lại để bổ sung", "Return for completion"),
    "refuse": ("Từ chối", "Refuse"),
    "refused_generic": ("Yêu cầu không thực hiện được.", "The request was refused."),
    "skip": ("Chuyển đến nội dung chính", "Skip to main content"),
    "points_col": ("Điểm", "Points"),
    "held": ("Tạm dừng", "On hold"),
    "back_to_form": ("Quay lại biểu mẫu", "Back to the form"),
    "csrf_title": ("Biểu mẫu đã hết hiệu lực", "The form has expired"),
    "csrf_refused": (
        "Biểu mẫu đã cũ hoặc được gửi từ một trang khác (thiếu hoặc sai mã chống giả mạo CSRF). Chưa có gì thay đổi. "
        "Xin mở lại trang rồi gửi lại.",
        "The form is stale or was sent from another site (its CSRF token is missing or wrong). Nothing was changed. "
        "Open the page again and send it again.",
    ),
    # a case waiting with no task for its stage to open; the journal's actions on a case's timeline
    "standing_striving": ("Đang phấn đấu — tự đánh giá mở ngày {day}", "Striving — self-assessment opens on {day}"),
    "standing_awaiting_registration": (
        "Chờ mở đăng ký — mở ngày {day}",
        "Waiting for registration to open — opens on {day}",
    ),
    "line_striving": ("Đang phấn đấu", "Striving"),
    "line_awaiting_registration": ("Chờ mở đăng ký", "Waiting for registration to open"),
    # OIDC sign-in
    "signin_with": ("Đăng nhập bằng {name}", "Sign in with {name}"),
    "identity_provider": ("tài khoản định danh", "the identity provider"),
    "oidc_help": (
        "Bạn sẽ được chuyển đến trang đăng nhập của nhà cung cấp định danh, rồi quay lại đây.",
        "You will be taken to the identity provider's sign-in page and brought back here.",
    ),
    "or_token": ("Hoặc dán mã truy cập", "Or paste an access token"),
    "signin_again": ("Đăng nhập lại", "Sign in again"),
    "oidc_off_title": ("Chưa bật đăng nhập qua nhà cung cấp định danh", "Sign-in with the identity provider is off"),
    "oidc_off": (
        "Hệ thống này chưa được cấu hình đăng nhập qua nhà cung cấp định danh (OIDC). Xin đăng nhập bằng mã truy cập.",
        "This system is not configured for sign-in with an identity provider (OIDC). Sign in with an access token.",
    ),
    "oidc_unavailable_title": ("Không kết nối được nhà cung cấp định danh", "The identity provider cannot be reached"),
    "oidc_unavailable": (
        "Không đọc được thông tin của nhà cung cấp định danh. Xin thử lại sau ít phút.",
        "The identity provider's configuration cannot be read now. Please try again in a few minutes.",
    ),
    "oidc_state_title": ("Phiên đăng nhập không khớp", "The sign-in does not match"),
    "oidc_state": (
        "Lần đăng nhập này đã quá hạn hoặc được bắt đầu từ một trình duyệt khác (tham số state không khớp), "
        "nên đã bị từ chối. Xin đăng nhập lại.",
        "This sign-in expired or was started in another browser (the state parameter does not match), so it was "
        "refused. Please sign in again.",
    ),
    "oidc_denied_title": ("Nhà cung cấp định danh không cho đăng nhập", "The identity provider refused the sign-in"),
    "oidc_denied": (
        "Nhà cung cấp định danh trả về lỗi “{error}”. Bạn chưa được đăng nhập.",
        "The identity provider answered with the error “{error}”. You are not signed in.",
    ),
    "oidc_exchange_title": ("Không hoàn tất được đăng nhập", "The sign-in could not be completed"),
    "oidc_exchange": (
        "Không đổi được mã đăng nhập lấy thẻ định danh (ID token) tại nhà cung cấp. Xin đăng nhập lại; nếu vẫn lỗi, "
        "báo quản trị viên.",
        "The sign-in code could not be exchanged for an ID token at the provider. Please sign in again; if it keeps "
        "failing, tell your administrator.",
    ),
    "oidc_token_title": ("Thẻ định danh không hợp lệ", "The ID token was not accepted"),
    "oidc_token": (
        "Thẻ định danh (ID token) nhà cung cấp gửi về không qua được kiểm tra (chữ ký, bên phát hành, ứng dụng nhận, "
        "nonce hoặc thời hạn). Bạn chưa được đăng nhập.",
        "The ID token the provider sent did not pass its checks (signature, issuer, audience, nonce or expiry). "
        "You are not signed in.",
    ),
    "oidc_unknown_title": ("Tài khoản chưa được cấp quyền", "Not an official of this system"),
    "oidc_unknown": (
        "Tài khoản “{sub}” đã đăng nhập ở nhà cung cấp định danh nhưng không phải là cán bộ đang hoạt động trong hệ "
        "thống. Xin liên hệ quản trị viên để được cấp quyền.",
        "The account “{sub}” signed in at the identity provider but is not an active official of this system. "
        "Ask your administrator for access.",
    ),
}


TEXT |= DIRECTORY_TEXT | CASE_TEXT | MINISTRY_TEXT | HISTORY_TEXT
TEXT |= DEPLOY_TEXT | RECONCILE_TEXT | CLI_TEXT
TEXT |= STAGE_TIMES_TEXT
TEXT |= WHATIF_TEXT

# keys read from the glossary: `kind_task_assigned` is the notification kind's term, and so on
GLOSSARY_PREFIXES = {
    "kind_": "notification",
    "action_": "action",
    "profile_": "profile",
    "round_outcome_": "outcome",
    "stuck_": "stuck",
    "stage_": "stage",
    "role_": "role",
}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE) or "vi"
    return asked if asked in LANGS else "vi"


class Translator:
    """Page and table texts by key (TEXT), and the glossary's terms for codes (glossary/terms.yaml): a key
    `<prefix><code>` whose prefix names a glossary section is read there, so templates and tables that name a code
    through a prefix get the glossary's one term for it."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._i = LANGS.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        pair = TEXT.get(key)
        if pair is None:
            for prefix, name in GLOSSARY_PREFIXES.items():
                if key.startswith(prefix) and glossary.known(name, key[len(prefix) :]):
                    return glossary.term(name, key[len(prefix) :], self.lang, **values)
            return key
        text = pair[self._i]
        return text.format(**values) if values else text

    def term(self, section: str, code: str | None, **values: object) -> str:
        return glossary.term(section, code or "", self.lang, **values) if code else ""

    def stage(self, stage: str) -> str:
        return self.term("stage", stage)

    def role(self, role: str) -> str:
        return self.term("role", role)

    def outcome(self, outcome: str | None) -> str:
        return self.term("outcome", outcome)

    def refusal(self, code: str, detail: str, extra: Mapping[str, Any] | None = None) -> str:
        """Why a request was refused: the glossary's sentence for its code (an unreadable file's problem named from
        `extra`); in English the service's own detail."""
        if self.lang == "en":
            return detail
        return glossary.refusal(code, extra, self.lang) or self("refused_generic")
