"""The transport seam: the harness reaches a target only through these four calls (and
``send``, any call, for target profiles).

Terms:
- *transport*: one virtual user's HTTP client, speaking the contract's four calls
  (``api-contract.md``). Each user gets its own, with its own cookie jar and connections:
  a client shared between users would share cookies, and the harness itself would bleed.
- *reply*: the parsed answer (``Reply``): status, headers, JSON body (``None`` when the body
  is empty or not JSON). Any HTTP status is a reply; only a timeout
  (``TransportTimeout``) or a broken connection (``TransportError``) raises.
- *request fault* (``RequestFault``): what the nemesis (``loadtest.nemesis``) does to one
  request, asked of ``RequestFaults`` before it is sent: ``abort`` sends it whole, then cuts
  the connection before the answer (``TransportAborted``: it may have taken effect, the
  trigger of the March 2023 chat-history leak); ``timeout`` gives it a client timeout well
  under the server's latency (``TransportTimeout``). A transport without ``faults`` asks
  nothing: the usual path costs one attribute test.

The harness shares the CPU with the server it loads, so the client's cost per request
matters. For the contract's calls over plain ``http://`` the default is ``LeanTransport``
(``loadtest.lean_http``: about half aiohttp's CPU per request, ``BENCHMARKS.md``).
``AiohttpTransport`` (about a fifth of httpx's cost, ``client-cost.md``) serves TLS and
target profiles (``send``, with a full cookie jar). ``HttpxTransport`` serves in-process targets (``httpx.ASGITransport(app)``) and
deliberately leaky fakes (``httpx.MockTransport``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Literal, Protocol

import orjson


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: Any                       # parsed JSON, or None
    cookies: Mapping[str, str] = field(default_factory=dict)   # set by this answer (``send`` only)


class TransportError(Exception):
    """The request did not get an answer (connection refused or broken)."""


class TransportTimeout(TransportError):
    """No answer within the timeout: the request may or may not have taken effect."""


class TransportAborted(TransportError):
    """The harness cut the request off after sending it (nemesis ``abort``): it may or may not
    have taken effect."""


RequestFaultKind = Literal["abort", "timeout"]


@dataclass(frozen=True, slots=True)
class RequestFault:
    kind: RequestFaultKind
    timeout: float = 0.0            # ``timeout``: the client's timeout for this request, seconds


class RequestFaults(Protocol):
    def fault_for(self, user: int, number: int) -> RequestFault | None:
        """The fault for virtual user ``user``'s ``number``-th request (1-based), or None."""
        ...


class Transport(Protocol):
    async def recommend(self, body: Mapping[str, Any], *, request_id: str) -> Reply:
        """``POST /recommendations`` with ``X-Request-ID: request_id``."""
        ...

    async def create_session(self, *, request_id: str) -> Reply:
        """``POST /sessions``."""
        ...

    async def read_session(self, session_id: str, *, request_id: str) -> Reply:
        """``GET /sessions/{id}``: the recorded history."""
        ...

    async def delete_session(self, session_id: str, *, request_id: str) -> Reply:
        """``DELETE /sessions/{id}``: a "new chat" or page refresh."""
        ...

    async def aclose(self) -> None: ...


class HttpTransport(Transport, Protocol):
    """A transport that also makes any call: what target profiles (``loadtest.profiles``) send."""

    async def send(self, method: str, path: str, *, request_id: str, body: Any = None,
                   headers: Mapping[str, str] | None = None,
                   cookies: Mapping[str, str | None] | None = None) -> Reply:
        """``method path`` with ``X-Request-ID: request_id``, ``headers`` and ``body`` as JSON.
        ``cookies`` are put in the user's jar first (a ``None`` value drops that cookie), as a
        page script would, so the jar sends them now and after. The reply's ``cookies`` are
        those the answer set."""
        ...


class UserTransport(Protocol):
    """What every user's transport is, whatever the target: something to close at the end.
    How it is called is its exchange's business (``Exchange.send``): the contract's calls
    (``Transport``), a profile's generic ``send`` (``HttpTransport``), or a Gradio tab."""

    async def aclose(self) -> None: ...


TransportFactory = Callable[[int], UserTransport]   # virtual user number -> that user's transport

_JSON = {"content-type": "application/json"}


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


Send = Callable[[float | None, asyncio.Event | None], Awaitable[Reply]]   # (timeout, sent) -> reply


