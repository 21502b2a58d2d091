"""A TCP proxy between the server and its Redis, in the harness's event loop (``redis-latency``).

The server is given the proxy's address instead of Redis's; every connection it opens is
relayed to Redis, byte for byte. ``degrade(delay)`` holds each chunk ``delay`` seconds in
each direction (in order) and drops every open connection, as a flaky network or a Redis
failing over does; ``restore()`` relays at full speed again. Connections opened later are
relayed the same way: the server's client reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 65536


class RedisProxy:
    """Relays ``127.0.0.1:port`` to ``upstream`` (a ``redis://`` URL); ``url`` is that URL
    pointed at the proxy (same database and credentials)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "redis" or parts.hostname is None:
            raise ValueError(f"the Redis proxy relays plain redis://host:port URLs, not {upstream!r}")
        self._upstream = upstream
        self._host = parts.hostname
        self._port = parts.port or 6379
        self._server: asyncio.Server | None = None
        self._pipes: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.delay = 0.0
        self.port = 0

    @property
    def url(self) -> str:
        parts = urlsplit(self._upstream)
        auth, _, _ = parts.netloc.rpartition("@")
        here = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{auth}@{here}" if auth else here))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def degrade(self, delay: float) -> int:
        """Delay every chunk by ``delay`` s each way from now on, and drop every open
        connection; returns how many were dropped."""
        self.delay = delay
        return self.drop()

    def restore(self) -> None:
        self.delay = 0.0

    def drop(self) -> int:
        pipes = list(self._pipes)
        for client, upstream in pipes:
            client.transport.abort()
            upstream.transport.abort()
        return len(pipes)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
        except OSError:
            writer.transport.abort()   # Redis is down: the server sees a refused connection
            return
        pipe = (writer, up_writer)
        self._pipes.add(pipe)
        pumps = [asyncio.ensure_future(self._pump(reader, up_writer)),
                 asyncio.ensure_future(self._pump(up_reader, writer))]
        for task in pumps:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._pipes.discard(pipe)
            for task in pumps:
                task.cancel()
            writer.transport.abort()
            up_writer.transport.abort()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(_CHUNK):
                if self.delay > 0:
                    await asyncio.sleep(self.delay)
                sink.write(chunk)
                await sink.drain()


__all__ = ["RedisProxy"]
