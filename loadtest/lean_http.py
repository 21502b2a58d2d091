"""A lean HTTP/1.1 client for the contract's plain JSON calls: the harness's cheapest transport.

Why it exists: the harness shares the machine with the server it loads, so its CPU per
request is taken from the server under test. Per request, aiohttp's ``ClientSession`` builds
a request object, a response object, a timer context, trace hooks and (Python 3.11) a task to
write the body: about 40 % of a ``simulate`` process's CPU (``BENCHMARKS.md``, "Harness cost
against Locust"). The contract needs none of it: a JSON body out, a status and a JSON body
back. This client writes each request as one ``bytes`` on a kept-alive connection of its own
(an ``asyncio.Protocol``) and reads the answer with ``httptools`` (llhttp, the parser uvicorn
uses): Content-Length and chunked bodies, keep-alive or ``Connection: close``.

Terms:
- *connection*: one TCP connection (``_Connection``), one request on it at a time. A user
  keeps its idle ones and opens another only when all are busy (a double submit sends two
  requests at once), so each virtual user has connections of its own, as a browser would.
- *cookie jar*: a user's cookies (name -> value), learned from ``Set-Cookie`` and sent back
  on every request, so that a contract server behind a sticky load balancer sees each user
  as one browser; no domain, path or expiry date rules (one target per run), ``Max-Age=0``
  drops a cookie.

What it does not do, and who does: TLS (``https://``), redirects, proxies, and a target
profile's calls with their cookies set by a page script (``HttpTransport.send``) go through
``AiohttpTransport`` (``runner._network_factory`` picks). A body delimited by the closing of
the connection (HTTP/1.0, neither length nor chunks) is an error, not an answer.

Errors map as the seam says (``loadtest.transport``): no answer within the timeout is
``TransportTimeout``; a refused, reset or closed connection, or an answer that does not parse
as HTTP, is ``TransportError``; the nemesis's faults go through ``_ContractCalls._faulted``
(``sent`` is set once the request is handed to the socket whole). A connection whose request
was timed out, cut off or cancelled is closed, never reused.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

import httptools
import orjson

from loadtest.transport import (
    Reply, RequestFaults, TransportError, TransportFactory, TransportTimeout, _ContractCalls, _parse,
)

_NO_BODY_METHODS = frozenset({"GET", "HEAD"})   # others say ``Content-Length: 0`` when they carry nothing
# A path as it may go on the request line unchanged; anything else (a session id the target
# made up with a space, a CR/LF or a non-ASCII letter in it) is percent-encoded, as aiohttp's
# yarl does, so that no answer can write a header of its own into the next request.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/_.~:@!$&'()*+,;=%-]*")
_PATH_SAFE = "/_.~:@!$&'()*+,;=-"


class Headers(Mapping[str, str]):
    """An answer's headers: looked up whatever the case of the name, as HTTP says. Decoded
    only when asked (the contract's exchange never asks); a repeated header keeps its last value."""

    __slots__ = ("_raw", "_decoded")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._decoded: dict[str, str] | None = None

    def _map(self) -> dict[str, str]:
        if self._decoded is None:
            self._decoded = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self._raw}
        return self._decoded

    def __getitem__(self, name: str) -> str:
        return self._map()[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map()

    def __iter__(self) -> Iterator[str]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())

    def __repr__(self) -> str:
        return f"Headers({self._map()!r})"


