"""The faults a nemesis can bring, by name, and the rules on asking for them.

Terms:
- *side*: where a fault acts. ``client`` faults (``abort``, ``timeout``) act in the harness's
  own HTTP clients, so they work on any target. ``server`` faults (``pause-worker``,
  ``kill-worker``) signal the processes of a server the harness started (the embedded one, or
  ``--server-cmd``). ``redis`` faults act between that server and its Redis:
  ``redis-latency`` through a proxy the harness puts in between (in front of any Redis),
  ``restart-redis`` on a ``redis-server`` the harness started itself, never on yours.
- *lock lease*: how long the Redis store's turn lock lasts (5 s, never renewed);
  ``pause-worker`` stops a worker a little longer than that.

Importing this module is cheap (the command line's ``--help`` reads it).
``docs/nemesis.md`` says what each fault can reveal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from loadtest.errors import UsageError

FaultSide = Literal["client", "server", "redis"]


@dataclass(frozen=True, slots=True)
class FaultInfo:
    name: str
    side: FaultSide
    description: str     # one line: what the harness does
    reveals: str         # one line: what it can reveal


FAULTS: Mapping[str, FaultInfo] = {info.name: info for info in (
    FaultInfo("abort", "client", "a share of requests is cut off after it was sent: its op is unknown",
              "a server that mixes up a cancelled request's answer or state with another's "
              "(the March 2023 chat-history leak)"),
    FaultInfo("timeout", "client", "a share of requests gets a client timeout far under the server's latency",
              "turns half-done when their client left: recorded or not, never someone else's"),
    FaultInfo("pause-worker", "server", "one worker is stopped (SIGSTOP) a little longer than the store's "
              "5 s lock lease, then continued",
              "a lease that outlives its holder: a stale turn recorded beside the next one (duplicate-turn)"),
    FaultInfo("kill-worker", "server", "one worker is killed (SIGKILL); its supervisor starts another",
              "turns lost or half-written when a process dies; locks it held must not stall a session"),
    FaultInfo("restart-redis", "redis", "the harness's own redis-server is killed and restarted on its "
              "append-only file",
              "sessions lost or turns doubled across a store restart; 503s, then recovery"),
    FaultInfo("redis-latency", "redis", "a proxy between the server and Redis delays every reply and drops "
              "the open connections",
              "resent commands written twice, late writes behind the client's back, pools that never recover"),
)}

# For a server the harness starts (the embedded one, or --server-cmd).
SERVER_FAULTS = frozenset(name for name, info in FAULTS.items() if info.side != "client")
CLIENT_FAULTS = frozenset(name for name, info in FAULTS.items() if info.side == "client")


def parse_nemesis(given: str | Iterable[str] | None) -> tuple[str, ...]:
    """``--nemesis``: names separated by commas (the option may be repeated), in the order
    given, each once. Raises ``UsageError`` naming an unknown one."""
    if given is None:
        return ()
    texts = [given] if isinstance(given, str) else list(given)
    names = [part.strip() for text in texts for part in text.split(",") if part.strip()]
    for name in names:
        if name not in FAULTS:
            raise UsageError(f"--nemesis: no fault {name!r} (known: {', '.join(FAULTS)})")
    return tuple(dict.fromkeys(names))


def nemesis_help() -> str:
    """The faults for a ``--help`` text (Rich markup): ``name`` (what it does); …"""
    return "; ".join(f"[bold]{info.name}[/] ({info.description})" for info in FAULTS.values())


__all__ = ["CLIENT_FAULTS", "FAULTS", "SERVER_FAULTS", "FaultInfo", "FaultSide", "nemesis_help",
           "parse_nemesis"]
