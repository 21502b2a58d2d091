"""An embedded ``beatdebate serve``: a real server process for one run or one test.

``embedded_server()`` starts ``python -m beatdebate_server`` (the installed package's own
launcher, with the options of ``beatdebate serve``) on a free port, waits until
``GET /health`` answers, yields the base URL, and stops the process with SIGTERM (the
graceful shutdown a deployment sees), killing it if it does not stop in time. The
server's output goes to a temporary log file, not a pipe that could fill and stall it;
if the server dies while starting, ``EmbeddedServerError`` carries the tail of that log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

_LOG_TAIL_LINES = 40


class EmbeddedServerError(RuntimeError):
    """The embedded server did not come up; the message ends with its log's tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(log unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def embedded_server(*, extra_args: Sequence[str] = (), workers: int = 1, store: str = "memory",
                    defect: str | None = None, env: Mapping[str, str] | None = None,
                    startup_timeout: float = 60.0,
                    log_path: Path | None = None) -> Iterator[str]:
    """Run ``beatdebate serve`` for the ``with`` block; yields ``http://127.0.0.1:PORT``.

    ``log_path`` keeps the server's log where the caller wants it (default: a temporary
    file, removed afterwards). Raises ``EmbeddedServerError`` if the server exits or does
    not answer ``/health`` within ``startup_timeout`` seconds.
    """
    port = free_port()
    args = [sys.executable, "-m", "beatdebate_server", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--store", store]
    if defect is not None:
        args += ["--defect", defect]
    args += list(extra_args)
    child_env = {**os.environ, **(env or {})}
    own_log = log_path is None
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="beatdebate-serve-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT, env=child_env,
                                   start_new_session=True)
    try:
        _wait_until_healthy(process, base_url, startup_timeout, log_path)
        yield base_url
    finally:
        _stop(process)
        if own_log:
            log_path.unlink(missing_ok=True)


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, timeout: float,
                        log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise EmbeddedServerError(
                f"beatdebate serve exited with code {code} while starting; "
                f"last lines of its log:\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=1.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            _stop(process)
            raise EmbeddedServerError(
                f"beatdebate serve did not answer {base_url}/health within {timeout:.0f} s; "
                f"last lines of its log:\n{log_tail(log_path)}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM (graceful: the lifespan closes the store), then SIGKILL after ``grace`` s."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        # The whole process group: uvicorn's worker processes too.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)
