"""The clients of the national benchmark (bench/national.py): each drives one case at a time through the HTTP API
as the officials of its unit and province would, and records every request (latency, errors, 409 conflicts).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.stack import JWT_SECRET
from domain.stages import Stage
from infra.tokens import issue_token
from tests.support import HUMAN_PATH, form_for

SHORT = {  # role -> the short name in the seeded official's id (bench-<short>-<unit or province>)
    "commune_officer": "officer",
    "council_chair": "council",
    "commune_chairman": "cchair",
    "appraiser": "appraiser",
    "chairman": "chairman",
    "provincial_chairman": "pchairman",
    "admin": "admin",
}
UNIT_ROLES = ("commune_officer", "council_chair", "commune_chairman")
RETRY_S = 300  # how long a client sends a refused completion again before it gives the case up


@dataclass
class Case:
    id: str
    unit: str
    province: str
    role: str | None = "commune_officer"  # who acts next (None: look at the case to know)
    steps: int = 0
    looks: int = 0
    done: bool = False


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    not_in_inbox: int = 0  # a listing that did not show the task yet (listed again)
    retries: int = 0  # completions sent again after an error or a 409
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, official_id: str) -> str:
        if official_id not in self.tokens:
            now = datetime.now(UTC)
            self.tokens[official_id] = issue_token(
                official_id, secret=JWT_SECRET, issuer="xptt", now=now, ttl=timedelta(hours=3)
            )
        return self.tokens[official_id]

    async def call(
        self, http: httpx.AsyncClient, kind: str, method: str, url: str, official: str, **kw: Any
    ) -> httpx.Response | None:
        """One request as `official`: its answer (any but 2xx recorded as an error, a 409 as a conflict), None when
        there was none (recorded as an error)."""
        headers = {"Authorization": f"Bearer {self.token(official)}", **kw.pop("headers", {})}
        t0 = time.monotonic()
        try:
            resp = await http.request(method, url, headers=headers, **kw)
        except httpx.HTTPError as exc:
            self.errors[f"{kind}: {type(exc).__name__} {exc}"[:160]] += 1
            return None
        self.latencies[kind].append(time.monotonic() - t0)
        if not resp.is_success:
            where = self.conflicts if resp.status_code == 409 else self.errors
            where[f"{kind} {resp.status_code}: {resp.text}"[:160]] += 1
        return resp


def official_for(role: str, case: Case) -> str:
    return f"bench-{SHORT[role]}-{case.unit if role in UNIT_ROLES else case.province}"


def forms() -> dict[Stage, dict[str, Any]]:
    """The form of each stage an official completes (the tests' valid forms), commendation included."""
    return {s: form_for(s) for s in [*(stage for stage, _ in HUMAN_PATH), Stage.COMMENDATION]}


class Driver:
    """A client: one keep-alive connection, the officials of whichever case it drives."""

    def __init__(self, http: httpx.AsyncClient, rec: Recorder, forms: dict[Stage, dict[str, Any]]) -> None:
        self.http = http
        self.rec = rec
        self.forms = forms

    async def take(self, case: Case) -> str:
        """Drive the case as far as it goes now: "closed", "later" (to look at again later) or "lost"."""
        while True:
            if case.role is None:
                state = await self.look(case)
                if state != "open":
                    return state
            assert case.role is not None
            task = await self.find(case, case.role)
            result = await self.complete(case, task) if task is not None else None
            if result is None:
                return "lost"
            case.steps += 1
            if result["status"] == "closed":
                return "closed"
            case.role = result["next_task"]["role"] if result["next_task"] else None

    async def look(self, case: Case) -> str:
        """The case through the API, as its province's chairman reads it: "closed", "open" (a task is open for
        case.role) or "later"."""
        resp = await self.rec.call(self.http, "case", "GET", f"/v1/cases/{case.id}", official_for("chairman", case))
        case.looks += 1
        if resp is None or not resp.is_success:
            return "later"
        body = resp.json()
        if body["status"] == "closed":
            return "closed"
        task = next((t for t in body["tasks"] if t["status"] == "open"), None)
        case.role = task["role"] if task else None
        return "open" if task else "later"

    async def find(self, case: Case, role: str) -> dict[str, Any] | None:
        """The case's open task in the inbox of the official it is for."""
        params = {"mine": "true"} if role in UNIT_ROLES else {"mine": "true", "unit": case.unit}
        for _ in range(100):
            resp = await self.rec.call(self.http, "list", "GET", "/v1/tasks", official_for(role, case), params=params)
            if resp is not None and resp.is_success:
                found = [t for t in resp.json() if t["case_id"] == case.id]
                if found:
                    return dict(found[0])
                self.rec.not_in_inbox += 1
            await asyncio.sleep(0.1)
        return None

    async def complete(self, case: Case, task: dict[str, Any]) -> dict[str, Any] | None:
        """Complete the task with its stage's form. No answer or an error: sent again under the same
        Idempotency-Key (the same update), waiting longer each time, for up to RETRY_S (an overloaded worker may
        take a minute to take an update again); a 409: the inbox listed again first."""
        deadline, wait = time.monotonic() + RETRY_S, 0.5
        while time.monotonic() < deadline:
            resp = await self.rec.call(
                self.http,
                "complete",
                "POST",
                f"/v1/tasks/{task['id']}/complete",
                official_for(task["role"], case),
                json=self.forms[Stage(task["stage"])],
                headers={"Idempotency-Key": f"bench-{task['id']}"},
            )
            if resp is not None and resp.is_success:
                return dict(resp.json())
            self.rec.retries += 1
            await asyncio.sleep(wait)
            wait = min(2 * wait, 15.0)
            if resp is not None and resp.status_code == 409:
                found = await self.find(case, task["role"])
                if found is None:
                    return None
                task = found
        return None


async def drive(api_url: str, cases: list[Case], clients: int, rec: Recorder) -> Counter[str]:
    """`clients` clients take the cases in turn; a case to look at again goes back to the queue's end."""
    queue: asyncio.Queue[Case | None] = asyncio.Queue()
    for c in cases:
        queue.put_nowait(c)
    outcomes: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    filled = forms()

    def finish(case: Case, outcome: str) -> None:
        case.done = outcome == "closed"
        outcomes[outcome] += 1
        if sum(outcomes.values()) == len(cases):
            for _ in range(clients):
                queue.put_nowait(None)

    async def client() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=api_url, timeout=300, limits=limits) as http:
            driver = Driver(http, rec, filled)
            while (case := await queue.get()) is not None:
                outcome = await driver.take(case)
                if outcome == "later" and case.looks < 600:
                    loop.call_later(0.5, queue.put_nowait, case)
                else:
                    finish(case, outcome)

    await asyncio.gather(*(client() for _ in range(clients)))
    return outcomes
