"""A share of a whole, as the figures of a round give it (domain/stage_times.py, domain/whatif.py)."""

from __future__ import annotations


def share(part: int, whole: int, *, places: int | None = None) -> float | None:
    """part / whole (rounded to `places` decimals when given), None when whole is 0."""
    if not whole:
        return None
    return part / whole if places is None else round(part / whole, places)
