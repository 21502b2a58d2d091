"""The ``redis-latency`` proxy: relays bytes both ways, delays them when degraded, drops what is open."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from loadtest.nemesis.redis_proxy import RedisProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
async def upstream() -> AsyncIterator[int]:
    """A stand-in for Redis: answers each line with ``+`` and the line."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(b"+" + line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


async def ask(port: int, line: bytes) -> tuple[bytes, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    writer.write(line)
    answer = await reader.readline()
    took = time.monotonic() - began
    writer.close()
    return answer, took


async def test_it_relays_then_delays_and_drops_then_relays_again(upstream: int) -> None:
    proxy = RedisProxy(f"redis://:secret@127.0.0.1:{upstream}/3")
    await proxy.start()
    try:
        assert proxy.url == f"redis://:secret@127.0.0.1:{proxy.port}/3"   # same database and password
        assert (await ask(proxy.port, b"PING\r\n"))[0] == b"+PING\r\n"
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"HELLO\r\n")
        assert await reader.readline() == b"+HELLO\r\n"
        assert proxy.degrade(0.1) == 1                  # the open connection is dropped ...
        assert await reader.read() == b""
        answer, took = await ask(proxy.port, b"SLOW\r\n")
        assert answer == b"+SLOW\r\n" and took >= 0.2  # ... and new ones wait 0.1 s each way
        proxy.restore()
        answer, took = await ask(proxy.port, b"FAST\r\n")
        assert answer == b"+FAST\r\n" and took < 0.2
        writer.close()
    finally:
        await proxy.close()


async def test_only_plain_redis_urls_are_relayed() -> None:
    with pytest.raises(ValueError, match="plain redis://"):
        RedisProxy("unix:///tmp/redis.sock")
