"""An exchange's ``Request`` on Locust's HTTP client, and its answer back as a ``Reply``.

The Locust user sends what its exchange (``loadtest.exchange.Exchange``) builds with its own
``FastHttpSession``, as ``loadtest.transport``'s clients do for ``simulate``:

- the method, path and headers as built (``Request.headers``: ``X-Request-ID``, the JSON
  content type, a profile's own headers), and the body as JSON bytes (``body_bytes``);
- the request's *cookies* go into the user's own jar first (``put_cookies``), as a page
  script would set them, so the jar sends them now and after; a ``None`` value drops that
  cookie (a new conversation without the id);
- the answer becomes a ``Reply`` (``reply_of``): status, headers (case-insensitive), the
  parsed JSON body (``None`` when there is none or it does not parse) and the cookies the
  answer set, which an exchange may read the session id from.

No Locust import: the jar is ``http.cookiejar``'s (Locust's ``FastHttpSession.cookiejar``)
and an answer's headers come in as name/value pairs, so the tests use this module as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http.cookiejar import Cookie, CookieJar
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from loadtest.exchange import Request
from loadtest.transport import Reply

_PORT = re.compile(r":\d+$")


def body_bytes(request: Request) -> bytes | None:
    """The request's body as JSON, or ``None`` when it has none."""
    return None if request.body is None else orjson.dumps(request.body)


def put_cookies(jar: CookieJar, base_url: str, cookies: Mapping[str, str | None] | None) -> None:
    """Set each cookie for ``base_url``'s host in ``jar`` (``None``: drop it), as a page script
    would (``document.cookie``: host-only, path ``/``)."""
    if not cookies:
        return
    host = _effective_host(base_url)
    for name, value in cookies.items():
        for found in [cookie for cookie in jar if cookie.name == name]:
            jar.clear(found.domain, found.path, found.name)
        if value is not None:
            jar.set_cookie(Cookie(
                version=0, name=name, value=value, port=None, port_specified=False, domain=host,
                domain_specified=False, domain_initial_dot=False, path="/", path_specified=True, secure=False,
                expires=None, discard=True, comment=None, comment_url=None, rest={}, rfc2109=False))


def _effective_host(base_url: str) -> str:
    """The name ``http.cookiejar`` files a host's cookies under: the host without its port,
    lower-cased, with ``.local`` added to a name without a dot (``localhost.local``)."""
    host = _PORT.sub("", urlsplit(base_url).netloc.rpartition("@")[2]).lower()
    return host if "." in host else host + ".local"


def reply_of(status: int, headers: Iterable[tuple[str, str]], content: bytes | None) -> Reply:
    """The ``Reply`` for an answer: ``headers`` as name/value pairs (repeats allowed)."""
    pairs = list(headers)
    return Reply(status, httpx.Headers(pairs), _json(content), _set_cookies(pairs))


def _set_cookies(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The cookies an answer's ``Set-Cookie`` headers set: name -> value."""
    found: dict[str, str] = {}
    for name, value in headers:
        if name.lower() != "set-cookie":
            continue
        parsed = SimpleCookie()
        try:
            parsed.load(value)
        except CookieError:
            continue            # a cookie the jar would refuse too: not one the service set
        found.update({key: morsel.value for key, morsel in parsed.items()})
    return found


def _json(content: bytes | None) -> Any:
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


__all__ = ["body_bytes", "put_cookies", "reply_of"]
