"""The connection layer under the app: uvicorn's httptools protocol with time and size
limits on what a client sends (issue 16, finding 1).

uvicorn cuts off an idle keep-alive connection (``timeout_keep_alive``, 5 s), but not a
connection that never finishes a request: one byte, a head that never ends, a body shorter
than its ``Content-Length`` kept a connection (and its memory) for as long as the client
liked, and httptools put no bound on a head's size (a 64 MiB header was read whole; h11's
``h11_max_incomplete_event_size`` does not apply to it). ``GuardedProtocol`` adds:

- *head deadline*: a request's head (request line and headers) must arrive whole within
  ``header_timeout`` seconds of the connection opening, or of the first byte of the next
  request on a kept-alive connection. Past it: ``408`` (or, for a connection that sent
  nothing at all, just the close) and the connection is closed.
- *body deadline*: its body must arrive whole within ``body_timeout`` seconds of the head.
  Past it: ``408`` if no answer was started, and the connection is closed; the app sees
  ``http.disconnect`` and acts on none of the body (``middleware.ClientGone``).
- *head size*: a head over ``max_header_bytes`` is answered ``431`` and the connection
  closed, as soon as the bytes received say so: at most one read (64 KiB) past the cap is
  ever held.

Timers are armed only when a request is still incomplete after the bytes at hand were
parsed, so a request that arrives in one piece (nearly all of them) costs no timer. The
cap on concurrent connections is uvicorn's own ``limit_concurrency`` (``503``).

With one worker, ``serve`` runs ``guarded_protocol(limits)``. uvicorn's worker processes
(``--workers`` > 1) import a protocol class by name, so ``WorkerProtocol`` reads its
limits from the ``BEATDEBATE_*`` variables the launcher set for them.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ..settings import Settings

WORKER_PROTOCOL = f"{__name__}:WorkerProtocol"

# Where a connection is in its current request.
_IDLE, _HEAD, _BODY = 0, 1, 2


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_header_bytes: int = 16_384


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(header_timeout=settings.header_timeout,
                            body_timeout=settings.body_timeout,
                            max_header_bytes=settings.max_header_bytes)


class _HeadTooLarge(Exception):
    """Raised from a parser callback; httptools turns it into a parser error."""


class GuardedProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with deadlines for a request's head and body and a cap on
    its head's size (see the module's docstring)."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self._current_limits()
        self._phase = _IDLE
        self._head_bytes = 0  # bytes received while no head was complete
        self._measure = False  # the head may be over the cap: measure it when complete
        self._refusing = False
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def _current_limits(cls) -> ConnectionLimits:
        return cls.limits

    # -- the connection ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Nothing arrives at all: the head's deadline runs from the connection.
        self._arm(self._limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusing:
            return
        limits = self._limits
        if self._phase != _BODY:
            self._head_bytes += len(data)
            if self._head_bytes > limits.max_header_bytes:
                self._measure = True  # whether the head's own bytes pass: when it is whole
        super().data_received(data)
        if self._refusing or self.transport.is_closing():
            return
        if self._phase == _HEAD or (self._phase == _IDLE and self._head_bytes):
            if self._head_bytes > limits.max_header_bytes:
                self._refuse(431, b"Request header fields too large")  # and still no end
            elif self._timer is None:
                self._arm(limits.header_timeout)
        elif self._phase == _BODY and self._timer is None:
            self._arm(limits.body_timeout)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol has its own timeouts from here
        super().handle_websocket_upgrade()

    def send_400_response(self, msg: str) -> None:
        if self._refusing:  # the parser error we caused in ``on_headers_complete``
            self._refusing = False
            self._refuse(431, b"Request header fields too large")
            return
        super().send_400_response(msg)

    # -- parser callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = _HEAD

    def on_headers_complete(self) -> None:
        if self._measure:
            self._measure = False
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > self._limits.max_header_bytes:
                self._refusing = True
                raise _HeadTooLarge
        self._head_bytes = 0
        self._phase = _BODY
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._phase = _IDLE
        self._disarm()

    # -- timers and refusals ---------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answering = cycle is not None and cycle.response_started and not cycle.response_complete
        if self._phase == _BODY and cycle is not None and not cycle.response_complete:
            # The app may be waiting for the body: it hears that the client is gone.
            cycle.disconnected = True
            cycle.message_event.set()
        if answering or (self._phase == _IDLE and not self._head_bytes):
            self.transport.close()  # mid-answer, or a connection that never said a word
        elif self._phase == _BODY and cycle is not None and cycle.response_complete:
            self.transport.close()  # answered already (a body nobody reads)
        else:
            self._refuse(408, b"Request timeout")

    def _refuse(self, status: int, reason: bytes) -> None:
        """Answer ``status`` with a one-line body, and close: what arrives next is unread."""
        self._refusing = True
        self._disarm()
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: " + str(len(reason)).encode("ascii") + b"\r\n",
                        b"connection: close\r\n", b"\r\n", reason])
        self.transport.write(b"".join(content))
        self.transport.close()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedProtocol]:
    """The protocol class for one server process with these limits."""
    return type("GuardedProtocol", (GuardedProtocol,), {"limits": limits})


@functools.cache
def _limits_from_environment() -> ConnectionLimits:
    return connection_limits(Settings())


class WorkerProtocol(GuardedProtocol):
    """``GuardedProtocol`` for uvicorn's worker processes, which import it by name
    (``WORKER_PROTOCOL``): its limits are the worker's ``BEATDEBATE_*`` settings."""

    @classmethod
    def _current_limits(cls) -> ConnectionLimits:
        return _limits_from_environment()


__all__ = ["WORKER_PROTOCOL", "ConnectionLimits", "GuardedProtocol", "WorkerProtocol",
           "connection_limits", "guarded_protocol"]
