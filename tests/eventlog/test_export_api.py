"""The event log download for auditors and administrators: GET /v1/audit/rounds/{round}/event-log on the running
stack, over a round seeded through the recording activity."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from domain.units import load_units
from tests.eventlog.expected import expected, read_traces
from tests.eventlog.seeding import record_cases
from tests.support import PROVINCE, ROUND_ID, Stack

URL = f"/v1/audit/rounds/{ROUND_ID}/event-log"


async def test_auditors_download_the_log_others_are_refused(stack: Stack, tmp_path: Path) -> None:
    units = [u.code for u in load_units(PROVINCE) if u.code != stack.unit_code][:2]
    await record_cases(stack.sessions, ROUND_ID, [(units[0], PROVINCE, 1), (units[1], PROVINCE, 0)], datetime.now(UTC))

    resp = await stack.http.get(URL, params={"format": "xes", "province": PROVINCE}, headers=stack.headers("auditor"))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/xml")
    assert f'filename="{ROUND_ID.replace(":", "-")}-{PROVINCE}.xes"' in resp.headers["content-disposition"]
    (tmp_path / "log.xes").write_bytes(resp.content)
    async with stack.sessions() as session:
        want = await expected(session, ROUND_ID, [PROVINCE])
    assert read_traces(tmp_path / "log.xes") == want.traces and len(want.traces) == 2

    resp = await stack.http.get(URL, params={"format": "ocel"}, headers=stack.headers("admin"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["objectTypes"][0]["name"] == "case"

    refused = await stack.http.get(URL, params={"province": PROVINCE}, headers=stack.headers("commune_officer"))
    assert refused.status_code == 403, refused.text
    unknown = await stack.http.get(URL, params={"format": "csv"}, headers=stack.headers("auditor"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_log_format", unknown.text
    absent = await stack.http.get(
        "/v1/audit/rounds/qd06-2019:1999/event-log", params={"format": "xes"}, headers=stack.headers("auditor")
    )
    assert absent.status_code == 404 and absent.json()["code"] == "round_not_found", absent.text
