"""The draft recognition decision of a round in a province (Quyết định công nhận xã, phường, thị trấn phù hợp với
trẻ em), as one document model that the DOCX, the PDF and the workbook of its annex are all drawn from, so that the
three say the same thing.

The content follows the layout of Decree 30/2020/NĐ-CP (Appendix I, a decision issued by an individual authority):
the issuing body and the number top left, the national name and motto top right with the place and date under them,
the title and subject, the authority, the legal bases, "QUYẾT ĐỊNH:", three articles, the recipients beside the
signature block, then the annex listing the units recognised. Number and dates are left blank ("……") for the office
to fill; the signer's name too. The laws, the proposer, the executors, the recipients and the signing authority come
from domain/data/decision.yaml (per procedure profile), the rule set's decision from its rule file, the units from
the round's report: exactly those whose case closed recognised.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

import glossary
from domain.decision_basis import DecisionWording, level_of
from domain.rulesets import RuleSet
from domain.stages import Outcome
from domain.units import Province
from services.rounds.schemas import ReportOut, UnitResult
from web.i18n import Translator

BLANK = "……"
DRAFT = "DỰ THẢO"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
KINDS = ("xã", "phường", "thị trấn", "đặc khu")  # the order a decision names commune-level units in
T = Translator("vi")  # a decision is written in Vietnamese only


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Article(Frozen):
    label: str  # "Điều 1."
    text: str


class AnnexTable(Frozen):
    headers: list[str]
    widths: list[float]  # shares of the text width
    centred: list[bool]  # per column
    rows: list[list[str]]


class Annex(Frozen):
    title: list[str]  # "DANH SÁCH", then what it lists
    reference: str  # "(Kèm theo Quyết định số …)"
    table: AnnexTable
    closing: str


class Decision(Frozen):
    draft: str
    issuer: list[str]
    number: str
    nation: str
    motto: str
    place_date: str
    title: str
    subject: str
    authority: str
    bases: list[str]
    decides: str
    articles: list[Article]
    recipients_title: str
    recipients: list[str]
    signer: list[str]
    signer_name: str
    annex: Annex


def recognised(report: ReportOut) -> list[UnitResult]:
    """The units whose case closed recognised, in the report's order (by unit code)."""
    return [r for r in report.results if r.outcome == Outcome.RECOGNISED.value]


def kinds_text(division_types: list[str]) -> str:
    """The kinds of units named, in the law's order: "xã, phường"."""
    present = {d.lower() for d in division_types}
    named = [k for k in KINDS if k in present] + sorted(present - set(KINDS))
    return ", ".join(named) or "xã, phường, thị trấn"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _listed(items: list[str]) -> list[str]:
    """Recipients as a decision lists them: "- …;" each, the last "- …."."""
    return [f"- {item}{'.' if i == len(items) - 1 else ';'}" for i, item in enumerate(items)]


def _executors(wording: DecisionWording, level: str, kinds: str, count: int) -> str:
    who = [e.format(level=level) for e in wording.executors]
    heads = f"Chủ tịch Ủy ban nhân dân {'các ' if count > 1 else ''}{kinds} có tên tại Điều 1"
    return f"{', '.join(who)} và {heads} chịu trách nhiệm thi hành Quyết định này./."


def build_decision(
    report: ReportOut,
    *,
    rule_set: RuleSet,
    wording: DecisionWording,
    province: Province,
    division_types: dict[str, str],
) -> Decision:
    """The draft decision recognising the report's recognised units; `division_types` by unit code ("xã")."""
    units = recognised(report)
    year = glossary.round_year(report.round_id) or ""
    level = level_of(province.is_central_city)
    place = province.name.removeprefix("Thành phố ")
    body = f"Ủy ban nhân dân {level} {place}"
    kinds = kinds_text([division_types.get(u.unit_code, "") for u in units if u.unit_code in division_types])
    standard = _lower_first(rule_set.title_vi)
    number = f"{BLANK}/QĐ-UBND"
    return Decision(
        draft=DRAFT,
        issuer=["ỦY BAN NHÂN DÂN", f"{level} {place}".upper()],
        number=f"Số: {number}",
        nation=NATION,
        motto=MOTTO,
        place_date=f"{place}, ngày {BLANK} tháng {BLANK} năm {BLANK}",
        title="QUYẾT ĐỊNH",
        subject=f"Về việc công nhận {kinds} đạt {standard} năm {year}",
        authority=f"CHỦ TỊCH {body.upper()}",
        bases=[
            *(f"Căn cứ {law.text};" for law in wording.laws),
            f"Căn cứ {rule_set.legal_basis} về {standard};",
            f"Xét đề nghị của {wording.proposer} tại {wording.proposal}.",
        ],
        decides="QUYẾT ĐỊNH:",
        articles=[
            Article(
                label="Điều 1.",
                text=f"Công nhận {len(units)} {kinds} đạt {standard} năm {year} (có danh sách kèm theo).",
            ),
            Article(label="Điều 2.", text="Quyết định này có hiệu lực kể từ ngày ký."),
            Article(label="Điều 3.", text=_executors(wording, level, kinds, len(units))),
        ],
        recipients_title="Nơi nhận:",
        recipients=_listed([r.format(level=level) for r in wording.recipients]),
        signer=list(wording.signer),
        signer_name=BLANK * 4,
        annex=Annex(
            title=["DANH SÁCH", f"{kinds} được công nhận đạt {standard} năm {year}".upper()],
            reference=f"(Kèm theo Quyết định số {number} ngày {BLANK} tháng {BLANK} năm {BLANK} của Chủ tịch {body})",
            table=_annex_table(units),
            closing=f"Danh sách có {len(units)} đơn vị./.",
        ),
    )


def _annex_table(units: list[UnitResult]) -> AnnexTable:
    """STT, the unit, its locality type (the glossary's name: it sets the threshold), its total score."""
    return AnnexTable(
        headers=[T("criterion_no"), T("unit"), T("locality"), T("total")],
        widths=[0.08, 0.36, 0.38, 0.18],
        centred=[True, False, False, True],
        rows=[
            [str(i), u.unit_name, glossary.term("locality", u.locality_type), "" if u.total is None else str(u.total)]
            for i, u in enumerate(units, start=1)
        ],
    )
