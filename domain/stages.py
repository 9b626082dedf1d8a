"""The names every layer shares: the stages of a recognition case, the roles that act, the locality types."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """A stage of the recognition procedure (DOMAIN.md, Procedure)."""

    REGISTRATION = "registration"
    SELF_ASSESSMENT = "self_assessment"
    COUNCIL_ASSESSMENT = "council_assessment"
    PUBLIC_POSTING = "public_posting"
    DOSSIER_SUBMISSION = "dossier_submission"
    APPRAISAL = "appraisal"
    DECISION = "decision"
    COMMENDATION = "commendation"
    CLOSED = "closed"


class Role(StrEnum):
    """A role an official holds, scoped to a unit or a province."""

    COMMUNE_OFFICER = "commune_officer"  # cán bộ văn hóa - xã hội: registers, self-assesses, posts, files
    COMMUNE_CHAIRMAN = "commune_chairman"  # Chủ tịch UBND cấp xã: first escalation rung for the commune
    COUNCIL_CHAIR = "council_chair"  # Chủ tịch Hội đồng đánh giá cấp xã
    DISTRICT_APPRAISER = "district_appraiser"  # Phòng LĐTBXH cấp huyện: appraises until 30/6/2025 (profile district)
    DISTRICT_CHAIRMAN = "district_chairman"  # Chủ tịch UBND cấp huyện: decides until 30/6/2025 (profile district)
    APPRAISER = "appraiser"  # the provincial appraising office (profile two-tier, from 1/7/2025)
    CHAIRMAN = "chairman"  # the deciding authority since 1/7/2025 (provincial chairman by default, profile two-tier)
    PROVINCIAL_CHAIRMAN = "provincial_chairman"  # Chủ tịch UBND cấp tỉnh: provincial commendations
    ADMIN = "admin"  # provincial administrator of the product
    AUDITOR = "auditor"  # reads, never writes


class LocalityType(StrEnum):
    """Locality types that carry their own threshold (QĐ 06/QĐ-TTg, Art. 3)."""

    CENTRAL_CITY_WARD = "central-city-ward"
    MOUNTAIN_ISLAND_DISADVANTAGED = "mountain-island-disadvantaged"
    OTHER = "other"


class Outcome(StrEnum):
    """How a case ended."""

    RECOGNISED = "recognised"
    NOT_RECOGNISED = "not_recognised"
    NOT_REGISTERED = "not_registered"
    NOT_SUBMITTED = "not_submitted"
    WITHDRAWN = "withdrawn"
