"""`xptt round open` refuses a round that does not lie ahead, as `POST /v1/rounds` does (services/rounds
`live_round`), before it reaches the database or Temporal: exit code 2 and the reason."""

from __future__ import annotations

import pytest

from tests.cli.test_bulk_cli import _xptt

NOWHERE = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "TEMPORAL_ADDRESS": "127.0.0.1:9"}


@pytest.mark.parametrize(
    ("round_id", "fragment"),
    [
        ("qd06-2019:2099", "after the current assessment"),
        ("qd37-2010:2012", "no longer in force"),
        ("qd06-2019:2022", "assessment ended on 2022-11-30"),
    ],
)
async def test_a_round_that_does_not_lie_ahead_is_refused_before_anything_opens(round_id: str, fragment: str) -> None:
    code, out = await _xptt(NOWHERE, "round", "open", round_id, "--province", "46")
    assert code == 2, out
    assert "round_id" in out and fragment in " ".join(out.split()), out
