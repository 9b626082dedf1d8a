"""A TCP proxy in front of PostgreSQL that a fault scenario can cut and restore."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from db.session import async_url
from infra.embedded import free_port


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL (TCP or its Unix socket), in a thread of its own.

    `cut()` stops listening (new connections are refused) and drops every open connection; `restore()` listens
    again on the same port."""

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target
        self.port = free_port()
        self.cuts = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="pg-proxy")

    @classmethod
    def for_url(cls, url: str) -> TcpProxy:
        u = make_url(async_url(url))
        socket_dir = u.query.get("host")
        if isinstance(socket_dir, tuple):
            socket_dir = socket_dir[0]
        if socket_dir and Path(socket_dir).is_dir():
            port = u.port or 5432
            candidates = sorted(Path(socket_dir).glob(".s.PGSQL.*"))
            exact = Path(socket_dir) / f".s.PGSQL.{port}"
            path = exact if exact.exists() else next(p for p in candidates if not p.name.endswith(".lock"))
            return cls(str(path))
        return cls((u.host or "127.0.0.1", u.port or 5432))

    def url(self, database_url: str) -> str:
        """`database_url` through the proxy."""
        u = make_url(async_url(database_url))
        query = {k: v for k, v in u.query.items() if k != "host"}
        return u.set(host="127.0.0.1", port=self.port, query=query).render_as_string(hide_password=False)

    def start(self) -> None:
        self._thread.start()
        self.restore()

    def _call(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self, seconds: float | None = None) -> None:
        """Refuse and drop; with `seconds`, listen again after that long (timed in the proxy's own thread, so a
        busy test loop cannot stretch the outage)."""

        async def drop() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None
            for w in list(self._writers):
                w.transport.abort()
            self._writers.clear()
            if seconds is not None:
                self._loop.call_later(seconds, lambda: self._loop.create_task(self._listen()))

        self._call(drop())
        self.cuts += 1

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    @property
    def listening(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if isinstance(self.target, str):
                up_reader, up_writer = await asyncio.open_unix_connection(self.target)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)
