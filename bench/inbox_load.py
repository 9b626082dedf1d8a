"""The inbox benchmark's load: a lean HTTP/1.1 client, the closed and open loops, their figures, and the CPU the
processes spend meanwhile.

The client is light so that the load generator, on the same two cores as the API and PostgreSQL, takes little of
them: raw asyncio streams on keep-alive connections, each request's bytes built from a prefix made once (method and
path) and a suffix made once (Host and Authorization), and of each answer only what measuring needs: the status
line, the headers (Content-Length, X-Next-Cursor, Connection) and the whole body, read to its last byte (a 200 must
be a JSON array). The measure stays honest: the latency runs until the last byte is in, and any answer but 200, or no
answer at all (refused, reset, closed, 60 s without it), is an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import text

from bench.stack import Stack, cpu_seconds, cpu_seconds_by_process

TIMEOUT = 60.0  # seconds without the whole answer: counted as no answer
T = TypeVar("T")
IDLE = 4.0  # seconds a kept-alive connection may idle before it is not reused (the API closes it after 5)


@dataclass
class Answer:
    status: int  # 0: no answer
    why: str = ""  # an error's reason: the start of the body, or the failure
    headers: dict[bytes, bytes] = field(default_factory=dict)  # names lowercased


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used = time.monotonic()

    async def exchange(self, request: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await self._chunked()
        else:
            body = await self.reader.readexactly(int(headers.get(b"content-length", b"0")))
        self.used = time.monotonic()
        return status, headers, body

    async def _chunked(self) -> bytes:
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append((await self.reader.readexactly(size + 2))[:-2])
        await self.reader.readuntil(b"\r\n")  # the empty trailer
        return b"".join(parts)

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    """GET requests to one server over kept-alive HTTP/1.1 connections, at most `connections` at a time (a request
    beyond waits for one, and its latency counts the wait), each with the same extra headers."""

    def __init__(self, base_url: str, headers: dict[str, str], connections: int = 20) -> None:
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        fixed = "".join(f"{k}: {v}\r\n" for k, v in {"Host": url.netloc, **headers}.items())
        self._suffix = f" HTTP/1.1\r\n{fixed}\r\n".encode()
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(connections)

    async def get(self, target: str) -> Answer:
        """The answer to `GET target` (path and query, already encoded). A kept-alive connection the server closed
        before this request reached it (reset, or closed before a byte of the answer) is not the server failing the
        request: it is sent once more on a new connection, as HTTP clients do, its latency counting both tries."""
        request = b"GET " + target.encode() + self._suffix
        async with self._slots:
            conn = self._reusable()
            while True:
                reused = conn is not None
                try:
                    if conn is None:
                        conn = _Connection(*await asyncio.open_connection(self._host, self._port))
                    status, headers, body = await asyncio.wait_for(conn.exchange(request), TIMEOUT)
                    break
                except (OSError, EOFError, TimeoutError, ValueError, IndexError) as exc:
                    if conn is not None:
                        conn.close()
                        conn = None
                    if not (reused and _closed_before_answering(exc)):
                        return Answer(0, f"{type(exc).__name__}: {exc}")
            if headers.get(b"connection", b"").lower() == b"close":
                conn.close()
            else:
                self._idle.append(conn)
        if status != 200:
            return Answer(status, body[:150].decode(errors="replace"), headers)
        if not body.startswith(b"["):
            return Answer(-1, f"not a JSON array: {body[:100]!r}", headers)
        return Answer(200, "", headers)

    def _reusable(self) -> _Connection | None:
        """The most recently used idle connection that the server has not closed, nor is about to."""
        while self._idle:
            conn = self._idle.pop()
            if time.monotonic() - conn.used < IDLE and not conn.reader.at_eof():
                return conn
            conn.close()
        return None

    async def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()


def _closed_before_answering(exc: BaseException) -> bool:
    if isinstance(exc, asyncio.IncompleteReadError):
        return not exc.partial
    return isinstance(exc, ConnectionResetError | BrokenPipeError)


# -- the loops ---------------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    kind: str
    seconds: float
    status: int  # 0: the request failed (no answer)


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    error_examples: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, seconds: float, status: int, why: str = "") -> None:
        self.samples.append(Sample(kind, seconds, status))
        if status != 200:
            self.error_examples[f"{status} {why}"[:200]] += 1


class LoadClient(Protocol):
    rng: Any

    def one(self, rec: Recorder, started: float | None = None) -> Coroutine[Any, Any, None]: ...


async def closed_loop(clients: list[Any], seconds: float, rec: Recorder) -> float:
    """Each client sends its next request when the previous one has answered, for `seconds`."""
    stop = time.monotonic() + seconds

    async def loop(c: LoadClient) -> None:
        while time.monotonic() < stop:
            await c.one(rec)

    t0 = time.monotonic()
    await asyncio.gather(*(loop(c) for c in clients))
    return time.monotonic() - t0


async def open_loop(clients: list[Any], seconds: float, rate: float, rec: Recorder) -> float:
    """Each client sends `rate` requests a second on a fixed schedule (random phase), not waiting for answers; the
    latency runs from the scheduled moment."""
    t0 = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()

    async def schedule(c: LoadClient) -> None:
        at = t0 + c.rng.random() / rate
        while at < t0 + seconds:
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.get_running_loop().create_task(c.one(rec, started=at))
            pending.add(task)
            task.add_done_callback(pending.discard)
            at += 1 / rate

    await asyncio.gather(*(schedule(c) for c in clients))
    if pending:
        await asyncio.gather(*pending)
    return time.perf_counter() - t0


def quantiles_ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))], 1)

    return {
        "n": len(ordered),
        "p50_ms": q(0.50),
        "p95_ms": q(0.95),
        "p99_ms": q(0.99),
        "max_ms": round(1000 * ordered[-1], 1),
        "mean_ms": round(1000 * statistics.fmean(ordered), 1),
    }


def phase_figures(rec: Recorder, wall: float, cpu: dict[str, float], load_before: str) -> dict[str, Any]:
    """One phase's requests, latencies and errors; the CPU seconds each process spent on it (`cpu`), per request too;
    the load average before it and now, after it."""
    ok = [s.seconds for s in rec.samples]
    errors = [s for s in rec.samples if s.status != 200]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for s in rec.samples:
        by_kind[s.kind].append(s.seconds)
    return {
        "requests": len(rec.samples),
        "requests_per_second": round(len(rec.samples) / wall, 1),
        "errors": len(errors),
        "error_examples": dict(rec.error_examples.most_common(5)),
        "latency": quantiles_ms(ok),
        "latency_by_kind": {k: quantiles_ms(v) for k, v in sorted(by_kind.items())},
        "seconds": round(wall, 1),
        "cpu_seconds": cpu,
        "cpu_ms_per_request": {k: round(1000 * v / max(1, len(rec.samples)), 2) for k, v in cpu.items()},
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


# -- CPU of the API's process tree -------------------------------------------------------------------------------------
def children(pid: int) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    yield int(entry.name)
                    yield from children(int(entry.name))


async def _own_postgres(stack: Stack) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the benchmark's database (the API's pool, ours, parallel
    workers): not the other databases and servers on the machine."""
    async with stack.sessions() as session:
        pids = (
            await session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        ).scalars()
        return {int(pid): cpu_seconds(int(pid)) for pid in pids}


@dataclass
class Cpu:
    processes: dict[str, float]
    backends: dict[int, float]

    def since(self, before: Cpu) -> dict[str, float]:
        out = {k: round(v - before.processes.get(k, 0.0), 1) for k, v in self.processes.items()}
        # a backend that started meanwhile counts from zero; one that ended is lost (parallel workers: little)
        out["postgres"] = round(sum(v - before.backends.get(pid, 0.0) for pid, v in self.backends.items()), 1)
        return out


async def cpu_now(stack: Stack) -> Cpu:
    out = cpu_seconds_by_process(stack)
    api = stack.procs["api"].pid
    out["api"] = cpu_seconds(api) + sum(cpu_seconds(p) for p in children(api))  # uvicorn's workers: its children
    return Cpu({k: out[k] for k in ("api", "bench")}, await _own_postgres(stack))


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def event_loop_runner() -> Callable[[Coroutine[Any, Any, T]], T]:
    """uvloop's run when it is installed (less of the load generator's own CPU), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run
