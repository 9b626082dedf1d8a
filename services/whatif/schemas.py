"""What the what-if answers: the domain's result (domain/whatif.WhatIfResult) with the round and scope it ran on, and
whether its units are listed (the ministry reads no case: outside the provinces it oversees, no unit is listed)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.whatif import Shares, UnitWhatIf, WhatIfResult
from services.fields import ProvinceCode, RoundId


class WhatIfRequest(BaseModel):
    """The round and the province (none: the nation, for the ministry); the draft and the mapping come as files."""

    round_id: RoundId
    province: ProvinceCode | None = None


class WhatIfOut(WhatIfResult):
    round_id: str
    year: int
    province: str | None = Field(description="the province asked for; null: every province with decided cases")
    generated_at: datetime
    units_listed: bool = Field(
        description="false: `units` is empty because the reader (the ministry) oversees none of the provinces"
    )

    def share_rows(self) -> list[Shares]:
        """The rows of the shares table: each province, and the national total when every province was asked for."""
        return [*self.provinces, self.national] if self.province is None else list(self.provinces)

    def flipped(self) -> list[UnitWhatIf]:
        return [u for u in self.units if u.flipped]

    def refused_after_council(self) -> list[UnitWhatIf]:
        """The units the council passed and that were not recognised all the same: no flip, not recognised under
        the draft either."""
        return [u for u in self.units if u.refused_after_council]


class WhatIfChoices(BaseModel):
    """What the official may ask for: the rounds opened (latest first), their provinces, and the nation (ministry)."""

    rounds: list[str]
    provinces: list[tuple[str, str]]
    national: bool