async def _sent_then_cut(send: Send) -> Reply:
    """``send`` until the request is out, then cut it off (``TransportAborted``). A reply that
    comes back before the request could be cut is returned: nothing was cut."""
    sent = asyncio.Event()
    request = asyncio.ensure_future(send(None, sent))
    written = asyncio.ensure_future(sent.wait())
    try:
        await asyncio.wait((request, written), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:   # the run stopped meanwhile: the request goes with it
        request.cancel()
        raise
    finally:
        written.cancel()
    if request.done():
        return request.result()
    request.cancel()   # the client goes away: its connection is closed, not pooled
    await asyncio.gather(request, return_exceptions=True)
    raise TransportAborted("cut off by the harness after it was sent (nemesis abort)")


class _ContractCalls:
    """The four contract calls, each one ``_send``: a transport only says how to send."""

    _faults: RequestFaults | None = None
    _user = 0
    _sent_count = 0

    async def _send(self, method: str, path: str, *, request_id: str, body: Any = None) -> Reply:
        raise NotImplementedError

    async def _faulted(self, send: Send) -> Reply:
        """``send`` as the nemesis says (``RequestFaults``): whole, cut off, or in a hurry."""
        fault = None
        if self._faults is not None:
            self._sent_count += 1
            fault = self._faults.fault_for(self._user, self._sent_count)
        if fault is None:
            return await send(None, None)
        if fault.kind == "abort":
            return await _sent_then_cut(send)
        return await send(fault.timeout, None)

    async def recommend(self, body: Mapping[str, Any], *, request_id: str) -> Reply:
        return await self._send("POST", "/recommendations", request_id=request_id, body=body)

    async def create_session(self, *, request_id: str) -> Reply:
        return await self._send("POST", "/sessions", request_id=request_id)

    async def read_session(self, session_id: str, *, request_id: str) -> Reply:
        return await self._send("GET", f"/sessions/{session_id}", request_id=request_id)

    async def delete_session(self, session_id: str, *, request_id: str) -> Reply:
        return await self._send("DELETE", f"/sessions/{session_id}", request_id=request_id)


class AiohttpTransport(_ContractCalls):
    """One ``aiohttp.ClientSession`` (own cookie jar, own connections) per virtual user."""

    def __init__(self, base_url: str, *, timeout: float, user: int = 0,
                 faults: RequestFaults | None = None) -> None:
        import aiohttp
        import yarl

        self._aiohttp = aiohttp
        self._yarl = yarl
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._user = user
        self._faults = faults
        self._session: Any = None
        # The fixed paths, parsed once: aiohttp takes a yarl.URL as is, but parses a str per request.
        self._urls: dict[str, Any] = {path: yarl.URL(self._base + path) for path in ("/recommendations", "/sessions")}

    def _client(self) -> Any:
        # Created lazily: a ClientSession must be made inside the running loop.
        if self._session is None:
            aiohttp = self._aiohttp
            self._session = aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                json_serialize=lambda obj: orjson.dumps(obj).decode(),
                skip_auto_headers=("User-Agent",),
                # Only a user the nemesis may cut off learns when its request is out.
                trace_configs=[_sent_trace(aiohttp)] if self._faults is not None else None,
            )
        return self._session

    async def _send(self, method: str, path: str, *, request_id: str, body: Any = None) -> Reply:
        url = self._urls.get(path) or self._yarl.URL(self._base + path)
        if body is None:
            headers, data = {"X-Request-ID": request_id}, None
        else:
            headers, data = {"X-Request-ID": request_id, **_JSON}, orjson.dumps(body)
        if self._faults is not None:
            return await self._faulted(lambda timeout, sent: self._request(
                method, url, data=data, headers=headers, timeout=timeout, sent=sent))
        try:
            async with self._client().request(method, url, data=data, headers=headers) as resp:
                raw = await resp.read()
                return Reply(resp.status, resp.headers, _parse(raw))
        except asyncio.TimeoutError as exc:
            raise TransportTimeout(f"no answer within {self._timeout:g}s") from exc
        except self._aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    async def _request(self, method: str, url: Any, *, data: bytes | None, headers: Mapping[str, str],
                       timeout: float | None, sent: asyncio.Event | None) -> Reply:
        """One request on the nemesis's terms: its own ``timeout``, and ``sent`` set once the
        request (headers and body) is written."""
        limit = self._timeout if timeout is None else timeout
        options: dict[str, Any] = {"trace_request_ctx": SimpleNamespace(sent=sent, body=data is not None)}
        if timeout is not None:
            options["timeout"] = self._aiohttp.ClientTimeout(total=timeout)
        try:
            async with self._client().request(method, url, data=data, headers=headers, **options) as resp:
                raw = await resp.read()
                return Reply(resp.status, resp.headers, _parse(raw))
        except asyncio.TimeoutError as exc:
            raise TransportTimeout(f"no answer within {limit:g}s") from exc
        except self._aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    async def send(self, method: str, path: str, *, request_id: str, body: Any = None,
                   headers: Mapping[str, str] | None = None,
                   cookies: Mapping[str, str | None] | None = None) -> Reply:
        client = self._client()
        url = self._urls.get(path) or self._yarl.URL(self._base + path)
        if cookies:
            jar = client.cookie_jar
            for name, value in cookies.items():
                # Replace, never add: one value of the cookie, whatever domain the server gave it.
                jar.clear(lambda morsel, name=name: morsel.key == name)
                if value is not None:
                    jar.update_cookies({name: value}, response_url=url)
        sent = {"X-Request-ID": request_id, **(headers or {})}
        data = None
        if body is not None:
            sent.update(_JSON)
            data = orjson.dumps(body)

        async def send_once(timeout: float | None, written: asyncio.Event | None) -> Reply:
            options: dict[str, Any] = {}
            if self._faults is not None:
                options["trace_request_ctx"] = SimpleNamespace(sent=written, body=data is not None)
            if timeout is not None:
                options["timeout"] = self._aiohttp.ClientTimeout(total=timeout)
            try:
                async with client.request(method, url, data=data, headers=sent, **options) as resp:
                    raw = await resp.read()
                    set_cookies = {name: morsel.value for name, morsel in resp.cookies.items()}
                    return Reply(resp.status, resp.headers, _parse(raw), set_cookies)
            except asyncio.TimeoutError as exc:
                limit = self._timeout if timeout is None else timeout
                raise TransportTimeout(f"no answer within {limit:g}s") from exc
            except self._aiohttp.ClientError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc

        return await self._faulted(send_once)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxTransport(_ContractCalls):
    """One ``httpx.AsyncClient`` per virtual user; ``transport`` may be ``ASGITransport(app)``
    (in-process; the caller enters the app's lifespan) or ``MockTransport`` (a fake)."""

    def __init__(self, base_url: str, *, timeout: float, transport: Any = None, user: int = 0,
                 faults: RequestFaults | None = None) -> None:
        import httpx

        self._httpx = httpx
        self._timeout = timeout
        self._user = user
        self._faults = faults
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def _send(self, method: str, path: str, *, request_id: str, body: Any = None) -> Reply:
        headers = {"X-Request-ID": request_id}
        content = None
        if body is not None:
            headers.update(_JSON)
            content = orjson.dumps(body)
        if self._faults is not None:
            return await self._faulted(lambda timeout, sent: self._request(
                method, path, content=content, headers=headers, timeout=timeout, sent=sent))
        try:
            resp = await self._client.request(method, path, content=content, headers=headers)
        except self._httpx.TimeoutException as exc:
            raise TransportTimeout(f"no answer within {self._timeout:g}s") from exc
        except self._httpx.TransportError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        return Reply(resp.status_code, resp.headers, _parse(resp.content))

    async def _request(self, method: str, path: str, *, content: bytes | None, headers: Mapping[str, str],
                       timeout: float | None, sent: asyncio.Event | None,
                       cookies: bool = False) -> Reply:
        """One request on the nemesis's terms. In-process (``ASGITransport``) nothing is
        written to a socket and httpx's timeouts do not apply: the request counts as sent once
        the app has had one turn of the loop, and a fault's timeout is the loop's own."""
        call = self._client.request(method, path, content=content, headers=headers)
        if sent is not None:
            async def mark_sent() -> None:
                await asyncio.sleep(0)
                sent.set()
            marker = asyncio.ensure_future(mark_sent())
        try:
            async with asyncio.timeout(timeout):
                resp = await call
        except (TimeoutError, self._httpx.TimeoutException) as exc:
            limit = self._timeout if timeout is None else timeout
            raise TransportTimeout(f"no answer within {limit:g}s") from exc
        except self._httpx.TransportError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if sent is not None:
                marker.cancel()
        return Reply(resp.status_code, resp.headers, _parse(resp.content),
                     dict(resp.cookies) if cookies else {})

    async def send(self, method: str, path: str, *, request_id: str, body: Any = None,
                   headers: Mapping[str, str] | None = None,
                   cookies: Mapping[str, str | None] | None = None) -> Reply:
        jar = self._client.cookies
        for name, value in (cookies or {}).items():
            # Replace, never add: one value of the cookie, whatever domain the server gave it.
            jar.delete(name)
            if value is not None:
                jar.set(name, value)
        sent = {"X-Request-ID": request_id, **(headers or {})}
        content = None
        if body is not None:
            sent.update(_JSON)
            content = orjson.dumps(body)
        return await self._faulted(lambda timeout, written: self._request(
            method, path, content=content, headers=sent, timeout=timeout, sent=written, cookies=True))

    async def aclose(self) -> None:
        await self._client.aclose()


