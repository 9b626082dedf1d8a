"""The assessment rhythm of a rule set: which years are assessed, when, and which period each assessment covers.

Two kinds, both held as data in the rule file:
- `yearly`: every year is an assessment year (QĐ 37/2010: calendar year; QĐ 34/2014: 1 Nov – 31 Oct, assessed
  in November).
- `plan_years`: given years of each socio-economic plan (QĐ 06/QĐ-TTg: years 2 and 4 of each 5-year plan, the plans
  counted from an anchor year, 2016, in both directions).

The period of an assessment year ends on `period_end` of that year and starts the day after the period of the previous
assessment year of the same rhythm ended, so periods tile time without gaps or overlaps (QĐ 06/QĐ-TTg: the 2022
assessment covers 1 Nov 2019 – 31 Oct 2022).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, Self

from pydantic import Field, model_validator

from domain.datafiles import Basis, MonthDay, field_problem


class Rhythm(Basis):
    kind: Literal["yearly", "plan_years"]
    plan_anchor_year: int | None = Field(default=None, description="first year of one 5-year plan")
    plan_length_years: int | None = Field(default=None, ge=1)
    plan_assessment_years: list[int] = Field(default_factory=list, description="1-based years of the plan")
    period_end: MonthDay
    assessment_start: MonthDay
    assessment_end: MonthDay
    period_basis: Basis = Field(description="basis of period_end and of how periods are cut")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == "plan_years":
            if self.plan_anchor_year is None or self.plan_length_years is None:
                raise field_problem(
                    "plan_anchor_year", "a plan_years rhythm needs plan_anchor_year and plan_length_years"
                )
            years = self.plan_assessment_years
            if not years or years != sorted(set(years)) or not all(1 <= y <= self.plan_length_years for y in years):
                raise field_problem(
                    "plan_assessment_years",
                    f"give distinct years of the plan in increasing order, each from 1 to {self.plan_length_years}",
                )
        start = self.assessment_start.in_year(2001)
        if self.assessment_end.in_year(2001) < start:
            raise field_problem("assessment_end", "the assessment window must end on or after its start, same year")
        return self

    def _plan(self) -> tuple[int, int, list[int]]:
        assert self.plan_anchor_year is not None and self.plan_length_years is not None
        return self.plan_anchor_year, self.plan_length_years, self.plan_assessment_years

    def is_assessment_year(self, year: int) -> bool:
        if self.kind == "yearly":
            return True
        anchor, length, years = self._plan()
        return (year - anchor) % length + 1 in years

    def ordinal(self, year: int) -> int:
        """Position of an assessment year in the endless rhythm; consecutive assessments differ by one."""
        if self.kind == "yearly":
            return year
        if not self.is_assessment_year(year):
            raise ValueError(f"{year} is not an assessment year of this rhythm")
        anchor, length, years = self._plan()
        plan, offset = divmod(year - anchor, length)
        return plan * len(years) + years.index(offset + 1)

    def year_of(self, ordinal: int) -> int:
        if self.kind == "yearly":
            return ordinal
        anchor, length, years = self._plan()
        plan, index = divmod(ordinal, len(years))
        return anchor + plan * length + years[index] - 1

    def assessment_years(self, from_year: int, to_year: int) -> list[int]:
        return [y for y in range(from_year, to_year + 1) if self.is_assessment_year(y)]

    def period(self, year: int) -> tuple[date, date]:
        previous = self.year_of(self.ordinal(year) - 1)
        return self.period_end.in_year(previous) + timedelta(days=1), self.period_end.in_year(year)

    def assessment_window(self, year: int) -> tuple[date, date]:
        return self.assessment_start.in_year(year), self.assessment_end.in_year(year)

    def describe(self) -> str:
        window = f"assessed {self.assessment_start}..{self.assessment_end}"
        if self.kind == "yearly":
            return f"every year, period ending {self.period_end}, {window}"
        years = " and ".join(str(y) for y in self.plan_assessment_years)
        return (
            f"year {years} of each {self.plan_length_years}-year plan (plans from {self.plan_anchor_year}), "
            f"period ending {self.period_end}, {window}"
        )
