"""Schemathesis against the app in-process: no 5xx, and every answer agrees with /openapi.json."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core import NOT_SET

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/server: server_client
from server_client import build_recommender  # noqa: E402

from beatdebate_server.http.app import create_app  # noqa: E402
from beatdebate_server.settings import Settings  # noqa: E402

# Schemathesis' ASGI client (Starlette's TestClient) enters the app's lifespan itself.
_app = create_app(Settings(), recommender=build_recommender(crowd=0))
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate()


# What hypothesis never generates (JSON has no NaN), but a client may send: non-finite
# numbers, which Python's JSON reader takes, and oversized headers (issue 16). Each case
# goes through the same checks: no 5xx, and an answer the schema documents.
_RECOMMEND = schema["/recommendations"]["POST"]
_HUGE = {"X-Pad": "p" * 200_000, "User-Agent": "u" * 20_000}


@pytest.mark.parametrize("raw", [
    b'{"query": "x", "max_recommendations": NaN}',
    b'{"query": "x", "max_recommendations": 1e400}',
    b'{"query": "x", "max_recommendations": -Infinity}',
    b'{"query": Infinity}',
    b'{"query": "x", "include_previews": -Infinity}',
    b'{"query": "x", "session_id": NaN}',
    b'{"query": "x", "ignored": [NaN, 1e999]}',
])
def test_non_finite_numbers_conform(raw: bytes) -> None:
    # A body given to the call replaces the case's own (which JSON could not carry).
    case = _RECOMMEND.Case(body={"query": "x"}, media_type="application/json")
    response = case.call_and_validate(data=raw)
    assert response.status_code in (200, 422)
    assert "x-request-id" in response.headers


@pytest.mark.parametrize(("path", "method"), [("/recommendations", "POST"),
                                              ("/sessions", "POST"),
                                              ("/health", "GET")])
def test_oversized_headers_conform(path: str, method: str) -> None:
    operation = schema[path][method]
    body = {"query": "Electronic music"} if path == "/recommendations" else NOT_SET
    case = operation.Case(headers=_HUGE, body=body,
                          media_type="application/json" if body is not NOT_SET else None)
    response = case.call_and_validate()   # raises when the answer breaks the schema
    # In-process there is no connection protocol to refuse the head (431 is the socket
    # tests' business): the app itself must still answer, and never with a 500.
    assert response.status_code < 500
