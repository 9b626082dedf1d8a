"""What the policy what-if says (the page /web/what-if, `xptt rules what-if`, its workbook): Vietnamese first, English
second; merged into web/i18n.py. And why a what-if was refused, in the reader's words, with its specifics
(`refusal_specifics`, `refusal_text`: from the Refusal's extra fields, services/whatif/service.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from web.text_cli import PYDANTIC_KEYS

if TYPE_CHECKING:
    from services.errors import Refusal
    from web.i18n import Translator

WHATIF_TEXT: dict[str, tuple[str, str]] = {
    "wi_nav": ("Dự thảo tiêu chí", "Draft rules"),
    "wi_title": ("Thử nghiệm dự thảo bộ tiêu chí", "What-if under a draft rule set"),
    "wi_intro": (
        "Chấm lại điểm Hội đồng đánh giá đã ghi nhận của các lượt xét đã có kết quả công nhận theo một dự thảo bộ "
        "tiêu chí. Không ghi gì vào hệ thống; dự thảo không bao giờ được dùng để xét công nhận.",
        "Re-evaluates the recorded council scores of a round's decided cases under a draft rule set. Nothing is "
        "written; the draft never decides a case.",
    ),
    "wi_draft_file": (
        "Tệp dự thảo bộ tiêu chí (YAML, đánh dấu là dự thảo)",
        "Draft rule set file (YAML, marked as a draft)",
    ),
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
    "wi_official": ("Kết quả chính thức", "Official result"),
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
    "wi_err_round_province": (
        "kỳ đánh giá hoặc tỉnh đã chọn không hợp lệ",
        "the round or the province chosen is not valid",
    ),
    "wi_err_too_large": ("tệp lớn hơn {maximum} byte", "the file is larger than {maximum} bytes"),
    "wi_err_not_utf8": ("tệp không phải văn bản UTF-8", "the file is not UTF-8 text"),
    "wi_err_at": ("Ở mục “{where}”: {reason}.", "At “{where}”: {reason}."),
    "wi_err_unknown_official": (
        "Tiêu chí không có trong bộ tiêu chí hiện hành: {numbers}.",
        "Criteria the rule set in force lacks: {numbers}.",
    ),
    "wi_err_unknown_draft": ("Tiêu chí không có trong dự thảo: {numbers}.", "Criteria the draft lacks: {numbers}."),
    "wi_err_official_only": (
        "Tiêu chí hiện hành không có tiêu chí cùng số trong dự thảo: {numbers}.",
        "Criteria in force with no draft criterion of that number: {numbers}.",
    ),
    "wi_err_draft_only": (
        "Tiêu chí của dự thảo không có tiêu chí hiện hành cùng số: {numbers}.",
        "Draft criteria with no criterion in force of that number: {numbers}.",
    ),
    "wi_kind_value": ("giá trị không hợp lệ", "not a valid value"),
    "wi_kind_extra": ("mục này không có trong cấu trúc của tệp", "not a field of this file"),
    "wi_kind_pattern": ("sai định dạng", "not in the expected form"),
    "wi_kind_int": ("phải là số nguyên", "must be a whole number"),
    "wi_kind_bool": ("phải là có hoặc không", "must be yes or no"),
    "wi_kind_text": ("phải là chuỗi ký tự", "must be text"),
    "wi_kind_too_few": ("cần ít nhất {min_length} mục", "needs at least {min_length} items"),
    "wi_kind_choice": ("không phải giá trị được phép", "not one of the values allowed"),
    "wi_kind_date": ("phải là một ngày", "must be a date"),
    "wi_kind_shape": ("sai kiểu dữ liệu", "of the wrong kind"),
    "wi_kind_yaml": ("tệp không phải YAML hợp lệ", "the file is not valid YAML"),
    "wi_kind_yaml_at": (
        "tệp không phải YAML hợp lệ (dòng {line}, cột {column})",
        "the file is not valid YAML (line {line}, column {column})",
    ),
    "wi_kind_not_mapping": ("tệp phải là một bảng mục: giá trị", "the file must be a mapping of fields"),
    "wi_kind_not_draft": ("tệp chưa được đánh dấu là dự thảo", "the file is not marked as a draft"),
    "wi_check_numbering": ("tiêu chí phải được đánh số liên tục từ 1", "criteria must be numbered from 1 in order"),
    "wi_check_max_total": (
        "tổng điểm tối đa của các tiêu chí khác tổng điểm tối đa của bộ tiêu chí",
        "the criteria's maxima do not add up to the rule set's maximum total",
    ),
    "wi_check_threshold": (
        "thiếu mức đạt hoặc mức đạt vượt tổng điểm tối đa",
        "the threshold is missing or above the maximum total",
    ),
    "wi_check_until": ("ngày hết hiệu lực trước ngày có hiệu lực", "ends before it starts"),
    "wi_check_bands": (
        "các mức điểm cộng lại vượt điểm tối đa của tiêu chí",
        "the bands add up to more than the criterion's maximum",
    ),
    "wi_check_note": ("giá trị giả định cần ghi chú lý do", "an assumed value needs a note saying why"),
    "wi_check_source": (
        "cần nêu nguồn, hoặc đánh dấu là giả định kèm ghi chú",
        "give the source, or mark it assumed with a note",
    ),
    "wi_undecided": (
        "{n} lượt xét chưa có kết quả công nhận: chưa được tính.",
        "{n} cases not yet decided: not counted.",
    ),
    "wi_undecided_head": ("Chưa có kết quả", "Not yet decided"),
    "wi_after_council": (
        "Đơn vị bị từ chối sau Hội đồng ({n})",
        "Units refused after the council ({n})",
    ),
    "wi_after_council_help": (
        "Hội đồng đánh giá đạt nhưng đơn vị không được công nhận (không đạt khi thẩm định, quyết định, hoặc rút hồ "
        "sơ): lý do nằm ngoài bộ tiêu chí, nên theo dự thảo đơn vị cũng không được tính là đạt chuẩn.",
        "The council passed them but they were not recognised (refused at appraisal or decision, or withdrawn): for "
        "reasons outside the criteria, so they are not counted as recognised under the draft either.",
    ),
    "wi_after_council_kind": ("bị từ chối sau Hội đồng", "refused after the council"),
    "wi_outcome": ("Kết quả", "Outcome"),
    "wi_units_hidden": (
        "Danh sách đơn vị chỉ dành cho quản trị viên và giám sát viên của tỉnh.",
        "The list of units is for the province's administrators and oversight officers only.",
    ),
    "wi_xlsx_units": ("Đơn vị", "Units"),
    "wi_xlsx_shares": ("Tỷ lệ", "Shares"),
    "wi_xlsx_search": ("Mức đạt cần có", "Thresholds needed"),
    "wi_xlsx_mapping": ("Đối chiếu tiêu chí", "Criteria mapping"),
    "wi_flip_none": ("không đổi", "unchanged"),
    "wi_not_assessed": ("chưa có kết quả Hội đồng", "no council verdict"),
    "wi_recognised": ("đạt chuẩn", "recognised"),
    "wi_not_recognised": ("chưa đạt chuẩn", "not recognised"),
}


# pydantic's error types a draft or a mapping fails with, and the kinds domain/whatif_files.py adds, in words (the
# commands' words, web/text_cli.py, where they have them); anything else: wi_kind_value
_KINDS = PYDANTIC_KEYS | {
    "extra_forbidden": "wi_kind_extra",
    "string_pattern_mismatch": "wi_kind_pattern",
    "int_parsing": "wi_kind_int",
    "int_type": "wi_kind_int",
    "int_from_float": "wi_kind_int",
    "bool_parsing": "wi_kind_bool",
    "bool_type": "wi_kind_bool",
    "string_type": "wi_kind_text",
    "too_short": "wi_kind_too_few",
    "enum": "wi_kind_choice",
    "literal_error": "wi_kind_choice",
    "date_parsing": "wi_kind_date",
    "date_from_datetime_parsing": "wi_kind_date",
    "date_type": "wi_kind_date",
    "dict_type": "wi_kind_shape",
    "list_type": "wi_kind_shape",
    "model_type": "wi_kind_shape",
    "model_attributes_type": "wi_kind_shape",
    "not_mapping": "wi_kind_not_mapping",
    "not_draft": "wi_kind_not_draft",
}
# the rule set's checks across fields (domain/rulesets.py, domain/datafiles.Basis), by the field they name
_CHECKS = {
    "criteria": "wi_check_numbering",
    "max_total": "wi_check_max_total",
    "thresholds": "wi_check_threshold",
    "until": "wi_check_until",
    "bands": "wi_check_bands",
    "note": "wi_check_note",
    "source": "wi_check_source",
}


def _file_reason(t: Translator, kind: str | None, ctx: dict[str, str]) -> str:
    if kind == "yaml":
        return t("wi_kind_yaml_at", **ctx) if "line" in ctx else t("wi_kind_yaml")
    if kind == "field_problem":
        named = [_CHECKS[part] for part in ctx.get("field", "").split(".") if part in _CHECKS]
        return t(named[0]) if named else t("wi_kind_value")
    key = _KINDS.get(kind or "", "wi_kind_value")
    try:
        return t(key, **ctx)
    except KeyError:  # a context the words do not carry
        return t("wi_kind_value")


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def refusal_specifics(t: Translator, exc: Refusal) -> str:
    """What exactly is wrong, from the refusal's extra fields, in the reader's words; "" when it says nothing more."""
    extra = exc.extra
    if "said" in extra:
        return _sentence(t(extra["said"], **{k: v for k, v in extra.items() if k == "maximum"}))
    if "where" in extra:
        reason = _file_reason(t, extra.get("kind"), extra.get("ctx") or {})
        where = str(extra["where"])
        plain = where in ("(document)", "draft") or where.startswith("line ")
        return _sentence(reason) if plain else t("wi_err_at", where=where, reason=reason)
    lines = [
        t(f"wi_err_{key}", numbers=", ".join(map(str, extra[key])))
        for key in ("unknown_official", "unknown_draft", "official_only", "draft_only")
        if extra.get(key)
    ]
    return " ".join(lines)


def refusal_text(t: Translator, exc: Refusal) -> str:
    """Why the what-if did not run, in the page's language, with its specifics (in English the service's own detail,
    which carries them)."""
    said = t.refusal(exc.code, exc.detail)
    specifics = refusal_specifics(t, exc) if t.lang != "en" else ""
    return t("wi_refused", reason=f"{said} {specifics}".strip())
