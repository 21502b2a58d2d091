"""The processes of a server the harness started, and the signals the nemesis sends them.

Terms:
- *worker*: a process of the server that serves requests. The harness finds them in the
  tree of the process it started, among those listening on the server's port: with
  ``uvicorn --workers N`` (and servers like it) the supervisor listens and so do its N
  children, the workers; a server of one process is its own only worker.
- *supervisor*: a worker's parent inside the server (uvicorn's), which pings its workers and
  replaces one that stops answering within 5 s. A pause longer than that would become a
  kill, so ``pause`` stops the supervisor too, and ``resume`` lets the worker answer its
  pending ping before continuing the supervisor: the fault is a worker stalled in a way its
  supervisor does not see (a long collection, a blocked event loop, a host stalling it).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import psutil

# The supervisor continues this long after its worker, so that the worker's answer to the
# ping the supervisor sent before the pause is there when it looks.
_PING_GRACE = 0.2


@dataclass(frozen=True, slots=True)
class ServerProcesses:
    workers: tuple[int, ...]                 # pids, in ascending order
    supervisors: dict[int, int]              # worker pid -> its supervisor's pid (when it has one)


def find_workers(root_pid: int, port: int) -> ServerProcesses:
    """The workers of the server started as ``root_pid`` that listens on ``port`` (module doc).
    Raises ``psutil.NoSuchProcess`` when that process is gone."""
    root = psutil.Process(root_pid)
    tree = [root, *root.children(recursive=True)]
    listening = {process.pid: process for process in tree if _listens(process, port)}
    children = {pid: process for pid, process in listening.items() if _parent(process) in listening}
    if children:
        return ServerProcesses(workers=tuple(sorted(children)),
                               supervisors={pid: _parent(process) for pid, process in children.items()})
    if listening:
        return ServerProcesses(workers=tuple(sorted(listening)), supervisors={})
    return ServerProcesses(workers=(root_pid,), supervisors={})


def _listens(process: psutil.Process, port: int) -> bool:
    try:
        return any(conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port
                   for conn in process.net_connections(kind="tcp"))
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _parent(process: psutil.Process) -> int:
    try:
        return int(process.ppid())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return 0


def pause(worker: int, supervisor: int | None) -> None:
    """SIGSTOP the supervisor (first: it must not see the worker stop), then the worker."""
    if supervisor is not None:
        _signal(supervisor, signal.SIGSTOP)
    _signal(worker, signal.SIGSTOP)


def resume(worker: int, supervisor: int | None) -> None:
    """SIGCONT the worker, then (a moment later, module doc) its supervisor. Blocks for that moment."""
    _signal(worker, signal.SIGCONT)
    if supervisor is not None:
        time.sleep(_PING_GRACE)
        _signal(supervisor, signal.SIGCONT)


def kill(worker: int) -> None:
    _signal(worker, signal.SIGKILL)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass   # it is gone already: nothing to stop, continue or kill


__all__ = ["ServerProcesses", "find_workers", "kill", "pause", "resume"]
