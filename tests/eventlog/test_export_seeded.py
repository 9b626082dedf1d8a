"""A round's journal, seeded through the recording activity, exported as OCEL 2.0 (JSON, SQLite) and XES and read
back with pm4py: the numbers of events per activity, objects per type and links per qualifier equal those counted
in the database, and the XES traces are the cases' journals in order. Bad input: exit 2 (an unknown round or
province 3), nothing written; an --out that cannot be written: exit 2 in Vietnamese, nothing left behind."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.eventlog.service import export_log
from db.models import OfficialRow
from domain.units import load_units
from services.errors import Refusal
from tests.eventlog.expected import expected, read_ocel, read_traces
from tests.eventlog.seeding import actor_of, record_cases, seed_places
from tests.support import ROUND_ID, xptt

T0 = datetime(2027, 10, 1, 1, 0, tzinfo=UTC)
APPRAISER = actor_of("appraiser", "")
APPRAISER_NAME = "Lê Thị Thẩm Định"


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Five cases: three in Hưng Yên (one dossier returned once, one twice), two in Lai Châu (one returned once);
    the appraiser has a name in the directory."""
    hy, lc = [u.code for u in load_units("33")][:3], [u.code for u in load_units("12")][:2]
    await seed_places(sessions, ROUND_ID, ["33", "12"])
    cases = [(hy[0], "33", 1), (hy[1], "33", 0), (hy[2], "33", 2), (lc[0], "12", 0), (lc[1], "12", 1)]
    await record_cases(sessions, ROUND_ID, cases, T0)
    async with sessions() as session, session.begin():
        session.add(OfficialRow(id=APPRAISER, full_name=APPRAISER_NAME))
    return [u for u, _, _ in cases]


