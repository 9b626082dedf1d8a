"""Texts of the notifications: Jinja2 templates under notify/templates/<locale>/<name>.j2, Vietnamese first,
English when a Vietnamese template is missing (or the official chose English). Pure: no clock, no IO but the
template files.

A template defines two blocks, `subject` (one line) and `body` (plain text). It sees the event's context plus
`recipient` (the official's name) and `link` (the absolute URL of the web page to open, or None), and these
functions in the template's language, every name from the shared glossary (glossary/terms.yaml) so a mail names a
stage, a role or an outcome as the pages do:

- `local_time(v)` dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh, `local_day(v)` dd/mm/yyyy (an ISO text, a date or an aware
  datetime; "—" for none);
- `round_label(round_id)` "kỳ đánh giá năm 2027";
- `stage_name`, `role_name`, `outcome_name`, `closing_text` (why a case closed) of a code;
- `verdict_reason(reason)` a verdict reason from its code and numbers ("tiêu chí 3 đạt 0 điểm").

The outcome of a case is one kind (`decision_made`) with one template per result (`decision_made_<result>.j2`,
e.g. `decision_made_not_submitted`), chosen from the context's `result` (else its `outcome`): each says what
happened, and only that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, ConfigDict

import glossary
from glossary.streak import streak_lines

TEMPLATES_DIR = Path(__file__).parent / "templates"
FALLBACK_LOCALE = "en"

# The roles as people read them, per language (from the glossary; kept for modules that imported the old table).
ROLE_NAMES: dict[str, dict[str, str]] = {lang: glossary.section("role", lang) for lang in glossary.LANGS}

# Kinds told by one template per variant: the context keys that name the variant, in order of preference.
VARIANTS: dict[str, tuple[str, ...]] = {"decision_made": ("result", "outcome")}


class TemplateMissing(LookupError):
    """Neither the official's language nor English has a template for this kind."""


class Rendered(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    body: str
    locale: str


def _when(value: Any) -> datetime | date | None:
    """The moment or day `value` names; a time without its zone is a bug in the caller, not a guess."""
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        found: datetime | date = value
    else:
        text = str(value)
        found = datetime.fromisoformat(text) if ("T" in text or " " in text) else date.fromisoformat(text)
    if isinstance(found, datetime) and found.tzinfo is None:
        raise ValueError(f"a naive datetime cannot be shown in local time: {value!r}")
    return found


def local_time(value: Any, locale: str = "vi") -> str:
    """dd/mm/yyyy HH:MM in Vietnam time (dd/mm/yyyy for a day); the same in both languages, as the pages show it."""
    found = _when(value)
    return "—" if found is None else glossary.moment(found)


def local_day(value: Any, locale: str = "vi") -> str:
    found = _when(value)
    return "—" if found is None else glossary.day(found)


def _namer(section: str, lang: str) -> Callable[[Any], str]:
    return lambda code: "—" if code is None else glossary.term(section, str(code), lang)


def _functions(lang: str) -> dict[str, Any]:
    def verdict_reason(reason: Mapping[str, Any]) -> str:
        return glossary.reason_text(reason, lang)

    return {
        "locale": lang,
        "local_time": lambda v: local_time(v, lang),
        "local_day": lambda v: local_day(v, lang),
        "round_label": lambda r: glossary.round_label(str(r), lang),
        "stage_name": _namer("stage", lang),
        "role_name": _namer("role", lang),
        "outcome_name": _namer("outcome", lang),
        "closing_text": _namer("closing", lang),
        "verdict_reason": verdict_reason,
        "streak_lines": lambda s: streak_lines(s, lang),
    }


def template_names(kind: str, context: Mapping[str, Any]) -> list[str]:
    """The template names that may tell `kind` with this context, best first."""
    keys = VARIANTS.get(kind)
    if keys is None:
        return [kind]
    variants = (context.get(key) for key in keys)
    return list(dict.fromkeys(f"{kind}_{v}" for v in variants if v))


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


def _find(env: jinja2.Environment, locale: str, names: list[str]) -> tuple[str, jinja2.Template] | None:
    for candidate in dict.fromkeys((locale, FALLBACK_LOCALE)):
        for name in names:
            try:
                return candidate, env.get_template(f"{candidate}/{name}.j2")
            except jinja2.TemplateNotFound:
                continue
    return None


def render(kind: str, context: dict[str, Any], *, locale: str = "vi", directory: Path = TEMPLATES_DIR) -> Rendered:
    """Subject and body of `kind` in `locale`, else in English."""
    found = _find(_environment(directory), locale, template_names(kind, context))
    if found is None:
        raise TemplateMissing(f"no template for notification kind {kind!r} in {locale!r} or {FALLBACK_LOCALE!r}")
    lang, template = found
    full = {**context, **_functions(lang)}
    subject = " ".join(_block(template, "subject", full).split())
    return Rendered(subject=subject, body=_block(template, "body", full) + "\n", locale=lang)
