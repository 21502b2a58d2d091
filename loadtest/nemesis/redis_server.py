"""A ``redis-server`` the harness starts for a run, so that ``restart-redis`` never touches yours.

It listens on a free port of 127.0.0.1 and writes every command to an append-only file in a
temporary directory before answering (``appendfsync always``), so that a crash and restart
(``crash`` then ``start``) keeps every acknowledged write: what a run then finds is the
server's doing, not a store that forgot. Blocking calls; the runner calls them in a thread.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from loadtest.embedded import free_port

_START_TIMEOUT = 10.0


class HarnessRedisError(RuntimeError):
    """The harness's redis-server is missing or did not start."""


def redis_server_binary() -> str | None:
    """The ``redis-server`` on the PATH, or None."""
    return shutil.which("redis-server")


class HarnessRedis:
    """One private ``redis-server`` (module doc); ``url`` is ``redis://127.0.0.1:PORT/0``."""

    def __init__(self) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise HarnessRedisError("redis-server is not installed (it is needed for the harness's own Redis)")
        self._binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = Path(tempfile.mkdtemp(prefix="beatdebate-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start it (again: on the same port, from its append-only file) and wait for PING."""
        self._process = subprocess.Popen(
            [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self._dir),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--loglevel", "warning"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._pong():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.crash()
                raise HarnessRedisError(f"redis-server on port {self.port} did not start")
            time.sleep(0.02)

    def crash(self) -> None:
        """Kill it at once (SIGKILL), as a crash would."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def close(self) -> None:
        self.crash()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


__all__ = ["HarnessRedis", "HarnessRedisError", "redis_server_binary"]
