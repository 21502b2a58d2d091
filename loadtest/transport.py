"""The transport seam: the harness reaches a target only through these four calls (and
``send``, any call, for target profiles).

Terms:
- *transport*: one virtual user's HTTP client, speaking the contract's four calls
  (``api-contract.md``). Each user gets its own, with its own cookie jar and connections:
  a client shared between users would share cookies, and the harness itself would bleed.
- *reply*: the parsed answer (``Reply``): status, headers, JSON body (``None`` when the body
  is empty or not JSON). Any HTTP status is a reply; only a timeout
  (``TransportTimeout``) or a broken connection (``TransportError``) raises.

``AiohttpTransport`` is the default for network targets: per request it costs about a fifth
of what httpx does (``client-cost.md``), and the harness shares the CPU with the server it
loads. ``HttpxTransport`` serves in-process targets (``httpx.ASGITransport(app)``) and
deliberately leaky fakes (``httpx.MockTransport``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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


TransportFactory = Callable[[int], Transport]   # virtual user number -> that user's transport

_JSON = {"content-type": "application/json"}


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


class _ContractCalls:
    """The four contract calls, each one ``_send``: a transport only says how to send."""

    async def _send(self, method: str, path: str, *, request_id: str, body: Any = None) -> Reply:
        raise NotImplementedError

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

    def __init__(self, base_url: str, *, timeout: float) -> None:
        import aiohttp
        import yarl

        self._aiohttp = aiohttp
        self._yarl = yarl
        self._base = base_url.rstrip("/")
        self._timeout = timeout
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
            )
        return self._session

    async def _send(self, method: str, path: str, *, request_id: str, body: Any = None) -> Reply:
        url = self._urls.get(path) or self._yarl.URL(self._base + path)
        if body is None:
            headers, data = {"X-Request-ID": request_id}, None
        else:
            headers, data = {"X-Request-ID": request_id, **_JSON}, orjson.dumps(body)
        try:
            async with self._client().request(method, url, data=data, headers=headers) as resp:
                raw = await resp.read()
                return Reply(resp.status, resp.headers, _parse(raw))
        except asyncio.TimeoutError as exc:
            raise TransportTimeout(f"no answer within {self._timeout:g}s") from exc
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
        try:
            async with client.request(method, url, data=data, headers=sent) as resp:
                raw = await resp.read()
                set_cookies = {name: morsel.value for name, morsel in resp.cookies.items()}
                return Reply(resp.status, resp.headers, _parse(raw), set_cookies)
        except asyncio.TimeoutError as exc:
            raise TransportTimeout(f"no answer within {self._timeout:g}s") from exc
        except self._aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxTransport(_ContractCalls):
    """One ``httpx.AsyncClient`` per virtual user; ``transport`` may be ``ASGITransport(app)``
    (in-process; the caller enters the app's lifespan) or ``MockTransport`` (a fake)."""

    def __init__(self, base_url: str, *, timeout: float, transport: Any = None) -> None:
        import httpx

        self._httpx = httpx
        self._timeout = timeout
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def _send(self, method: str, path: str, *, request_id: str, body: Any = None) -> Reply:
        headers = {"X-Request-ID": request_id}
        content = None
        if body is not None:
            headers.update(_JSON)
            content = orjson.dumps(body)
        try:
            resp = await self._client.request(method, path, content=content, headers=headers)
        except self._httpx.TimeoutException as exc:
            raise TransportTimeout(f"no answer within {self._timeout:g}s") from exc
        except self._httpx.TransportError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        return Reply(resp.status_code, resp.headers, _parse(resp.content))

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
        try:
            resp = await self._client.request(method, path, content=content, headers=sent)
        except self._httpx.TimeoutException as exc:
            raise TransportTimeout(f"no answer within {self._timeout:g}s") from exc
        except self._httpx.TransportError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        return Reply(resp.status_code, resp.headers, _parse(resp.content), dict(resp.cookies))

    async def aclose(self) -> None:
        await self._client.aclose()


def aiohttp_factory(base_url: str, *, timeout: float) -> TransportFactory:
    """A factory giving each user its own ``AiohttpTransport`` to ``base_url``."""
    return lambda user: AiohttpTransport(base_url, timeout=timeout)


def httpx_factory(*, timeout: float, transport: Any = None, app: Any = None,
                  base_url: str = "http://beatdebate.test") -> TransportFactory:
    """A factory giving each user its own ``HttpxTransport``: over ``transport`` (e.g. a
    ``MockTransport``), or in-process over ``httpx.ASGITransport(app)``."""
    import httpx

    if app is not None:
        transport = httpx.ASGITransport(app=app)
    return lambda user: HttpxTransport(base_url, timeout=timeout, transport=transport)


__all__ = [
    "AiohttpTransport", "HttpTransport", "HttpxTransport", "Reply", "Transport", "TransportError",
    "TransportFactory", "TransportTimeout", "aiohttp_factory", "httpx_factory",
]