@pytest.mark.parametrize("fmt", ["ocel", "ocel-sqlite"])
async def test_ocel_reads_back_with_the_numbers_of_the_journal(
    sessions: async_sessionmaker[AsyncSession], seeded: list[str], tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"log.{fmt}"
    summary = await export_log(sessions, fmt, ROUND_ID, out)
    async with sessions() as session:
        want = await expected(session, ROUND_ID)
    got = read_ocel(out, sqlite=fmt == "ocel-sqlite")
    assert sum(want.actions.values()) == 5 * 9 + 2 * 4  # 9 rows a case, 2 more per return (4 returns)
    assert got.actions == want.actions
    assert got.objects == want.objects
    assert want.objects["case"] == 5 and want.objects["unit"] == 5
    assert got.qualifiers == want.qualifiers
    assert summary.events == got.activities
    # Each case's unit, round and rule set, each task's case: the object-to-object links.
    o2o = got.ocel.o2o
    assert len(o2o[o2o["ocel:qualifier"] == "unit"]) == 5
    assert len(o2o[o2o["ocel:qualifier"] == "case"]) == want.objects["task"]
    # Every task was opened by a row of the journal.
    opened = got.ocel.relations[got.ocel.relations["ocel:qualifier"] == "opened task"]
    assert len(opened) == want.objects["task"]


async def test_province_filter_and_names_only_when_asked(
    sessions: async_sessionmaker[AsyncSession], seeded: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "hy.jsonocel"
    await export_log(sessions, "ocel", ROUND_ID, out, provinces=["33"])
    async with sessions() as session:
        want = await expected(session, ROUND_ID, ["33"])
    got = read_ocel(out, sqlite=False)
    assert got.objects == want.objects and want.objects["case"] == 3
    assert got.actions == want.actions
    assert APPRAISER in out.read_text() and APPRAISER_NAME not in out.read_text()

    await export_log(sessions, "ocel", ROUND_ID, out, provinces=["33"], with_names=True)
    officials = [o for o in json.loads(out.read_text())["objects"] if o["type"] == "official"]
    named = {o["id"]: [a["value"] for a in o["attributes"] if a["name"] == "full_name"] for o in officials}
    assert named[f"official:{APPRAISER}"] == [APPRAISER_NAME]


async def test_xes_has_one_trace_per_case_with_its_journal_in_order(
    sessions: async_sessionmaker[AsyncSession], seeded: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "log.xes"
    summary = await export_log(sessions, "xes", ROUND_ID, out)
    async with sessions() as session:
        want = await expected(session, ROUND_ID)
    traces = read_traces(out)
    assert traces == want.traces
    assert summary.traces == 5
    twice_returned = traces[f"{ROUND_ID}-{seeded[2]}"]
    assert twice_returned[5:] == [
        "dossier_submission_completed",
        "appraisal_completed",  # returned
        "dossier_submission_completed",
        "appraisal_completed",  # returned
        "dossier_submission_completed",
        "appraisal_completed",
        "decision_completed",
        "commendation_checked",
    ]


async def test_bad_input_is_refused_and_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], seeded: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "log.jsonocel"
    for fmt, round_id, provinces, code in [
        ("csv", ROUND_ID, None, "unknown_log_format"),
        ("ocel", "qd06-2019:1999", None, "round_not_found"),
        ("xes", ROUND_ID, ["99"], "province_not_found"),
    ]:
        with pytest.raises(Refusal) as refused:
            await export_log(sessions, fmt, round_id, out, provinces=provinces)
        assert refused.value.code == code
    assert list(tmp_path.iterdir()) == []


async def test_cli_exports_and_refuses_in_vietnamese(database_url: str, seeded: list[str], tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    out = tmp_path / "log.xes"
    for args, exit_code, said in [
        (
            ["--format", "xes", "--round", "qd06-2019:1999"],
            3,
            "Không tìm thấy kỳ đánh giá này. (--round: qd06-2019:1999)",
        ),
        (["--format", "xes", "--round", ROUND_ID, "--province", "99"], 3, "Không tìm thấy tỉnh, thành phố có mã này."),
        (["--format", "pdf", "--round", ROUND_ID], 2, "Định dạng nhật ký sự kiện không được hỗ trợ"),
    ]:
        code, _, err = await xptt(env, "audit", "export-log", *args, "--out", str(out))
        assert code == exit_code, err
        assert said in err, err
    assert list(tmp_path.iterdir()) == []

    code, stdout, err = await xptt(env, "audit", "export-log", "--format=xes", f"--round={ROUND_ID}", f"--out={out}")
    assert code == 0, err
    assert "Đã ghi 53 sự kiện của 5 lượt xét công nhận" in stdout
    assert [p.name for p in tmp_path.iterdir()] == ["log.xes"]


async def test_an_out_that_cannot_be_written_exits_2_in_vietnamese_and_leaves_nothing(
    sessions: async_sessionmaker[AsyncSession], database_url: str, seeded: list[str], tmp_path: Path
) -> None:
    """A folder given as --out is refused before anything is read; a folder under a regular file is refused as
    missing; a name the file system refuses (too long: the temporary file cannot be made, even by root) ends
    the export with a Vietnamese line, not a traceback; nothing is left behind in any case."""
    env = {"DATABASE_URL": database_url}
    folder, plain = tmp_path / "folder", tmp_path / "plain.txt"
    folder.mkdir()
    plain.write_text("x")
    for out, said in [
        (folder, f"--out: {folder} là một thư mục"),
        (plain / "x.xes", "Không có thư mục để ghi tệp (--out)."),
        (tmp_path / ("x" * 250 + ".xes"), "--out: không ghi được tệp"),
    ]:
        code, stdout, err = await xptt(
            env, "audit", "export-log", "--format=xes", f"--round={ROUND_ID}", f"--out={out}"
        )
        assert code == 2, (out, stdout, err)
        assert said in " ".join(err.split()), err
        assert "Traceback" not in err and not re.search(r"\w+Error\b", err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "plain.txt"]
    assert list(folder.iterdir()) == []
    with pytest.raises(OSError):  # the service itself: nothing left either
        await export_log(sessions, "ocel-sqlite", ROUND_ID, tmp_path / ("y" * 250))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "plain.txt"]
