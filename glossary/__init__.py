"""The one glossary of what people read: every code they can meet (stages, roles, outcomes, locality types, verdict
reasons, reasons a case closed, journal actions, the board's reasons, notification kinds, procedure profiles), in
Vietnamese and English, from `terms.yaml` (validated here). Mails (notify/templates.py), pages (web/i18n.py), exports
and CLI tables name a code through `term`, so a stage has one name everywhere. Pure: reads its data file once.

Also the shared wordings of values: `round_label` ("kỳ đánh giá năm 2027"), `day` (dd/mm/yyyy) and `moment`
(dd/mm/yyyy HH:MM, Asia/Ho_Chi_Minh), and `reason_text` for a verdict reason stored as a code with its numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

LANGS = ("vi", "en")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TERMS_FILE = Path(__file__).with_name("terms.yaml")


class Glossary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    sections: dict[str, dict[str, tuple[str, str]]]

    @field_validator("sections")
    @classmethod
    def _no_blank(cls, sections: dict[str, dict[str, tuple[str, str]]]) -> dict[str, dict[str, tuple[str, str]]]:
        for name, entries in sections.items():
            for code, pair in entries.items():
                if not all(text.strip() for text in pair):
                    raise ValueError(f"{name}.{code}: both the Vietnamese and the English term are needed")
        return sections


@cache
def glossary() -> Glossary:
    return Glossary.model_validate(yaml.safe_load(TERMS_FILE.read_text(encoding="utf-8")))


def known(section: str, code: str) -> bool:
    return code in glossary().sections.get(section, {})


def term(section: str, code: str, lang: str = "vi", **params: Any) -> str:
    """The code's term in `lang` (Vietnamese unless "en"), its `{name}`s filled from `params`. A code the glossary
    lacks is a defect the tests look for; read as the code itself rather than failing a page or a mail."""
    pair = glossary().sections.get(section, {}).get(code)
    if pair is None:
        return code
    text = pair[1 if lang == "en" else 0]
    return text.format(**params) if params else text


def refusal(code: str, extra: Mapping[str, Any] | None = None, lang: str = "vi") -> str | None:
    """A service's refusal in the glossary's words; None when the glossary has no term for its code. A file that
    cannot be read also says what is wrong with it: its `problem` (section `file_problem`) with the refusal's
    specifics (`columns`, `known`, `limit`)."""
    if not known("refusal", code):
        return None
    said = term("refusal", code, lang)
    extra = extra or {}
    problem = extra.get("problem")
    if code == "invalid_file" and isinstance(problem, str) and known("file_problem", problem):
        said = f"{said.rstrip('.')}: {term('file_problem', problem, lang, **extra)}."
    return said


def section(name: str, lang: str = "vi") -> dict[str, str]:
    """Every code of a section with its term in `lang`."""
    i = 1 if lang == "en" else 0
    return {code: pair[i] for code, pair in glossary().sections[name].items()}


def round_year(round_id: str) -> str | None:
    """The year of a round id `<rule set>:<year>` (None for anything else)."""
    _, _, year = str(round_id).rpartition(":")
    return year if year.isdigit() and len(year) == 4 else None


def round_label(round_id: str, lang: str = "vi") -> str:
    """'kỳ đánh giá năm 2027' / 'the 2027 assessment round' for a round id."""
    year = round_year(round_id)
    if year is None:
        return str(round_id)
    return f"the {year} assessment round" if lang == "en" else f"kỳ đánh giá năm {year}"


def _moment(value: Any) -> datetime | date | None:
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            return None
    return None


def day(value: Any) -> str:
    """dd/mm/yyyy; an aware time counts in Asia/Ho_Chi_Minh. Anything else is shown as it is."""
    found = _moment(value)
    if isinstance(found, datetime):
        found = (found.astimezone(TZ) if found.tzinfo else found).date()
    return found.strftime("%d/%m/%Y") if isinstance(found, date) else ("" if value is None else str(value))


def moment(value: Any) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh for a time; dd/mm/yyyy for a day."""
    found = _moment(value)
    if isinstance(found, datetime):
        return (found.astimezone(TZ) if found.tzinfo else found).strftime("%d/%m/%Y %H:%M")
    return day(value)


_SAID = (
    (re.compile(r"^the unit did not register$"), "did_not_register"),
    (re.compile(r"^(?P<count>\d+) objection\(s\) from residents$"), "objections"),
    (re.compile(r"^returned for completion: (?P<missing>.*)$", re.S), "returned"),
    (re.compile(r"^the ladder of (?P<stage>[a-z_]+) ended without action: (?P<outcome>[a-z_]+)$"), "ladder_ended"),
)


def said_reason(text: str | None, lang: str = "vi") -> str | None:
    """A reason the procedure itself wrote in the journal (the unit did not register, residents' objections, a
    dossier returned, a deadline ladder run out) in `lang`; a reason a person typed is shown as typed."""
    if not text:
        return text
    for pattern, code in _SAID:
        found = pattern.match(text)
        if found:
            params = found.groupdict()
            if "stage" in params:
                params["stage"] = term("stage", params["stage"], lang)
                params["outcome"] = term("outcome", params["outcome"], lang)
            return term("said", code, lang, **params)
    return text


def reason_text(reason: Mapping[str, Any], lang: str = "vi") -> str:
    """A verdict reason stored as its code and numbers (`code`, `criterion`, and the verdict's `total` and
    `threshold` when given) in `lang`."""
    params = {k: reason.get(k, "") for k in ("criterion", "total", "threshold")}
    return term("verdict", str(reason.get("code")), lang, **params)


def province_name(code: str) -> str:
    """The province's name ("Hưng Yên") for its two-digit code; the code when unknown."""
    from domain.units import load_provinces  # the reference data, read once there

    return next((p.name for p in load_provinces() if p.code == code), code)


def percent(share: float | None) -> str:
    """A share (a fraction, as data holds every share) as people read it: 0.4904 → "49.04 %"; "—" when none."""
    return "—" if share is None else f"{round(100 * share, 2):g} %"


def decimal(value: float | None) -> str:
    """A figure such as a number per case as people read it, to two decimals without trailing zeros: 0.6667 →
    "0.67", 0.5 → "0.5", 1.0 → "1"; "—" when none."""
    if value is None:
        return "—"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
