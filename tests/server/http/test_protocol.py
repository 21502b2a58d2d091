"""Slow, silent, oversized and abandoned requests over real sockets (issue 16, finding 1).

A real ``python -m beatdebate_server`` (``loadtest.embedded``) with short limits, set as
``BEATDEBATE_*`` variables; raw sockets play the attacker. A socket timeout only stops a
test that would otherwise hang: what is asserted is that the server cut the client off (or
answered), never how fast.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from server_fakes import write_catalog_jsonl

from loadtest.embedded import embedded_server

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MAX_HEADER_BYTES = 8192
MAX_CONNECTIONS = 8
GIVE_UP = 20.0  # seconds a socket waits before the test calls the server's silence a failure
LIMITS = {"BEATDEBATE_HEADER_TIMEOUT": str(HEAD_TIMEOUT),
          "BEATDEBATE_BODY_TIMEOUT": str(BODY_TIMEOUT),
          "BEATDEBATE_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
          "BEATDEBATE_MAX_CONNECTIONS": str(MAX_CONNECTIONS)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    catalog = write_catalog_jsonl(tmp_path_factory.mktemp("catalog") / "catalog.jsonl")
    with embedded_server(extra_args=["--catalog", str(catalog)], env=LIMITS) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


def _connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=GIVE_UP)
    sock.settimeout(GIVE_UP)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (raises on GIVE_UP)."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def _status(response: bytes) -> int | None:
    if not response.startswith(b"HTTP/1.1 "):
        return None
    return int(response.split(b" ", 2)[1])


def _sessions(server: tuple[str, int]) -> int:
    health = httpx.get(f"http://{server[0]}:{server[1]}/health", timeout=GIVE_UP)
    assert health.status_code == 200
    return int(health.json()["sessions"])


def test_a_silent_connection_is_cut_off(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        answer = _read_until_closed(sock)
    assert _status(answer) in (None, 408)


def test_one_byte_then_silence_is_cut_off_with_408(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        sock.sendall(b"P")
        answer = _read_until_closed(sock)
    assert _status(answer) == 408


def test_a_head_that_never_ends_is_cut_off(server: tuple[str, int]) -> None:
    # A byte every 0.1 s: each one keeps the connection busy, none finishes the head.
    with _connect(server) as sock:
        sock.sendall(b"POST /recommendations HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sock.settimeout(0.1)
        give_up = time.monotonic() + GIVE_UP
        answer = b""
        while time.monotonic() < give_up:
            try:
                sock.sendall(b"a")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            answer += chunk
            if not chunk:
                break
        else:
            pytest.fail(f"the server kept a never-ending head open for {GIVE_UP} s")
    assert _status(answer) in (None, 408)


def test_a_body_that_never_arrives_whole_is_cut_off_and_takes_no_turn(
        server: tuple[str, int]) -> None:
    before = _sessions(server)
    with _connect(server) as sock:
        sock.sendall(b"POST /recommendations HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        answer = _read_until_closed(sock)
    assert _status(answer) in (None, 408)
    assert _sessions(server) == before


def test_a_body_cut_short_by_a_closed_socket_takes_no_turn(server: tuple[str, int]) -> None:
    # The body that arrived is a whole JSON object, short of its declared length.
    before = _sessions(server)
    body = b'{"query": "Electronic music"}'
    with _connect(server) as sock:
        sock.sendall(b"POST /recommendations HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        _read_until_closed(sock)
    assert _sessions(server) == before


@pytest.mark.parametrize("size", [MAX_HEADER_BYTES + 1, 1 << 20])
def test_a_head_over_the_cap_is_431(server: tuple[str, int], size: int) -> None:
    head = (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * size + b"\r\n\r\n")
    with _connect(server) as sock:
        # Refused before it was all sent: the answer is already on its way.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head)
        answer = _read_until_closed(sock)
    assert _status(answer) == 431


def test_a_head_just_under_the_cap_is_served(server: tuple[str, int]) -> None:
    line = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
    head = line + b"p" * (MAX_HEADER_BYTES - len(line) - 200) + b"\r\n\r\n"
    with _connect(server) as sock:
        sock.sendall(head)
        answer = _read_until_closed(sock)
    assert _status(answer) == 200


def test_beyond_the_connection_cap_requests_are_503(server: tuple[str, int]) -> None:
    idle = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        with _connect(server) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = _read_until_closed(sock)
    finally:
        for sock in idle:
            sock.close()
    assert _status(answer) == 503


def test_keep_alive_and_pipelined_requests_are_still_served(server: tuple[str, int]) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    with _connect(server) as sock:
        sock.sendall(request + request)  # pipelined
        time.sleep(HEAD_TIMEOUT / 2)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _read_until_closed(sock)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
