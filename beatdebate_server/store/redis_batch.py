"""Script calls made at about the same moment go to Redis together, in one pipelined write.

Why (issue 13, ``benchmarks/bench_redis_store.py --client-paths``): most of a Redis turn's
CPU in the worker is redis-py's per-command path (taking a pooled connection, packing,
writing, waking on the reply), about 60-75 us a command whatever the pool settings; one
connection shared by every caller is no cheaper (redis-py serialises them behind a lock).
A pipeline pays that path once for all its commands: about 49 us a command in pipelines
of 2, 33 in pipelines of 4. Under load, many turns reach their store call in the same turn
of the event loop, so ``ScriptBatcher`` gathers the calls made until the loop next runs its
callbacks and sends them as one pipeline (no ``MULTI``: each script is atomic on its own,
and none waits for another). While a pipeline is on the wire, the calls made
meanwhile wait for it and go next, together, so the busier the worker, the larger the
pipelines (and the fewer connections: one, mostly); but for ``HOLD`` at most, so that a
slow Redis does not queue them here. Alone, a call waits one loop iteration, nothing more.

Semantics are those of one command each:
- each caller gets its own reply or its own error, in order, on one connection; a
  pipeline that fails as a whole (timeout, connection lost, pool exhausted) fails every
  caller in it with that error, which the store maps as before (``RedisStore._call``: a
  closed connection is tried once more, a timeout never);
- the pipeline runs in a task of its own, so a caller that is cancelled (its client left)
  cancels nothing on the wire: the connection reads every reply and is returned clean;
- ``NOSCRIPT`` (Redis restarted, scripts flushed) means that script did not run: the
  batcher loads it and sends those calls again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError


# How long calls wait for the pipeline on the wire before going on another connection: a
# pipeline takes well under a millisecond on a healthy Redis, so this is only ever reached
# when Redis is slow.
HOLD = 0.02


class ScriptBatcher:
    """Runs Lua scripts by SHA for one client, pipelining the calls made together."""

    def __init__(self, client: Redis, sources: dict[str, str]) -> None:
        self._client = client
        self._sources = sources
        self._shas = {name: _sha1(source) for name, source in sources.items()}
        self._pending: list[tuple[str, list[Any], list[Any], asyncio.Future[Any]]] = []
        self._senders: set[asyncio.Task[None]] = set()
        self._flush_at: asyncio.Handle | None = None  # the flush due, if one is
        self._in_flight = 0     # pipelines on the wire
        self._last_sent = 0.0   # when the latest went (the loop's clock)
        self.pipelines = 0  # pipelines sent (one round trip each), for tests and benchmarks
        self.calls = 0      # script calls sent in them

    async def run(self, name: str, keys: list[Any], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((name, keys, args, future))
        if self._flush_at is None:
            if self._in_flight == 0:
                self._flush_at = loop.call_soon(self._flush)
            else:
                # Wait for the pipeline on the wire, so that the calls made meanwhile go
                # together; but not past ``HOLD`` after it went: a slow Redis must not
                # queue calls here, they then go on another pooled connection as before
                # (and an exhausted pool still fails at once: issue 16).
                delay = max(0.0, self._last_sent + HOLD - loop.time())
                self._flush_at = loop.call_later(delay, self._flush)
        return await future

    async def close(self) -> None:
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        for *_, future in self._pending:
            future.cancel()
        self._pending = []
        for task in list(self._senders):
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)

    def _flush(self) -> None:
        self._flush_at = None
        batch, self._pending = self._pending, []
        batch = [call for call in batch if not call[3].done()]  # cancelled before sending
        if not batch:
            return
        loop = asyncio.get_running_loop()
        self._in_flight += 1
        self._last_sent = loop.time()
        task = loop.create_task(self._send(batch))
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    async def _send(self, batch: list[tuple[str, list[Any], list[Any], asyncio.Future[Any]]]) -> None:
        try:
            await self._settle(batch)
        finally:
            # What came while this pipeline was on the wire goes now, together.
            self._in_flight -= 1
            if self._pending:
                if self._flush_at is not None:
                    self._flush_at.cancel()
                self._flush_at = asyncio.get_running_loop().call_soon(self._flush)

    async def _settle(self, batch: list[tuple[str, list[Any], list[Any],
                                               asyncio.Future[Any]]]) -> None:
        try:
            replies = await self._execute(batch)
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:  # did not run: load the scripts, send those calls again
                names = {batch[i][0] for i in missing}
                async with self._client.pipeline(transaction=False) as pipe:
                    for name in names:
                        pipe.script_load(self._sources[name])
                    await pipe.execute()
                again = await self._execute([batch[i] for i in missing])
                for i, reply in zip(missing, again, strict=True):
                    replies[i] = reply
        except Exception as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # the store is closing (cancelled)
            for *_, future in batch:
                future.cancel()
            raise
        for (*_, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller was cancelled; the reply is read and dropped
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _execute(self, batch: list[tuple[str, list[Any], list[Any],
                                                asyncio.Future[Any]]]) -> list[Any]:
        self.pipelines += 1
        self.calls += len(batch)
        # On a pooled connection of our own rather than through redis-py's ``Pipeline``,
        # whose wrapping (retry object, response callbacks, reset) cost about a tenth of
        # the CPU per call (``--client-paths``: 23.7 against 21.0 us); the connection still
        # times out, checks its health and is dropped on any error, as in a ``Pipeline``.
        pool = self._client.connection_pool
        connection = await pool.get_connection()
        try:
            await connection.send_packed_command(connection.pack_commands(
                [("EVALSHA", self._shas[name], len(keys), *keys, *args)
                 for name, keys, args, _ in batch]))
            replies: list[Any] = []
            for _ in batch:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as exc:  # that call's own error: the rest still read
                    replies.append(exc)
            return replies
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        finally:
            await pool.release(connection)


def _sha1(source: str) -> str:
    import hashlib

    return hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)
