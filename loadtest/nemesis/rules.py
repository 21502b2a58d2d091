"""What a run must be for the faults it asks for: refused before any load, naming the options.

``check_nemesis`` is ``RunConfig``'s check of ``--nemesis`` and ``--server-cmd``; every refusal
is a ``UsageError`` (exit 2) that says what to do instead.
"""

from __future__ import annotations

from loadtest.errors import UsageError
from loadtest.nemesis.catalog import CLIENT_FAULTS, SERVER_FAULTS
from loadtest.nemesis.redis_server import redis_server_binary
from loadtest.nemesis.schedule import minimum_duration


def check_nemesis(names: tuple[str, ...], *, own_target: bool, server_cmd: str | None, store: str,
                  workers: int, defect: str | None, default_workers: int, http_client: bool,
                  duration: float | None) -> None:
    """Refuse what cannot run. ``own_target``: a ``--target`` URL or an in-process app;
    ``http_client``: the users' requests go through the harness's HTTP transports (not a
    Gradio client or the chat page), where the client faults act."""
    if server_cmd is not None:
        _check_command(server_cmd, own_target=own_target, defect=defect,
                       workers_given=workers != default_workers)
    if not names:
        return
    server_side = [name for name in names if name in SERVER_FAULTS]
    if server_side and own_target:
        raise UsageError(f"--nemesis {server_side[0]} acts on a server the harness starts (the embedded one, "
                         "or --server-cmd), not on --target")
    client_side = [name for name in names if name in CLIENT_FAULTS]
    if client_side and not http_client:
        raise UsageError(f"--nemesis {client_side[0]} is done by the harness's HTTP client, which a run through "
                         "the chat page or a Gradio profile does not use")
    if duration is None:
        raise UsageError("--nemesis needs a run of a set length (--duration), not --iterations alone: "
                         "its faults are placed in time")
    needed = minimum_duration(names)
    if duration < needed:
        raise UsageError(f"--nemesis {','.join(names)} needs at least {needed:g} s of load (--duration) for a "
                         f"window of each fault; the run has {duration:g} s")
    if "kill-worker" in names and server_cmd is None and workers < 2:
        raise UsageError("--nemesis kill-worker kills one worker while the others serve, and uvicorn's supervisor "
                         "starts another: use --server-workers 2 or more (and a redis:// --store)")
    redis_side = [name for name in names if name in ("restart-redis", "redis-latency")]
    if redis_side and server_cmd is not None and "{redis}" not in server_cmd:
        raise UsageError(f"--nemesis {redis_side[0]} acts on the server's Redis: put {{redis}} where "
                         "--server-cmd takes its Redis URL")
    if "restart-redis" in names:
        if store != "memory":
            raise UsageError("--nemesis restart-redis restarts a redis-server the harness starts itself, never "
                             "yours: leave --store out")
        if redis_server_binary() is None:
            raise UsageError("--nemesis restart-redis needs redis-server installed (apt-get install redis-server)")
    if "redis-latency" in names:
        if store == "memory" and redis_server_binary() is None:
            raise UsageError("--nemesis redis-latency without a --store needs redis-server installed, for the "
                             "harness's own Redis (or give --store redis://…)")
        if store != "memory" and not store.startswith("redis://"):
            raise UsageError(f"--nemesis redis-latency relays plain redis:// connections, not {store!r}")


def _check_command(command: str, *, own_target: bool, defect: str | None, workers_given: bool) -> None:
    if own_target:
        raise UsageError("--server-cmd starts the server for the run; --target names one already running: "
                         "give one or the other")
    if "{port}" not in command:
        raise UsageError("--server-cmd must say where the server listens: put {port} in it "
                         "(e.g. 'beatdebate serve --port {port}')")
    if defect is not None or workers_given:
        raise UsageError("--defect and --server-workers configure the embedded server; with --server-cmd, "
                         "put them in the command")


__all__ = ["check_nemesis"]
