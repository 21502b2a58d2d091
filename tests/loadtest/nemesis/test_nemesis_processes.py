"""Finding a server's workers and stopping one: on a real process of one worker, and on a
supervisor with two workers (``uvicorn --workers 2`` is how ``beatdebate serve`` runs them)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from loadtest.embedded import RunningServer, command_server
from loadtest.nemesis import processes


@contextmanager
def http_server(command: str) -> Iterator[RunningServer]:
    with command_server(command, startup_timeout=30) as server:
        yield server


def wait_for(pid: int, status: str) -> None:
    deadline = time.monotonic() + 5
    while psutil.Process(pid).status() != status:
        assert time.monotonic() < deadline, f"pid {pid} never became {status}"
        time.sleep(0.01)


def test_a_server_of_one_process_is_its_own_worker_and_can_be_paused() -> None:
    with http_server(f"{sys.executable} -m http.server --bind 127.0.0.1 {{port}}") as server:
        found = processes.find_workers(server.pid, server.port)
        assert found == processes.ServerProcesses(workers=(server.pid,), supervisors={})
        processes.pause(server.pid, None)
        wait_for(server.pid, psutil.STATUS_STOPPED)
        processes.resume(server.pid, None)
        assert psutil.Process(server.pid).status() != psutil.STATUS_STOPPED


@pytest.mark.slow
def test_uvicorn_workers_are_found_under_their_supervisor_which_is_paused_alongside(tmp_path: Path) -> None:
    # A bare ASGI app under ``uvicorn --workers 2`` (``beatdebate serve`` would need Redis for two).
    (tmp_path / "probe.py").write_text(
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n        return\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'ok'})\n")
    command = (f"{sys.executable} -m uvicorn probe:app --workers 2 --host 127.0.0.1 --port {{port}} "
               f"--app-dir {tmp_path}")
    with http_server(command) as server:
        found = processes.find_workers(server.pid, server.port)
        assert len(found.workers) == 2 and server.pid not in found.workers
        assert set(found.supervisors.values()) == {server.pid}
        worker = found.workers[0]
        processes.pause(worker, found.supervisors[worker])
        wait_for(worker, psutil.STATUS_STOPPED)
        wait_for(server.pid, psutil.STATUS_STOPPED)
        processes.resume(worker, found.supervisors[worker])
        assert psutil.Process(worker).status() != psutil.STATUS_STOPPED
        assert psutil.Process(server.pid).status() != psutil.STATUS_STOPPED