def _sent_trace(aiohttp: Any) -> Any:
    """An aiohttp ``TraceConfig`` that sets a request's ``trace_request_ctx.sent`` once it is
    written: after its body, or after its headers when it has none."""
    trace = aiohttp.TraceConfig()

    async def headers_sent(session: Any, context: Any, params: Any) -> None:
        request = context.trace_request_ctx
        if request is not None and request.sent is not None and not request.body:
            request.sent.set()

    async def chunk_sent(session: Any, context: Any, params: Any) -> None:
        request = context.trace_request_ctx
        if request is not None and request.sent is not None:
            request.sent.set()

    trace.on_request_headers_sent.append(headers_sent)
    trace.on_request_chunk_sent.append(chunk_sent)
    return trace


DESCRIPTORS_SPARE = 256   # file descriptors beside the users' sockets: the loop, logs, the embedded server's pipes
SOCKETS_WANTED = 3        # per user: a triple submit (``concurrent = 3``) holds three connections at once


def ensure_file_descriptors(users: int) -> None:
    """Make room for ``users`` users' connections: raise the process's soft limit on open
    files (``ulimit -n``) towards ``SOCKETS_WANTED`` sockets a user (within the hard limit)
    when it is lower, or fail with ``HarnessFailure`` saying what to do when not even one
    socket a user fits. Without it, the users past the limit would fail with "Too many open
    files", recorded as connection errors: the target's to answer for, wrongly."""
    try:
        import resource
    except ImportError:   # not a POSIX system: nothing to raise
        return
    needed = users + DESCRIPTORS_SPARE
    wanted = users * SOCKETS_WANTED + DESCRIPTORS_SPARE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        from loadtest.errors import HarnessFailure

        raise HarnessFailure(f"{users:,} users need at least {needed:,} open files, and this process may open at most "
                             f"{hard:,} (hard limit): raise it (ulimit -Hn, or nofile in limits.conf) or run fewer users")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def aiohttp_factory(base_url: str, *, timeout: float, faults: RequestFaults | None = None) -> TransportFactory:
    """A factory giving each user its own ``AiohttpTransport`` to ``base_url`` (``faults``:
    what the nemesis does to their requests)."""
    return lambda user: AiohttpTransport(base_url, timeout=timeout, user=user, faults=faults)


def httpx_factory(*, timeout: float, transport: Any = None, app: Any = None,
                  base_url: str = "http://beatdebate.test",
                  faults: RequestFaults | None = None) -> TransportFactory:
    """A factory giving each user its own ``HttpxTransport``: over ``transport`` (e.g. a
    ``MockTransport``), or in-process over ``httpx.ASGITransport(app)``."""
    import httpx

    if app is not None:
        transport = httpx.ASGITransport(app=app)
    return lambda user: HttpxTransport(base_url, timeout=timeout, transport=transport, user=user,
                                       faults=faults)


__all__ = [
    "AiohttpTransport", "HttpTransport", "HttpxTransport", "Reply", "RequestFault", "RequestFaultKind",
    "RequestFaults", "Transport", "TransportAborted", "TransportError", "TransportFactory", "TransportTimeout",
    "UserTransport",
    "aiohttp_factory", "ensure_file_descriptors", "httpx_factory",
]
