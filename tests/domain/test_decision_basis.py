"""The wording of a recognition decision as data (domain/decision_basis.py, domain/data/decision.yaml): the shipped
file gives the two-tier procedure's laws, proposer and signer with their basis; a profile it lacks and a bad file
are refused naming what is wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.decision_basis import DecisionFileError, NoDecisionWordingError, decision_wording, level_of
from domain.procedure import profile_in_force


def test_the_procedure_in_force_has_its_wording_with_its_basis() -> None:
    wording = decision_wording(profile_in_force(date(2027, 11, 30)).id)
    assert [law.text for law in wording.laws] == ["Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025"]
    assert all(law.note for law in wording.laws) and wording.note
    assert wording.proposer == "Giám đốc Sở Y tế" and wording.signer == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert wording.recipients[0] == "Như Điều 3" and "{level}" in wording.executors[0]
    assert (level_of(True), level_of(False)) == ("thành phố", "tỉnh")


def test_a_profile_without_wording_is_named() -> None:
    with pytest.raises(NoDecisionWordingError, match=r"'district'.*two-tier"):
        decision_wording("district")


def test_a_bad_file_names_the_file_the_field_and_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "decision.yaml"
    bad.write_text(
        "version: 1\nprofiles:\n  two-tier:\n    laws: []\n    proposer: X\n    proposal: Y\n"
        "    executors: [A]\n    recipients: [B]\n    signer: [C]\n    source: test\n",
        encoding="utf-8",
    )
    with pytest.raises(DecisionFileError) as exc:
        decision_wording("two-tier", bad)
    assert exc.value.path == bad and exc.value.where == "profiles.two-tier.laws", exc.value
    assert "at least 1" in exc.value.reason
