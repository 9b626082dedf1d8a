"""Reading what the product writes as a person reads it — a mail, a page — and finding what in it is not the reader's
language: a snake_case code, an ISO date, a raw round or rule set id, an English word in Vietnamese, Vietnamese left
in English. Proper names and what officials typed (units, provinces, people, notes, references) are data: the caller
passes them, and they are taken out before the check. Used by tests/notify (every mail) and tests/web (every page)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
RAW_ID = re.compile(r"\bqd\d{2}-\d{4}(?::\d{4})?\b", re.IGNORECASE)
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]", re.IGNORECASE)
# Common English words, and the procedure's words in English; none is a Vietnamese word ("do", "to", "an", "con" are,
# and are left out).
ENGLISH = frozenset(
    [
        "the",
        "of",
        "and",
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "been",
        "for",
        "with",
        "from",
        "by",
        "your",
        "you",
        "please",
        "dear",
        "none",
        "never",
        "null",
        "true",
        "false",
        "ended",
        "without",
        "action",
        "open",
        "opened",
        "closed",
        "failed",
        "pending",
        "delivered",
        "details",
        "reason",
        "reasons",
        "ladder",
        "case",
        "cases",
        "round",
        "task",
        "tasks",
        "stage",
        "due",
        "overdue",
        "escalated",
        "stuck",
        "submitted",
        "recognised",
        "registered",
        "withdrawn",
        "not",
        "unit",
        "units",
        "council",
        "appraisal",
        "decision",
        "commendation",
        "registration",
        "assessment",
        "dossier",
    ]
)
ALLOWED = frozenset({"xptt", "ubnd", "qđ"})  # the system's short name and official abbreviations


class _Text(HTMLParser):
    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """The text a browser shows of an HTML page (scripts and styles aside)."""
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def problems(text: str, lang: str, data: Iterable[str] = ()) -> list[str]:
    """What in `text` is not in `lang`, each named with what it is; `data` is taken out first."""
    for given in sorted(set(data), key=len, reverse=True):
        if given:
            text = text.replace(given, " ")
    found = [f"code {m!r}" for m in SNAKE.findall(text)]
    found += [f"ISO date {m!r}" for m in ISO_DAY.findall(text)]
    found += [f"round id {m!r}" for m in RAW_ID.findall(text)]
    words = {w for w in re.findall(r"\w+", text) if not w.isdigit()}
    if lang == "vi":
        found += [f"English word {w!r}" for w in sorted({w.lower() for w in words} & ENGLISH - ALLOWED)]
    else:
        found += [f"Vietnamese word {w!r}" for w in sorted(w for w in words if VIETNAMESE.search(w))]
    return found
