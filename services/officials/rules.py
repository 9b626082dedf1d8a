"""What the directory accepts, checked the same way for the API, the CLI and the import: an official's details
(name, title, email, Vietnamese phone, language, OIDC issuer and subject) and a role assignment (a role at the scope
the law gives it, a unit of the province, valid days). Pure: no database.

Each check refuses with a `Refusal` (422) naming the field — as the caller calls it (`names`: the import's column
headers) — with a stable code and the reason, so that nothing half-checked is ever written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import glossary
from domain.procedure import load_profile
from domain.stages import Role
from services.errors import Refusal
from services.fields import ID_PATTERN
from services.sheets import column_key as folded  # 'Chủ tịch UBND cấp xã' → 'chu_tich_ubnd_cap_xa'

COMMUNE_ROLES = frozenset({Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIRMAN, Role.COUNCIL_CHAIR})
PROVINCE_ROLES = frozenset({Role.APPRAISER, Role.CHAIRMAN, Role.PROVINCIAL_CHAIRMAN, Role.ADMIN, Role.AUDITOR})
DISTRICT_ROLES = frozenset({Role.DISTRICT_APPRAISER, Role.DISTRICT_CHAIRMAN})
LOCALES = ("vi", "en")

EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
NATIONAL_PHONE = re.compile(r"0[1-9][0-9]{8}|02[0-9]{9}")  # 10 digits; a landline: 02 and 9 more
INTERNATIONAL_PHONE = re.compile(r"\+84(?:[1-9][0-9]{8}|2[0-9]{9})")
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
VN_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
OFFICIAL_ID = re.compile(ID_PATTERN)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Field names as the API calls them; the import maps them to its column headers.
OFFICIAL_FIELDS = ("full_name", "position_title", "email", "phone", "locale", "oidc_issuer", "oidc_subject")


def refuse(code: str, field: str, detail: str, *, status: int = 422) -> Refusal:
    return Refusal(status, code, f"{field}: {detail}", field=field)


@dataclass(frozen=True)
class OfficialValues:
    """An official's details as checked: text trimmed, the phone in its national form, the email as given."""

    full_name: str
    position_title: str | None = None
    email: str | None = None
    phone: str | None = None
    locale: str = "vi"
    oidc_issuer: str | None = None
    oidc_subject: str | None = None

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AssignmentValues:
    """A role at its scope (unit None: the whole province), valid from and until (inclusive; None: open-ended)."""

    role: Role
    province_code: str
    unit_code: str | None
    valid_from: date | None = None
    valid_until: date | None = None

    def key(self) -> tuple[str, str, str | None]:
        return self.role.value, self.province_code, self.unit_code

    def snapshot(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "province_code": self.province_code,
            "unit_code": self.unit_code,
            "valid_from": day_text(self.valid_from),
            "valid_until": day_text(self.valid_until),
        }


