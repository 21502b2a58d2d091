"""Per-client rate limits at the HTTP edge: who the client is, and the ``429``.

Terms:
- *client*: the connection's peer address (``scope["client"]``), or, with
  ``--client-header``, the **last** address in that header: the one the trusted reverse
  proxy in front appended (an address a client wrote itself comes before it). A request
  without the header is keyed by its peer. Only name a header that your proxy sets: any
  client can write one.
- *limits*: ``POST /sessions`` takes a new-session token; ``POST /recommendations`` a turn
  token, and a new-session token too when the turn starts a session (no id, or one the
  server does not hold), so a turn is no way around the limit on new sessions. The
  service asks for that one (``TurnService``'s ``admit_session``), since only it knows.
- A refused request is ``429`` with ``Retry-After`` (whole seconds, at least 1) and
  records nothing. ``--no-rate-limit`` turns all of it off (the harness's embedded server).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import Scope

from ..limits import RateLimited, TokenBuckets
from ..settings import Settings

UNKNOWN_CLIENT = "unknown"


class Throttle:
    """The app's rate limits, from its settings; ``enabled`` False makes every check free."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = settings.rate_limit
        self._header = (settings.client_header.lower().encode("latin-1")
                        if settings.client_header else None)
        self._sessions = TokenBuckets("sessions", rate=settings.session_rate,
                                      burst=settings.session_burst, clock=clock)
        self._turns = TokenBuckets("turns", rate=settings.turn_rate,
                                   burst=settings.turn_burst, clock=clock)

    def client(self, scope: Scope) -> str:
        """Who sent this request, for the buckets."""
        if self._header is not None:
            for name, value in scope["headers"]:
                if name == self._header:
                    last: bytes = value.rsplit(b",", 1)[-1].strip()
                    if last:
                        return last.decode("latin-1")
        peer = scope.get("client")
        return str(peer[0]) if peer else UNKNOWN_CLIENT

    def admit_turn(self, scope: Scope) -> str | None:
        """Take a turn token for this request's client (``RateLimited`` if none is left);
        the client, for ``admit_session`` should the turn start a session (None: no limits)."""
        if not self.enabled:
            return None
        client = self.client(scope)
        self._turns.take(client)
        return client

    def admit_session(self, client: str | None) -> None:
        """Take a new-session token for ``client`` (None: no limits), or ``RateLimited``."""
        if client is not None:
            self._sessions.take(client)

    def admit_new_session(self, scope: Scope) -> None:
        """``POST /sessions``: take a new-session token for this request's client."""
        if self.enabled:
            self._sessions.take(self.client(scope))


def rate_limited_response(exc: RateLimited) -> JSONResponse:
    """The ``429``: what was limited, and when to try again."""
    retry_after = max(1, math.ceil(exc.retry_after))
    return JSONResponse({"detail": f"rate limit: {exc}; retry after {retry_after} s"},
                        status_code=429, headers={"Retry-After": str(retry_after)})


__all__ = ["UNKNOWN_CLIENT", "Throttle", "rate_limited_response"]
