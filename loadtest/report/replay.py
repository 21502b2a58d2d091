"""Replay commands for witnesses: the curl that asks the target the victim's question again.

A run against our contract replays with ``oracle.explain.curl_for``. A run under an ``http``
target profile replays the request that profile builds (its path, body template, headers and
session cookie), loaded again from the source the run recorded (``settings.profile_source``),
so that a witness of a foreign service shows a command that service understands. A Gradio
app's calls are not plain HTTP requests: no curl, the witness's prose stands alone.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from loadtest.exchange import Request
from loadtest.history import Op
from loadtest.oracle import explain
from loadtest.profiles import ProfileError, exchange_for, load_profile
from loadtest.profiles.model import Profile
from loadtest.scenario import QueryStep

Replay = Callable[[Op, str], str | None]    # (victim op, base URL) -> a shell command, or None


def replay_for(settings: Mapping[str, Any]) -> Replay:
    """How to replay the ops of a run whose settings are ``settings`` (module doc)."""
    source = settings.get("profile_source") or "contract"
    if source == "contract":
        return explain.curl_for
    try:
        profile = load_profile(str(source))
    except ProfileError:
        return lambda op, base_url: None    # the profile file is gone: say nothing rather than guess
    if profile.kind == "contract":
        return explain.curl_for
    if profile.kind != "http":
        return lambda op, base_url: None
    return lambda op, base_url: _profile_curl(profile, op, base_url)


def _profile_curl(profile: Profile, op: Op, base_url: str) -> str | None:
    exchange = exchange_for(profile)
    request: Request | None
    if op.action == "recommend":
        # The query as sent, as a template with no placeholders left (braces doubled).
        query = (op.query or "").replace("{", "{{").replace("}", "}}")
        request = exchange.recommend(QueryStep(name=op.step, query=query), {}, rid=op.request_id,
                                     session_id=op.session_sent, max_recommendations=10)
    elif op.action == "create_session":
        request = exchange.create_session(rid=op.request_id)
    elif op.session_sent is None:
        return None
    elif op.action == "read_history":
        request = exchange.read_history(op.session_sent, rid=op.request_id)
    else:
        request = exchange.delete_session(op.session_sent, rid=op.request_id)
    if request is None:
        return None
    parts = ["curl", "-sS", "-i", "-X", request.method, base_url.rstrip("/") + request.path]
    for name, value in request.headers.items():
        parts += ["-H", f"{name}: {value}"]
    cookies = "; ".join(f"{name}={value}" for name, value in (request.cookies or {}).items() if value is not None)
    if cookies:
        parts += ["-b", cookies]
    if request.body is not None:
        parts += ["--data", orjson.dumps(request.body).decode()]
    return " ".join(shlex.quote(part) for part in parts)


__all__ = ["Replay", "replay_for"]
