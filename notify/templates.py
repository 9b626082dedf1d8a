"""Texts of the notifications: Jinja2 templates under notify/templates/<locale>/<kind>.j2, Vietnamese first,
English when a Vietnamese template is missing (or the official chose English). Pure: no clock, no IO but the
template files.

A template defines two blocks, `subject` (one line) and `body` (plain text). It sees the event's context plus
`recipient` (the official's name), `link` (absolute URL or None) and the filters `local_time` (an ISO or aware
datetime in Asia/Ho_Chi_Minh), `stage_name`, `role_name` and `outcome_name` in the template's language.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, ConfigDict

from domain.calendar import TZ

TEMPLATES_DIR = Path(__file__).parent / "templates"
FALLBACK_LOCALE = "en"

STAGE_NAMES: dict[str, dict[str, str]] = {
    "vi": {
        "registration": "Đăng ký",
        "self_assessment": "Tự đánh giá",
        "council_assessment": "Hội đồng đánh giá",
        "public_posting": "Niêm yết công khai",
        "dossier_submission": "Nộp hồ sơ đề nghị công nhận",
        "appraisal": "Thẩm định hồ sơ",
        "decision": "Quyết định công nhận",
        "commendation": "Xét khen thưởng",
        "closed": "Kết thúc",
    },
    "en": {
        "registration": "Registration",
        "self_assessment": "Self-assessment",
        "council_assessment": "Council assessment",
        "public_posting": "Public posting",
        "dossier_submission": "Dossier submission",
        "appraisal": "Appraisal",
        "decision": "Recognition decision",
        "commendation": "Commendation check",
        "closed": "Closed",
    },
}
ROLE_NAMES: dict[str, dict[str, str]] = {
    "vi": {
        "commune_officer": "Cán bộ văn hóa - xã hội",
        "commune_chairman": "Chủ tịch UBND cấp xã",
        "council_chair": "Chủ tịch Hội đồng đánh giá",
        "district_appraiser": "Phòng Lao động - Thương binh và Xã hội cấp huyện",
        "district_chairman": "Chủ tịch UBND cấp huyện",
        "appraiser": "Cơ quan thẩm định",
        "chairman": "Người có thẩm quyền công nhận",
        "provincial_chairman": "Chủ tịch UBND cấp tỉnh",
        "admin": "Quản trị viên",
        "auditor": "Kiểm toán viên",
    },
    "en": {
        "commune_officer": "Commune officer",
        "commune_chairman": "Commune chairman",
        "council_chair": "Council chair",
        "district_appraiser": "District labour office",
        "district_chairman": "District chairman",
        "appraiser": "Appraising office",
        "chairman": "Deciding authority",
        "provincial_chairman": "Provincial chairman",
        "admin": "Administrator",
        "auditor": "Auditor",
    },
}
OUTCOME_NAMES: dict[str, dict[str, str]] = {
    "vi": {
        "recognised": "được công nhận",
        "not_recognised": "không được công nhận",
        "not_registered": "không đăng ký",
        "not_submitted": "không nộp hồ sơ",
        "withdrawn": "rút khỏi đợt đánh giá",
    },
    "en": {
        "recognised": "recognised",
        "not_recognised": "not recognised",
        "not_registered": "not registered",
        "not_submitted": "dossier not submitted",
        "withdrawn": "withdrawn from the round",
    },
}


class TemplateMissing(LookupError):
    """Neither the official's language nor English has a template for this kind."""


class Rendered(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    body: str
    locale: str


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"a naive datetime cannot be shown in local time: {value!r}")
    return moment.astimezone(TZ)


def local_time(value: Any, locale: str = "vi") -> str:
    moment = _as_datetime(value)
    if moment is None:
        return "—"
    if locale == "vi":
        return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"
    return f"{moment:%H:%M}, {moment:%d %b %Y} (Vietnam time)"


def local_day(value: Any, locale: str = "vi") -> str:
    moment = _as_datetime(value)
    if moment is None:
        return "—"
    return f"{moment:%d/%m/%Y}" if locale == "vi" else f"{moment:%d %b %Y}"


def _name(table: dict[str, dict[str, str]], locale: str, value: Any) -> str:
    if value is None:
        return "—"
    return table.get(locale, table[FALLBACK_LOCALE]).get(str(value), str(value))


@cache
def _environment(directory: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,  # a missing field is a bug in the caller, not an empty line in a mail
        autoescape=False,  # plain-text mail and JSON, never HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _block(template: jinja2.Template, name: str, context: dict[str, Any]) -> str:
    if name not in template.blocks:
        raise TemplateMissing(f"template {template.name} has no `{name}` block")
    return "".join(template.blocks[name](template.new_context(context))).strip()


def render(kind: str, context: dict[str, Any], *, locale: str = "vi", directory: Path = TEMPLATES_DIR) -> Rendered:
    """Subject and body of `kind` in `locale`, else in English."""
    env = _environment(directory)
    for candidate in dict.fromkeys((locale, FALLBACK_LOCALE)):
        try:
            template = env.get_template(f"{candidate}/{kind}.j2")
        except jinja2.TemplateNotFound:
            continue
        full = {
            **context,
            "locale": candidate,
            "local_time": lambda v, _l=candidate: local_time(v, _l),
            "local_day": lambda v, _l=candidate: local_day(v, _l),
            "stage_name": lambda v, _l=candidate: _name(STAGE_NAMES, _l, v),
            "role_name": lambda v, _l=candidate: _name(ROLE_NAMES, _l, v),
            "outcome_name": lambda v, _l=candidate: _name(OUTCOME_NAMES, _l, v),
        }
        subject = " ".join(_block(template, "subject", full).split())
        return Rendered(subject=subject, body=_block(template, "body", full) + "\n", locale=candidate)
    raise TemplateMissing(f"no template for notification kind {kind!r} in {locale!r} or {FALLBACK_LOCALE!r}")
