"""``/metrics``: requests by route template *and status*, including the answers given
before routing (413, a malformed request id's 422), never by raw path (issue 16)."""

from __future__ import annotations

import re

import pytest
from server_client import ServeApp, ask

pytestmark = pytest.mark.anyio


def _count(text: str, *, method: str, route: str, status: int) -> float:
    """The request count of one (method, route, status) series, 0 when absent."""
    pattern = re.compile(r'^beatdebate_request_duration_seconds_count\{(?P<labels>.*)\} '
                         r'(?P<value>\S+)$', re.MULTILINE)
    for match in pattern.finditer(text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if labels == {"method": method, "route": route, "status": str(status)}:
            return float(match["value"])
    return 0.0


async def test_requests_are_counted_by_route_and_status(serve_app: ServeApp) -> None:
    async with serve_app() as client:
        session_id = (await ask(client, "Songs by Mk.gee"))["session_id"]
        await ask(client, "More tracks", session_id)
        big = b'{"query": "x", "pad": "' + b"p" * 17_000 + b'"}'
        assert (await client.post("/recommendations", content=big,
                                  headers={"content-type": "application/json"})).status_code == 413
        assert (await client.post("/recommendations", json={"query": "x"},
                                  headers={"X-Request-ID": "bad id"})).status_code == 422
        assert (await client.post("/recommendations", json={"query": ""})).status_code == 422
        assert (await client.get(f"/sessions/{'A' * 43}")).status_code == 404
        assert (await client.get(f"/sessions/{session_id}")).status_code == 200
        assert (await client.get("/no/such/path")).status_code == 404
        text = (await client.get("/metrics")).text
    assert _count(text, method="POST", route="/recommendations", status=200) == 2
    assert _count(text, method="POST", route="/recommendations", status=413) == 1
    assert _count(text, method="POST", route="/recommendations", status=422) == 2
    assert _count(text, method="GET", route="/sessions/{session_id}", status=404) == 1
    assert _count(text, method="GET", route="/sessions/{session_id}", status=200) == 1
    assert _count(text, method="GET", route="unmatched", status=404) == 1
    assert session_id not in text and "A" * 43 not in text
