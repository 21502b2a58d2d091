"""Against a real ``beatdebate serve`` process, started by ``loadtest.embedded``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_fakes import write_catalog_jsonl

from loadtest.embedded import EmbeddedServerError, embedded_server


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog_jsonl(tmp_path_factory.mktemp("catalog") / "catalog.jsonl")


@pytest.fixture(scope="module")
def server(catalog_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, Path]]:
    log_path = tmp_path_factory.mktemp("logs") / "serve.log"
    # Per-request lines are written at debug (session events at the default info).
    with embedded_server(extra_args=["--catalog", str(catalog_file), "--log-level", "debug"],
                         log_path=log_path) as base_url:
        yield base_url, log_path


def _ask(client: httpx.Client, query: str, session_id: str | None = None,
         request_id: str | None = None) -> dict[str, object]:
    headers = {"X-Request-ID": request_id} if request_id else {}
    body: dict[str, object] = {"query": query}
    if session_id:
        body["session_id"] = session_id
    response = client.post("/recommendations", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_follow_up_isolation_over_http(server: tuple[str, Path]) -> None:
    base_url, _ = server
    with httpx.Client(base_url=base_url, timeout=10) as client:
        tab1 = _ask(client, "Songs by Mk.gee", request_id="e-tab1-1")
        tab2 = _ask(client, "Electronic music", request_id="e-tab2-1")
        more1 = _ask(client, "More tracks", str(tab1["session_id"]))
        more2 = _ask(client, "More tracks", str(tab2["session_id"]))
        health = client.get("/health").json()
    assert {t["artist"] for t in more1["recommendations"]} == {"Mk.gee"}  # type: ignore[attr-defined]
    assert all("electronic" in t["tags"] for t in more2["recommendations"])  # type: ignore[attr-defined]
    assert more1["context"]["anchor"]["request_id"] == "e-tab1-1"  # type: ignore[index]
    assert more2["context"]["anchor"]["request_id"] == "e-tab2-1"  # type: ignore[index]
    assert health["status"] == "ok" and health["store"] == "memory"
    assert health["sessions"] >= 2


def test_the_log_is_json_with_hashed_sessions_only(server: tuple[str, Path]) -> None:
    base_url, log_path = server
    with httpx.Client(base_url=base_url, timeout=10) as client:
        session_id = str(_ask(client, "Songs by The Beatles", request_id="e-log-1")["session_id"])
        assert client.get(f"/sessions/{session_id}").status_code == 200
    # The request line is written just after the response is sent: wait for it to land.
    for _ in range(100):
        text = log_path.read_text()
        entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        if any(e.get("route") == "/sessions/{session_id}" for e in entries):
            break
        time.sleep(0.05)
    assert any(e.get("request_id") == "e-log-1" and e.get("route") == "/recommendations"
               for e in entries)
    assert any(e.get("route") == "/sessions/{session_id}" for e in entries)
    assert session_id not in text  # neither in our lines nor in an access log


def test_a_defect_server_shares_one_session(catalog_file: Path) -> None:
    with embedded_server(defect="shared-session",
                         extra_args=["--catalog", str(catalog_file)]) as base_url, \
            httpx.Client(base_url=base_url, timeout=10) as client:
        first = _ask(client, "Songs by Mk.gee")
        second = _ask(client, "Electronic music")
    assert first["session_id"] == second["session_id"]


def test_sigterm_shuts_down_gracefully(catalog_file: Path, tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    with embedded_server(extra_args=["--catalog", str(catalog_file), "--log-format", "text"],
                         log_path=log_path) as base_url:
        assert httpx.get(f"{base_url}/health").status_code == 200
    assert "session store closed" in log_path.read_text()


def test_a_server_that_cannot_start_raises_with_its_log_tail() -> None:
    with pytest.raises(EmbeddedServerError) as caught, embedded_server(workers=2):
        pass  # pragma: no cover - never reached
    message = str(caught.value)
    assert "exited with code 2" in message
    assert "each worker holds its own memory" in message


def test_the_embedded_server_never_throttles_the_harness(catalog_file: Path) -> None:
    # Even when the environment asks for the tightest limits: the harness is one client
    # making many sessions on purpose (simulate, gate and locust start this server).
    tight = {"BEATDEBATE_SESSION_RATE": "0.001", "BEATDEBATE_SESSION_BURST": "1",
             "BEATDEBATE_TURN_RATE": "0.001", "BEATDEBATE_TURN_BURST": "1"}
    with embedded_server(extra_args=["--catalog", str(catalog_file)], env=tight) as base_url, \
            httpx.Client(base_url=base_url, timeout=10) as client:
        created = [client.post("/sessions").status_code for _ in range(5)]
        turns = [client.post("/recommendations", json={"query": "Electronic music"}).status_code
                 for _ in range(5)]
    assert created == [201] * 5 and turns == [200] * 5
