"""The what-if as people read it: the words of a verdict, a share, a threshold found (for the page, the CLI and the
workbook alike), and the workbook itself (openpyxl, in the round report's house style: services/rounds/report_xlsx)."""

from __future__ import annotations

import io

from openpyxl import Workbook

import glossary
from domain.whatif import SearchStatus, Shares, Side, ThresholdFinding, UnitWhatIf
from domain.whatif_files import Cap
from services.rounds.report_xlsx import add_sheet
from services.whatif.schemas import WhatIfOut
from web.i18n import Translator


def side_text(t: Translator, side: Side | None) -> str:
    """ "chưa đạt chuẩn (870/950 điểm): tổng điểm 870 thấp hơn mức đạt 950" for a verdict; none: no council verdict."""
    if side is None:
        return t("wi_not_assessed")
    points = t("wi_total_of", total=side.total, threshold=side.threshold)
    head = f"{t('wi_recognised' if side.recognised else 'wi_not_recognised')} ({points})"
    params = {"total": side.total, "threshold": side.threshold}
    why = "; ".join(glossary.reason_text(r.model_dump(mode="json") | params, t.lang) for r in side.reasons)
    return f"{head}: {why or t('wi_meets_all')}"


def caps_text(t: Translator, caps: list[Cap]) -> str:
    return "; ".join(
        t(
            "wi_capped",
            criterion=c.criterion,
            sources=", ".join(map(str, c.official_criteria)),
            points=c.points,
            maximum=c.maximum,
        )
        for c in caps
    )


def flip_text(t: Translator, unit: UnitWhatIf) -> str:
    if unit.refused_after_council:
        return t("wi_after_council_kind")
    return t(f"wi_{unit.flip.value}") if unit.flip is not None else t("wi_flip_none")


def count_share(t: Translator, n: int, share: float | None) -> str:
    return t("wi_count_share", n=n, share=glossary.percent(share))


def target_text(t: Translator, shares: Shares) -> str:
    if shares.target is None:
        return t("wi_no_target")
    return f"{glossary.percent(shares.target.share)} ({shares.target.plan})"


def meets_text(t: Translator, meets: bool | None) -> str:
    return "" if meets is None else t("wi_meets" if meets else "wi_misses")


def found_text(t: Translator, finding: ThresholdFinding) -> tuple[str, str]:
    """(the threshold needed, how far it comes down) as people read them."""
    if finding.status is SearchStatus.NO_TARGET:
        return t("wi_no_target"), ""
    if finding.status is SearchStatus.UNREACHABLE or finding.threshold is None or finding.lower_by is None:
        return t("wi_unreachable"), ""
    change = t("wi_points", n=finding.lower_by) if finding.lower_by >= 0 else t("wi_raise", n=-finding.lower_by)
    return t("wi_points", n=finding.threshold), change


def scope_name(t: Translator, shares: Shares) -> str:
    return shares.name if shares.code is not None else t("wi_national")


def _share_rows(t: Translator, out: WhatIfOut) -> list[list[object]]:
    return [
        [
            scope_name(t, s),
            s.units,
            s.assessed,
            s.undecided,
            count_share(t, s.official_recognised, s.official_share),
            count_share(t, s.draft_recognised, s.draft_share),
            target_text(t, s) if s.code is not None else "",
            meets_text(t, s.official_meets),
            meets_text(t, s.draft_meets),
        ]
        for s in out.share_rows()
    ]


def whatif_xlsx(out: WhatIfOut, lang: str = "vi") -> bytes:
    t = Translator(lang)
    book = Workbook()
    book.remove(book.active)
    headers = ["wi_scope", "wi_units", "wi_assessed", "wi_undecided_head", "wi_official", "wi_draft", "wi_target"]
    headers += ["wi_official", "wi_draft"]
    add_sheet(book, t("wi_xlsx_shares"), [t(h) for h in headers], _share_rows(t, out))
    names = {s.code: s.name for s in out.provinces}
    units = [
        [
            u.unit_code,
            u.unit_name,
            names.get(u.province_code, u.province_code),
            glossary.term("locality", u.locality_type.value, lang),
            glossary.term("outcome", u.outcome.value, lang),
            flip_text(t, u),
            side_text(t, u.official),
            side_text(t, u.draft),
            caps_text(t, u.caps),
        ]
        for u in out.units
    ]
    headers = [
        "xlsx_unit_code",
        "wi_unit",
        "wi_province",
        "wi_locality",
        "wi_outcome",
        "wi_change_kind",
        "wi_why_official",
        "wi_why_draft",
        "wi_capped_head",
    ]
    if not out.units_listed:
        units = [[t("wi_units_hidden")]]
    add_sheet(book, t("wi_xlsx_units"), [t(h) for h in headers], units)
    search = [
        [
            names.get(f.province_code, f.province_code),
            glossary.term("locality", f.locality_type.value, lang),
            f.draft_threshold,
            *found_text(t, f),
        ]
        for f in out.thresholds
    ]
    headers = ["wi_province", "wi_locality", "wi_draft_threshold", "wi_found", "wi_change"]
    add_sheet(book, t("wi_xlsx_search"), [t(h) for h in headers], search)
    mapping = [[t("wi_dropped"), c.number, c.name_en if lang == "en" else c.name_vi] for c in out.mapping.dropped]
    mapping += [[t("wi_unmapped"), c.number, c.name_en if lang == "en" else c.name_vi] for c in out.mapping.unmapped]
    mapping += [[t("wi_unscored"), c.number, c.name_en if lang == "en" else c.name_vi] for c in out.mapping.unscored]
    add_sheet(book, t("wi_xlsx_mapping"), [t("wi_mapping"), t("criterion_no"), t("criterion")], mapping)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
