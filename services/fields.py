"""What the API accepts as identifiers and instants, checked at the edge so that nothing odd reaches PostgreSQL
or Temporal (a NUL byte, an instant that cannot be expressed in UTC). Digits are the ASCII digits [0-9]: a Unicode
digit class would also take "٣٣" or "３３"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9:._@+-]{0,199}$"
UNIT_PATTERN = r"^[0-9]{5}$"
PROVINCE_PATTERN = r"^[0-9]{2}$"
ROUND_PATTERN = r"^[a-z0-9-]{1,30}:[0-9]{4}$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]
UnitCode = Annotated[str, Field(pattern=UNIT_PATTERN)]
ProvinceCode = Annotated[str, Field(pattern=PROVINCE_PATTERN)]
RoundId = Annotated[str, Field(pattern=ROUND_PATTERN)]


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant cannot be expressed in UTC") from None


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
