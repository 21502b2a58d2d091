"""An embedded ``beatdebate serve``: a real server process for one run or one test.

``embedded_server()`` starts ``python -m beatdebate_server`` (the installed package's own
launcher, with the options of ``beatdebate serve``) on a free port, waits until
``GET /health`` answers, yields the base URL, and stops the process with SIGTERM (the
graceful shutdown a deployment sees), killing it if it does not stop in time. The
server's output goes to a temporary log file, not a pipe that could fill and stall it;
if the server dies while starting, ``EmbeddedServerError`` carries the tail of that log.

``embedded_process()`` does the same and yields a ``RunningServer`` (URL, process id, port,
log), and ``command_server()`` runs any server command the same way (``--server-cmd``, whose
``{port}`` and ``{redis}`` are filled in; it is up once it answers HTTP at all): the nemesis
signals the processes of a server the harness started (``loadtest.nemesis``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_LOG_TAIL_LINES = 40


class EmbeddedServerError(RuntimeError):
    """The embedded server did not come up; the message ends with its log's tail."""


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A server process the harness started: where it answers, and which process it is."""

    url: str            # http://127.0.0.1:PORT
    pid: int            # the process started (a supervisor, when it has worker processes)
    port: int
    log_path: Path


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
    with embedded_process(extra_args=extra_args, workers=workers, store=store, defect=defect, env=env,
                          startup_timeout=startup_timeout, log_path=log_path) as server:
        yield server.url


@contextmanager
def embedded_process(*, extra_args: Sequence[str] = (), workers: int = 1, store: str = "memory",
                     defect: str | None = None, env: Mapping[str, str] | None = None,
                     startup_timeout: float = 60.0,
                     log_path: Path | None = None) -> Iterator[RunningServer]:
    """``embedded_server``, yielding the ``RunningServer`` rather than its URL alone."""
    port = free_port()
    # --no-rate-limit: the harness is one client making many sessions on purpose; a later
    # --rate-limit in ``extra_args`` wins (the soak benchmark runs at the default limits).
    args = [sys.executable, "-m", "beatdebate_server", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--store", store, "--no-rate-limit"]
    if defect is not None:
        args += ["--defect", defect]
    args += list(extra_args)
    with _server_process(args, port=port, env=env, startup_timeout=startup_timeout, log_path=log_path,
                         name="beatdebate serve", ready=_healthy) as server:
        yield server


@contextmanager
def command_server(command: str, *, redis_url: str | None = None, env: Mapping[str, str] | None = None,
                   startup_timeout: float = 60.0, log_path: Path | None = None) -> Iterator[RunningServer]:
    """Run ``command`` (a shell-like string, not run by a shell) with ``{port}`` replaced by a
    free port and ``{redis}`` by ``redis_url``; up once ``GET /health`` gets any HTTP answer
    (a server that is not ours may have no such route). Raises ``EmbeddedServerError`` as
    ``embedded_server`` does."""
    port = free_port()
    values = {"port": str(port), "redis": redis_url or ""}
    try:
        args = [part.format_map(values) for part in shlex.split(command)]
    except (KeyError, ValueError) as exc:
        raise EmbeddedServerError(f"--server-cmd {command!r}: {exc} (placeholders: {{port}}, {{redis}})") from exc
    with _server_process(args, port=port, env=env, startup_timeout=startup_timeout, log_path=log_path,
                         name=args[0] if args else "the server command", ready=_answers) as server:
        yield server


@contextmanager
def _server_process(args: Sequence[str], *, port: int, env: Mapping[str, str] | None, startup_timeout: float,
                    log_path: Path | None, name: str, ready: _Probe) -> Iterator[RunningServer]:
    child_env = {**os.environ, **(env or {})}
    own_log = log_path is None
    if log_path is None:
        handle, path = tempfile.mkstemp(prefix="beatdebate-serve-", suffix=".log")
        os.close(handle)
        log_path = Path(path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=log_file,
                                       stderr=subprocess.STDOUT, env=child_env,
                                       start_new_session=True)
    except OSError as exc:
        raise EmbeddedServerError(f"cannot start {name}: {exc}") from exc
    try:
        _wait_until_ready(process, base_url, startup_timeout, log_path, name=name, ready=ready)
        yield RunningServer(url=base_url, pid=process.pid, port=port, log_path=log_path)
    finally:
        _stop(process)
        if own_log:
            log_path.unlink(missing_ok=True)


class _Probe(Protocol):
    def __call__(self, base_url: str) -> bool: ...


def _healthy(base_url: str) -> bool:
    """Our server is up: ``/health`` answers 200."""
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _answers(base_url: str) -> bool:
    """Any server is up once it answers HTTP at all, whatever the status."""
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, timeout: float,
                      log_path: Path, *, name: str, ready: _Probe) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise EmbeddedServerError(
                f"{name} exited with code {code} while starting; "
                f"last lines of its log:\n{log_tail(log_path)}")
        if ready(base_url):
            return
        if time.monotonic() > deadline:
            _stop(process)
            raise EmbeddedServerError(
                f"{name} did not answer {base_url}/health within {timeout:.0f} s; "
                f"last lines of its log:\n{log_tail(log_path)}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM (graceful: the lifespan closes the store), then SIGKILL after ``grace`` s."""
    if process.poll() is not None:
        return
    try:
        # A process the nemesis left stopped could not act on SIGTERM: continue the group first.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGCONT)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        # The whole process group: uvicorn's worker processes too.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)
