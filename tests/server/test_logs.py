"""Logs: one JSON object per line, request ids and hashed sessions, never a raw session id."""

from __future__ import annotations

import json
import logging

import pytest
from server_client import ServeApp, ask

from beatdebate_server.ids import hash_id
from beatdebate_server.logs import JsonFormatter, TextFormatter

pytestmark = pytest.mark.anyio


async def test_requests_are_logged_by_template_with_hashed_session(
        serve_app: ServeApp, caplog: pytest.LogCaptureFixture) -> None:
    # The per-request line is written at debug; session lifecycle events at info.
    with caplog.at_level(logging.DEBUG, logger="beatdebate"):
        async with serve_app() as client:
            answer = await ask(client, "Songs by Mk.gee", request_id="log-req-1")
            session_id = answer["session_id"]
            await client.get(f"/sessions/{session_id}", headers={"X-Request-ID": "log-req-2"})
            await client.delete(f"/sessions/{session_id}")

    requests = [r for r in caplog.records if r.name == "beatdebate.request"]
    assert [(r.method, r.route, r.status) for r in requests] == [  # type: ignore[attr-defined]
        ("POST", "/recommendations", 200), ("GET", "/sessions/{session_id}", 200),
        ("DELETE", "/sessions/{session_id}", 204)]
    assert {r.levelno for r in requests} == {logging.DEBUG}
    assert [r.request_id for r in requests][:2] == ["log-req-1", "log-req-2"]  # type: ignore[attr-defined]
    assert {r.session for r in requests} == {hash_id(session_id)}  # type: ignore[attr-defined]
    created = [r for r in caplog.records if r.getMessage() == "session created"]
    assert [r.session for r in created] == [hash_id(session_id)]  # type: ignore[attr-defined]
    assert {r.levelno for r in created} == {logging.INFO}

    rendered = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert session_id not in rendered
    assert hash_id(session_id) in rendered
    assert session_id not in "\n".join(TextFormatter().format(r) for r in caplog.records)


def test_json_formatter_writes_one_object_per_line_with_extras() -> None:
    record = logging.LogRecord("beatdebate.request", logging.INFO, __file__, 1, "request %s",
                               ("done",), None)
    record.request_id = "abc"
    record.session = "0123456789ab"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "request done" and entry["level"] == "info"
    assert entry["request_id"] == "abc" and entry["session"] == "0123456789ab"
    assert entry["logger"] == "beatdebate.request"