class _Connection(asyncio.Protocol):
    """One kept-alive connection: writes a request, parses its answer, resolves a future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    # ---- the client's side ----------------------------------------------------------

    def request(self, data: bytes, waiter: asyncio.Future[Any]) -> None:
        self._waiter = waiter
        self._headers = []
        self._body = []
        assert self.transport is not None
        self.transport.write(data)

    def close(self) -> None:
        """Give the connection up (its answer, if one comes, is not wanted)."""
        self.closed = True
        self._waiter = None
        if self.transport is not None:
            self.transport.close()   # what is written still goes out, then FIN

    # ---- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(TransportError(f"not an HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "the server closed the connection"
        self._fail(TransportError(f"connection lost before the answer was complete ({reason})"))

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    # ---- httptools' callbacks -------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._parser.should_keep_alive():
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            body = self._body
            waiter.set_result((self._parser.get_status_code(), self._headers,
                               body[0] if len(body) == 1 else b"".join(body)))


def _close_if_connected(connecting: asyncio.Future[Any]) -> None:
    if not connecting.cancelled() and connecting.exception() is None:
        connecting.result()[1].close()


def _expire(waiter: asyncio.Future[Any], limit: float) -> None:
    if not waiter.done():
        waiter.set_exception(TransportTimeout(f"no answer within {limit:g}s"))


class LeanTransport(_ContractCalls):
    """One virtual user's client over ``_Connection``s of its own (module doc)."""

    def __init__(self, base_url: str, *, timeout: float, user: int = 0,
                 faults: RequestFaults | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the lean client speaks plain http:// only, not {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        # Host names the server as the URL did (with its port unless it is the default).
        self._host_line = f"\r\nHost: {parts.netloc}\r\nX-Request-ID: "
        self._timeout = timeout
        self._user = user
        self._faults = faults
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._cookies: dict[str, str] = {}

    async def _send(self, method: str, path: str, *, request_id: str, body: Any = None) -> Reply:
        if self._faults is not None:
            return await self._faulted(lambda timeout, sent: self._request(method, path, request_id, body,
                                                                          timeout, sent))
        return await self._request(method, path, request_id, body, None, None)

    def _encode(self, method: str, path: str, request_id: str, body: Any) -> bytes:
        if not _PLAIN_PATH.fullmatch(path):
            path = quote(path, safe=_PATH_SAFE)
        head = f"{method} {self._prefix}{path} HTTP/1.1{self._host_line}{request_id}\r\n"
        if self._cookies:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self._cookies.items()) + "\r\n"
        if body is not None:
            data = orjson.dumps(body)
            return (f"{head}Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                    + data)
        if method in _NO_BODY_METHODS:
            return f"{head}\r\n".encode()
        return f"{head}Content-Length: 0\r\n\r\n".encode()

    async def _request(self, method: str, path: str, request_id: str, body: Any, timeout: float | None,
                       sent: asyncio.Event | None) -> Reply:
        limit = self._timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        data = self._encode(method, path, request_id, body)
        waiter: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] = loop.create_future()
        timer = loop.call_later(limit, _expire, waiter, limit)
        conn: _Connection | None = None
        try:
            conn = await self._connection(waiter)
            conn.request(data, waiter)
            if sent is not None:
                sent.set()
            status, raw_headers, raw = await waiter
        except BaseException:
            # Timed out, cut off, cancelled or broken: an answer may still come; not on a connection reused.
            if conn is not None:
                self._drop(conn)
            raise
        finally:
            timer.cancel()
        if conn.closed:
            self._open.discard(conn)
        else:
            self._idle.append(conn)
        for name, value in raw_headers:
            if len(name) == 10 and name.lower() == b"set-cookie":
                self._learn_cookie(value.decode("latin-1"))
        return Reply(status, Headers(raw_headers), _parse(raw))

    async def _connection(self, waiter: asyncio.Future[Any]) -> _Connection:
        """An idle connection of this user's, or a new one (within the request's time limit)."""
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
            self._open.discard(conn)
        connecting = asyncio.ensure_future(asyncio.get_running_loop().create_connection(
            _Connection, self._host, self._port))
        # The timer fails ``waiter``: a connect that outlives it is given up.
        try:
            await asyncio.wait((connecting, waiter), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            connecting.cancel()
            connecting.add_done_callback(_close_if_connected)
            raise
        if not connecting.done():
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            await waiter   # raises the timeout
        try:
            _, conn = connecting.result()
        except OSError as exc:
            raise TransportError(f"cannot connect to {self._host}:{self._port}: {type(exc).__name__}: {exc}") from exc
        if waiter.done():   # timed out just as it connected
            conn.close()
            await waiter
        self._open.add(conn)
        return conn

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)

    def _learn_cookie(self, header: str) -> None:
        jar = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            return   # a cookie a browser would ignore too
        for name, morsel in jar.items():
            max_age = morsel["max-age"]
            if max_age and max_age.lstrip("-").isdigit() and int(max_age) <= 0:
                self._cookies.pop(name, None)
            else:
                self._cookies[name] = morsel.value

    async def aclose(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()


def lean_factory(base_url: str, *, timeout: float, faults: RequestFaults | None = None) -> TransportFactory:
    """A factory giving each user its own ``LeanTransport`` to ``base_url`` (``http://`` only)."""
    LeanTransport(base_url, timeout=timeout)   # refuses a URL it cannot speak to now, not per user
    return lambda user: LeanTransport(base_url, timeout=timeout, user=user, faults=faults)


__all__ = ["Headers", "LeanTransport", "lean_factory"]
