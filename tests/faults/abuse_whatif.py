"""The what-if in the abuse scenarios (tests/faults/test_abuse.py; the strategies and the matrix by route in
tests/faults/abuse_support.py): its bad requests for the fuzz (drafts failing the schema or not marked draft,
mappings naming unknown criteria, a draft needing a mapping, a round never opened, a missing draft, the page's form
with no file) and its routes in the access matrix."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from domain.access import RoleScope
from domain.stages import Role
from tests.faults.abuse_support import BadRequest, MatrixRoute, oversees
from tests.support import PROVINCE


def bad_whatif() -> dict[tuple[str, str], st.SearchStrategy[BadRequest]]:
    """The what-if (docs/whatif.md) refuses a draft failing the schema or not marked draft, a mapping naming unknown
    criteria, a draft needing a mapping, a round never opened, a missing draft; the page without a file shows why.
    A what-if writes nothing, whatever it is sent."""
    from tests.whatif.seeding import DRAFT, MAPPING  # the test draft and mapping files

    draft, mapping = DRAFT.read_bytes(), MAPPING.read_bytes()
    drafts = st.one_of(
        st.binary(max_size=200),
        st.just(draft.replace(b"draft: true", b"draft: false")),
        st.just(draft.replace(b"max_total: 950", b"max_total: 900")),
        st.just(draft.replace(b"    points: 950", b"    points: 0")),
    )

    def upload(d: bytes, m: bytes | None, round_id: str = "qd06-2019:2027") -> BadRequest:
        files: dict[str, Any] = {
            "draft": ("d.yaml", d, "application/yaml"),
            "round_id": (None, round_id.encode(), "text/plain"),
        }
        files["province"] = (None, PROVINCE.encode(), "text/plain")
        if m is not None:
            files["mapping"] = ("m.yaml", m, "application/yaml")
        return BadRequest("POST", "/v1/rules/what-if", files=files)

    api = st.one_of(
        drafts.map(lambda d: upload(d, mapping)),
        st.just(upload(draft, mapping + b"  14: 3\n")),
        st.just(upload(draft, b"criteria:\n  7: gone\n")),
        st.just(upload(draft, None)),
        st.just(upload(draft, mapping, "qd06-2019:2099")),
        st.just(BadRequest("POST", "/v1/rules/what-if", files={"mapping": ("m.yaml", mapping, "application/yaml")})),
    )
    page = st.fixed_dictionaries(
        {"round_id": st.sampled_from(["qd06-2019:2027", "x", ""]), "province": st.sampled_from([PROVINCE, "", "9"])}
    ).map(lambda f: BadRequest("POST", "/web/what-if", form=f, web=True))
    return {("POST", "/v1/rules/what-if"): api, ("POST", "/web/what-if"): page}


def oversees_anywhere(scopes: list[RoleScope], unit: str) -> bool:
    """An administrator or auditor of a whole province, whichever: the what-if page lists the provinces one oversees."""
    return any(s.role in (Role.ADMIN, Role.AUDITOR) and s.unit_code is None for s in scopes)


def whatif_routes(round_id: str) -> list[MatrixRoute]:
    """The what-if in the access matrix: the API for the case's province's overseers (200, or 422 while the matrix's
    round has no decided case), refused 403 before anything is read; the page for anyone overseeing a province (the
    form posted without a file: 422, the page saying why). It writes nothing either way."""
    from tests.whatif.seeding import DRAFT, MAPPING  # the test draft and mapping files

    files: dict[str, Any] = {
        "draft": ("d.yaml", DRAFT.read_bytes(), "application/yaml"),
        "mapping": ("m.yaml", MAPPING.read_bytes(), "application/yaml"),
        "round_id": (None, round_id.encode(), "text/plain"),
        "province": (None, PROVINCE.encode(), "text/plain"),
    }
    r = MatrixRoute
    return [
        r("POST", "/v1/rules/what-if", "/v1/rules/what-if", oversees, files=files, allowed_status=(200, 422)),
        r("GET", "/web/what-if", "/web/what-if", oversees_anywhere),
        r(
            "POST",
            "/web/what-if",
            "/web/what-if",
            oversees_anywhere,
            form={"round_id": round_id, "province": PROVINCE},
            allowed_status=(422,),
        ),
    ]
