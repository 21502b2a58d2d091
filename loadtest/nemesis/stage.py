"""What the harness starts for a run's own server: the server, and around it what faults need.

Terms:
- *server spec* (``ServerSpec``): the embedded ``beatdebate serve`` (its workers, store, defect)
  or a ``--server-cmd``; whether the harness starts a ``redis-server`` of its own
  (``restart-redis`` restarts only that one; a ``{redis}`` in the command or a Redis fault
  with the default store asks for it too), and whether the ``redis-latency`` proxy sits
  between the server and its Redis.
- *stage* (``Stage``): those, running: what the nemesis's actors act on.

``staged_server(spec)`` starts Redis, then the proxy, then the server, and stops them in the
reverse order. Blocking starts and stops run in a thread, off the event loop (which relays
the proxy's traffic meanwhile).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field

from loadtest.embedded import RunningServer, command_server, embedded_process
from loadtest.nemesis.redis_proxy import RedisProxy
from loadtest.nemesis.redis_server import HarnessRedis


@dataclass(frozen=True, slots=True)
class ServerSpec:
    command: str | None = None               # --server-cmd; None: the embedded beatdebate serve
    store: str = "memory"                    # the embedded server's --store, and the command's {redis}
    workers: int = 1
    defect: str | None = None
    extra_args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    own_redis: bool = False                  # start a redis-server of the harness's own
    proxy: bool = False                      # relay the server's Redis through a RedisProxy


def server_spec(*, nemesis: tuple[str, ...], command: str | None, store: str, workers: int,
                defect: str | None, extra_args: tuple[str, ...] = (),
                env: Mapping[str, str] | None = None) -> ServerSpec:
    """The spec of a run's own server: a Redis of the harness's own when a fault needs one
    and no Redis was named (``--store``), or when the command asks for ``{redis}`` and none was."""
    wants_redis = "redis-latency" in nemesis or (command is not None and "{redis}" in command)
    own_redis = "restart-redis" in nemesis or (wants_redis and store == "memory")
    return ServerSpec(command=command, store=store, workers=workers, defect=defect, extra_args=extra_args,
                      env=dict(env or {}), own_redis=own_redis, proxy="redis-latency" in nemesis)


@dataclass(frozen=True, slots=True)
class Stage:
    server: RunningServer
    redis: HarnessRedis | None = None
    proxy: RedisProxy | None = None


@asynccontextmanager
async def staged_server(spec: ServerSpec) -> AsyncIterator[Stage]:
    """Start what ``spec`` says (module doc) for the ``async with`` block."""
    redis: HarnessRedis | None = None
    proxy: RedisProxy | None = None
    try:
        if spec.own_redis:
            redis = HarnessRedis()
            await asyncio.to_thread(redis.start)
        store = redis.url if redis is not None else spec.store
        if spec.proxy:
            proxy = RedisProxy(store)
            await proxy.start()
            store = proxy.url
        server: AbstractContextManager[RunningServer]
        if spec.command is not None:
            server = command_server(spec.command, redis_url=store if store != "memory" else None,
                                    env=spec.env)
        else:
            server = embedded_process(extra_args=spec.extra_args, workers=spec.workers, store=store,
                                      defect=spec.defect, env=spec.env or None)
        running = await asyncio.to_thread(server.__enter__)
        try:
            yield Stage(server=running, redis=redis, proxy=proxy)
        finally:
            await asyncio.to_thread(server.__exit__, None, None, None)
    finally:
        if proxy is not None:
            await proxy.close()
        if redis is not None:
            await asyncio.to_thread(redis.close)


__all__ = ["ServerSpec", "Stage", "server_spec", "staged_server"]
