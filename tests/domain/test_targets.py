"""Targets as data (domain/targets.py) and the round's failures by criterion (domain/report_failures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import TargetsFileError
from domain.report_failures import Assessed, BelowThreshold, LocalityCount, failures_of
from domain.targets import load_targets, seed_targets, target_for


def test_the_seeds_are_the_sources_examples_and_a_year_no_plan_covers_has_none() -> None:
    seeds = seed_targets()
    assert {(t.province_code, t.first_year, t.last_year, t.share) for t in seeds} == {
        ("33", 2011, 2015, 0.85),
        ("33", 2016, 2020, 0.95),
        ("31", 2016, 2020, 1.0),
        ("56", 2019, 2019, 0.6571),
    }
    assert all(t.source for t in seeds)
    found = target_for(seeds, "33", 2018)
    assert found is not None and (found.share, found.plan) == (0.95, "KH 226/KH-UBND")
    assert target_for(seeds, "33", 2015) is not None and target_for(seeds, "33", 2015).share == 0.85  # type: ignore[union-attr]
    assert target_for(seeds, "33", 2027) is None and target_for(seeds, "01", 2018) is None


ROW = '  - {province_code: "33", first_year: 2021, last_year: 2025, share: 0.9, plan: KH 1}\n'


@pytest.mark.parametrize(
    ("rows", "where", "says"),
    [
        (
            '  - {province_code: "33", first_year: 2021, last_year: 2025, share: 1.2, plan: KH 1}\n',
            "targets[0].share",
            "100 %",
        ),
        (
            '  - {province_code: "33", first_year: 2021, last_year: 2025, share: 0, plan: KH 1}\n',
            "targets[0].share",
            "over 0",
        ),
        (
            '  - {province_code: "33", first_year: 2025, last_year: 2021, share: 0.9, plan: KH 1}\n',
            "last_year",
            "before",
        ),
        (
            '  - {province_code: "33", first_year: 2009, last_year: 2021, share: 0.9, plan: KH 1}\n',
            "first_year",
            "2010",
        ),
        ('  - {province_code: "3", first_year: 2021, last_year: 2025, share: 0.9, plan: KH 1}\n', "province_code", ""),
        (
            ROW + '  - {province_code: "33", first_year: 2024, last_year: 2030, share: 0.95, plan: KH 2}\n',
            "targets[1]",
            "overlaps",
        ),
        ('  - {province_code: "33", first_year: 2021, last_year: 2025, share: 0.9, plan: KH 1, goal: 1}\n', "goal", ""),
    ],
)
def test_a_bad_target_names_the_file_the_row_and_the_field(tmp_path: Path, rows: str, where: str, says: str) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("version: 1\ntargets:\n" + rows, encoding="utf-8")
    with pytest.raises(TargetsFileError) as refused:
        load_targets(path)
    assert str(path) in str(refused.value) and where in refused.value.where + refused.value.reason
    assert says in refused.value.reason, refused.value


def _unit(code: str, total: int, recognised: bool, *zeros: int, locality: str = "other") -> Assessed:
    reasons = [{"code": "zero_criterion", "criterion": z} for z in zeros]
    verdict = {"recognised": recognised, "total": total, "threshold": 850, "reasons": reasons}
    return Assessed(unit_code=code, locality_type=locality, verdict=verdict)


def test_failures_count_zeros_per_criterion_and_margins_below_the_threshold() -> None:
    found = failures_of(
        [
            _unit("00001", 925, False, 3),
            _unit("00002", 850, False, 3, 5),
            _unit("00003", 802, False),
            _unit("00004", 700, False, 5, locality="central-city-ward"),
            _unit("00005", 1000, True),
        ]
    )
    assert found.zero_by_criterion == {3: 2, 5: 2}
    assert found.below_threshold == [
        BelowThreshold(unit_code="00004", total=700, threshold=850, margin=150),
        BelowThreshold(unit_code="00003", total=802, threshold=850, margin=48),
    ]
    assert found.by_locality == [
        LocalityCount(locality_type="central-city-ward", assessed=1, recognised=0),
        LocalityCount(locality_type="other", assessed=4, recognised=1),
    ]
    assert failures_of([]).zero_by_criterion == {} and failures_of([]).by_locality == []
