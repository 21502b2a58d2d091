"""``FakeServer`` over real HTTP/1.1 on a local port, for tests that need a URL (``gate --target``).

``serve_http(fake)`` runs an asyncio server in a thread of its own and yields an ``HttpFake``
whose ``url`` is the base URL. It speaks just enough HTTP/1.1 for the harness's clients
(keep-alive, ``Content-Length`` bodies) and hands each request to ``fake.handle`` as an
``httpx.Request``, so every behaviour of ``FakeServer`` (leaky, ``unavailable`` 503s, …) is
there over the network too.

``reset_preflight=N`` resets the connection (TCP RST, no answer) of the first N preflight
requests (their ``X-Request-ID`` holds ``-pre-``): the fault that once ended whole runs with
"target unreachable" although the target answered everything else (issue 12).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
import struct
import threading
from collections.abc import Iterator

import httpx
from fakes import FakeServer


class HttpFake:
    """A running fake: its ``url``, and what it did (``connections`` accepted, ``resets`` made)."""

    def __init__(self, fake: FakeServer, *, reset_preflight: int = 0) -> None:
        self.fake = fake
        self.url = ""
        self.connections = 0
        self.resets = 0
        self._resets_left = reset_preflight

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                request_line, *lines = head.split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                headers = [(name.strip(), value.strip()) for name, value in
                           (line.split(":", 1) for line in lines if ":" in line)]
                named = {name.lower(): value for name, value in headers}
                length = int(named.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                if self._resets_left and "-pre-" in named.get("x-request-id", ""):
                    self._resets_left -= 1
                    self.resets += 1
                    _reset(writer)
                    return
                answer = await self.fake.handle(httpx.Request(method, f"http://fake{target}", headers=headers,
                                                              content=body))
                writer.write(_response(answer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass   # the client closed the connection
        finally:
            writer.close()


def _response(answer: httpx.Response) -> bytes:
    content = answer.content
    head = [f"HTTP/1.1 {answer.status_code} {http.HTTPStatus(answer.status_code).phrase}",
            f"content-length: {len(content)}"]
    head += [f"{name}: {value}" for name, value in answer.headers.items()
             if name.lower() not in ("content-length", "transfer-encoding", "connection")]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content


def _reset(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP RST, as a crashed worker or a proxy would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@contextlib.contextmanager
def serve_http(fake: FakeServer, *, reset_preflight: int = 0) -> Iterator[HttpFake]:
    """Serve ``fake`` on 127.0.0.1 (a free port) while the block runs."""
    served = HttpFake(fake, reset_preflight=reset_preflight)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    server: list[asyncio.Server] = []

    def main() -> None:
        asyncio.set_event_loop(loop)
        server.append(loop.run_until_complete(asyncio.start_server(served.connection, "127.0.0.1", 0)))
        served.url = f"http://127.0.0.1:{server[0].sockets[0].getsockname()[1]}"
        ready.set()
        loop.run_forever()
        loop.close()

    async def shutdown() -> None:
        server[0].close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        loop.stop()

    thread = threading.Thread(target=main, name="http-fake", daemon=True)
    thread.start()
    ready.wait()
    try:
        yield served
    finally:
        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        thread.join(timeout=10)