def day_text(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# -- an official's details -------------------------------------------------------------------------------------------
def _text(value: Any, field: str, *, limit: int, required: bool = False) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise refuse("missing_value", field, "is required")
        return None
    if len(text) > limit:
        raise refuse("invalid_text", field, f"is longer than {limit} characters")
    if CONTROL.search(text):
        raise refuse("invalid_text", field, "holds a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse("invalid_text", field, "is not text (a lone surrogate)") from None
    return text


def check_official_id(value: Any, field: str = "id") -> str:
    text = _text(value, field, limit=200, required=True)
    assert text is not None
    if not OFFICIAL_ID.fullmatch(text):
        raise refuse("invalid_id", field, f"{text!r} is not an official code (letters, digits and . _ @ + : -)")
    return text


def check_email(value: Any, field: str = "email") -> str | None:
    text = _text(value, field, limit=254)
    if text is None:
        return None
    local = text.rsplit("@", 1)[0]
    if not EMAIL.fullmatch(text) or len(local) > 64:
        raise refuse("invalid_email", field, f"{text!r} is not an email address (name@domain.vn)")
    return text


def check_phone(value: Any, field: str = "phone") -> str | None:
    """A Vietnamese number: 10 digits starting 0 (a landline: 11, starting 02), or +84 and the digits after the 0;
    kept in its national form."""
    text = _text(value, field, limit=40)
    if text is None:
        return None
    compact = PHONE_SEPARATORS.sub("", text)
    if NATIONAL_PHONE.fullmatch(compact):
        return compact
    if INTERNATIONAL_PHONE.fullmatch(compact):
        return "0" + compact[3:]
    raise refuse(
        "invalid_phone",
        field,
        f"{text!r} is not a Vietnamese phone number: 10 digits starting with 0 (0912 345 678; a landline 0221 3xxx "
        "xxx) or +84 and the digits after the 0",
    )


def check_locale(value: Any, field: str = "locale") -> str:
    text = (_text(value, field, limit=10) or "vi").lower()
    if text not in LOCALES:
        raise refuse("invalid_locale", field, f"{text!r} is not a language the product speaks (vi or en)")
    return text


def clean_official(raw: Mapping[str, Any], names: Mapping[str, str] | None = None) -> OfficialValues:
    """The official's details in `raw` (keyed by OFFICIAL_FIELDS) checked; a refusal names the field as `names`
    calls it."""
    name = {f: (names or {}).get(f, f) for f in OFFICIAL_FIELDS}
    issuer = _text(raw.get("oidc_issuer"), name["oidc_issuer"], limit=500)
    subject = _text(raw.get("oidc_subject"), name["oidc_subject"], limit=255)
    if (issuer is None) != (subject is None):
        missing = name["oidc_subject"] if subject is None else name["oidc_issuer"]
        raise refuse("oidc_incomplete", missing, "an OIDC issuer and subject go together: give both or neither")
    return OfficialValues(
        full_name=_text(raw.get("full_name"), name["full_name"], limit=200, required=True) or "",
        position_title=_text(raw.get("position_title"), name["position_title"], limit=200),
        email=check_email(raw.get("email"), name["email"]),
        phone=check_phone(raw.get("phone"), name["phone"]),
        locale=check_locale(raw.get("locale"), name["locale"]),
        oidc_issuer=issuer,
        oidc_subject=subject,
    )


# -- a role assignment -----------------------------------------------------------------------------------------------
# Names spreadsheets written before the glossary settled its terms still use (glossary/terms.yaml has the current).
ROLE_ALIASES = {"Cán bộ văn hóa - xã hội": Role.COMMUNE_OFFICER, "Kiểm toán viên": Role.AUDITOR}


@cache
def _role_names() -> dict[str, Role]:
    names = {folded(r.value): r for r in Role}
    for lang in glossary.LANGS:
        names |= {folded(label): Role(code) for code, label in glossary.section("role", lang).items()}
    return names | {folded(name): role for name, role in ROLE_ALIASES.items()}


def role_label(role: str, lang: str = "vi") -> str:
    """The role as people read it (the glossary's term), never its code."""
    return glossary.term("role", role, lang)


def check_role(value: Any, field: str = "role") -> Role:
    """A role by its code (commune_officer) or its name in Vietnamese or English (Công chức văn hóa - xã hội)."""
    text = _text(value, field, limit=200, required=True) or ""
    role = _role_names().get(folded(text))
    if role is None:
        raise refuse("unknown_role", field, f"{text!r} is not a role; roles: {', '.join(r.value for r in Role)}")
    return role


def check_day(value: Any, field: str) -> date | None:
    """A day as YYYY-MM-DD or dd/mm/yyyy (or a spreadsheet's date)."""
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    text = str(value).strip()
    if not text:
        return None
    try:
        if ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
        found = VN_DAY.fullmatch(text)
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        pass
    raise refuse("invalid_date", field, f"{text!r} is not a day (dd/mm/yyyy, e.g. 01/07/2025)")


@cache
def district_level_ended() -> date:
    """The last day of the district level (the district profile's last day in force: 30 June 2025)."""
    ended = load_profile("district").in_force_until
    assert ended is not None
    return ended


@dataclass(frozen=True)
class AssignmentNames:
    """The fields of an assignment as the caller names them."""

    role: str = "role"
    unit_code: str = "unit_code"
    valid_from: str = "valid_from"
    valid_until: str = "valid_until"


def check_assignment(
    role: Role,
    unit_code: str | None,
    valid_from: date | None,
    valid_until: date | None,
    *,
    province_code: str,
    unit_province: str | None,
    names: AssignmentNames = AssignmentNames(),
) -> AssignmentValues:
    """A role at the scope the law gives it in `province_code`. `unit_province`: the province of the unit
    `unit_code` as the units table holds it (None: no such unit)."""
    unit = unit_code.strip() if unit_code and unit_code.strip() else None
    if unit is not None and unit_province is None:
        raise refuse("unknown_unit", names.unit_code, f"no unit has the code {unit!r}")
    if unit is not None and unit_province != province_code:
        raise refuse(
            "unit_of_other_province",
            names.unit_code,
            f"unit {unit} is in province {unit_province}, not {province_code}",
        )
    if role in COMMUNE_ROLES and unit is None:
        raise refuse("wrong_scope", names.unit_code, f"{role.value} is held over one unit: give its code")
    if role in PROVINCE_ROLES and unit is not None:
        raise refuse("wrong_scope", names.unit_code, f"{role.value} is held over the whole province: leave it empty")
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        raise refuse("invalid_validity", names.valid_until, f"{valid_until} is before the start {valid_from}")
    ended = district_level_ended()
    if role in DISTRICT_ROLES and (valid_until is None or valid_until > ended):
        raise refuse(
            "district_role_ended",
            names.valid_until if valid_until is not None else names.role,
            f"{role.value} is held only as history: the district level ended on {ended:%d/%m/%Y}, so its term must "
            f"end by then (the provincial roles act since)",
        )
    return AssignmentValues(role, province_code, unit, valid_from, valid_until)
