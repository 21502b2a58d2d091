"""``loadtest.locustfile.wire``: a request's body and cookies on Locust's client, its answer as a ``Reply``."""

from __future__ import annotations

import urllib.request
from http.cookiejar import CookieJar

import pytest

from loadtest.exchange import Request
from loadtest.locustfile.wire import body_bytes, put_cookies, reply_of


def sent_cookies(jar: CookieJar, url: str) -> str | None:
    """The Cookie header ``jar`` adds to a request for ``url``."""
    request = urllib.request.Request(url)
    jar.add_cookie_header(request)
    return request.get_header("Cookie")


def test_the_body_goes_as_json_and_none_as_no_body() -> None:
    request = Request("recommend", "POST", "/chat", "r1", None, {"message": "Songs by Burial", "n": 3})
    assert body_bytes(request) == b'{"message":"Songs by Burial","n":3}'
    assert body_bytes(Request("read_history", "GET", "/s/1", "r2", "1")) is None


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8123", "http://localhost:8123", "https://svc.example"])
def test_cookies_go_in_the_jar_for_the_host_and_none_drops_them(base_url: str) -> None:
    jar = CookieJar()
    put_cookies(jar, base_url, {"sid": "abc", "theme": "dark"})
    assert sent_cookies(jar, base_url + "/chat") in {"sid=abc; theme=dark", "theme=dark; sid=abc"}
    put_cookies(jar, base_url, {"sid": "def"})                  # replaced, not doubled
    put_cookies(jar, base_url, {"theme": None})                 # dropped: a new conversation
    assert sent_cookies(jar, base_url + "/other") == "sid=def"
    put_cookies(jar, base_url, None)
    assert sent_cookies(jar, base_url + "/") == "sid=def"
    assert sent_cookies(jar, "http://elsewhere.example/") is None


def test_a_reply_has_case_insensitive_headers_its_json_and_the_cookies_it_set() -> None:
    reply = reply_of(200, [("Content-Type", "application/json"), ("X-Conversation", "c7"),
                           ("Set-Cookie", "sid=s1; Path=/; HttpOnly"), ("set-cookie", "lang=en")],
                     b'{"reply": "hi"}')
    assert (reply.status, reply.body, reply.headers.get("x-conversation")) == (200, {"reply": "hi"}, "c7")
    assert reply.cookies == {"sid": "s1", "lang": "en"}
    empty = reply_of(204, [], b"")
    assert (empty.status, empty.body, empty.cookies) == (204, None, {})
    assert reply_of(502, [("Set-Cookie", "=;;")], b"<html>bad gateway</html>").body is None
