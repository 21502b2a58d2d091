"""One exchange with a contract server, without the I/O: what a step sends, and the ``Op``
its answer becomes. ``loadtest.users`` (asyncio, ``Transport``) and the Locust scenarios
(gevent, ``FastHttpUser``) both send what these functions build and hand back what came
back, so that every client records exactly the same operations and the oracle judges them
the same way.

Terms (see ``loadtest.users`` and ``loadtest.history``):
- *request*: what to send (``Request``): action, method, path, JSON body, ``X-Request-ID``
  and the session id it carries.
- *answer*: HTTP status and parsed JSON body. No answer at all (timeout, broken connection,
  run stopped) makes an ``unknown`` op; a 2xx answer that does not parse is ``unknown``
  too (it may well have taken effect); any other status is ``fail``.
- *chat* (``Chat``): what one virtual user knows of its conversation: its name
  (``u3.c7``), the session id to carry (the one the last answer returned: the UI adopts
  it), and the ids it deleted (an *expired* id for ``session = "expired"``).

- *exchange* (``Exchange``): the seam ``VirtualUser`` talks through: builds each action's
  request, says which transport call sends it and reads the answer. ``ContractExchange``
  is the native path (these functions); target profiles (``loadtest.profiles``) add others.

Pure: no network, clock or random calls; made-up ids and times are parameters (an
exchange's ``send`` only names the transport call; the transport does the I/O).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from loadtest.history import Action, Anchor, Expect, Op, RecordedTurn, TrackSeen
from loadtest.scenario import QueryStep
from loadtest.transport import Reply, Transport


@dataclass(frozen=True, slots=True)
class Request:
    action: Action
    method: str
    path: str                         # with the session id filled in
    request_id: str                   # sent as X-Request-ID
    session_sent: str | None = None
    body: Mapping[str, Any] | None = None
    # Set by target profiles (``loadtest.profiles``); the contract's requests leave them unset.
    sent_query: str | None = None     # the query, when the body does not hold it as "query"
    extra_headers: Mapping[str, str] | None = None
    cookies: Mapping[str, str | None] | None = None   # set in the user's jar first (None: drop it)
    route_name: str | None = None     # the path template, for statistics

    @property
    def query(self) -> str | None:
        if self.sent_query is not None:
            return self.sent_query
        return None if self.body is None else self.body.get("query")

    @property
    def headers(self) -> dict[str, str]:
        headers = {"X-Request-ID": self.request_id}
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        if self.extra_headers:
            headers.update(self.extra_headers)
        return headers

    @property
    def route(self) -> str:
        """The path without its session id (``/sessions/{id}``): a name for statistics."""
        if self.route_name is not None:
            return self.route_name
        return "/sessions/{id}" if self.path.startswith("/sessions/") else self.path


def request_id(run_tag: str, user: int, number: int) -> str:
    """The ``X-Request-ID`` of a user's ``number``-th request: unique across the run."""
    return f"{run_tag}-u{user}-{number}"


def recommend_request(step: QueryStep, persona_fields: Mapping[str, str], *, rid: str,
                      session_id: str | None, max_recommendations: int = 10) -> Request:
    """``POST /recommendations`` for a query step: placeholders filled from the persona,
    no previews (the checker does not read them), no ``session_id`` when there is none."""
    body: dict[str, Any] = {
        "query": step.query.format_map(persona_fields),
        "max_recommendations": step.max_recommendations or max_recommendations,
        "include_previews": False,
    }
    if session_id is not None:
        body["session_id"] = session_id
    return Request("recommend", "POST", "/recommendations", rid, session_id, body)


def create_session_request(*, rid: str) -> Request:
    return Request("create_session", "POST", "/sessions", rid)


def read_history_request(session_id: str, *, rid: str) -> Request:
    return Request("read_history", "GET", f"/sessions/{session_id}", rid, session_id)


def delete_session_request(session_id: str, *, rid: str) -> Request:
    return Request("delete_session", "DELETE", f"/sessions/{session_id}", rid, session_id)


def op_base(request: Request, *, index: int, user: int, conversation: str, scenario: str,
            step: str, invoked_at: float, subject: Mapping[str, str],
            expect: Expect = Expect()) -> dict[str, Any]:
    """The fields of ``Op`` known before the answer: who sent what, and what it expects."""
    return dict(index=index, user=user, conversation=conversation, scenario=scenario, step=step,
                action=request.action, invoked_at=invoked_at, request_id=request.request_id,
                session_sent=request.session_sent, query=request.query, subject=subject,
                expect=expect)


def unanswered(base: Mapping[str, Any], *, error: str) -> Op:
    """No answer (``timeout: …``, ``connection: …``, ``cancelled: …``): it may have taken effect."""
    return Op(**base, status="unknown", completed_at=None, error=error)


def answered(base: Mapping[str, Any], *, status: int, body: Any, completed_at: float) -> Op:
    """The op for an HTTP answer: ``ok`` with what the answer said, ``fail`` for a non-2xx
    status, ``unknown`` for a 2xx body that is not the contract's shape."""
    return answered_with(PARSERS[base["action"]], base, status=status, body=body, completed_at=completed_at)


def answered_with(parse: Callable[[Any], dict[str, Any]], base: Mapping[str, Any], *, status: int, body: Any,
                  completed_at: float) -> Op:
    """``answered`` with another reader of 2xx bodies (a target profile's selectors)."""
    if not 200 <= status < 300:
        detail = body.get("detail") if isinstance(body, dict) else None
        return Op(**base, status="fail", completed_at=completed_at, http_status=status,
                  error=f"HTTP {status}" + (f": {str(detail)[:200]}" if detail else ""))
    try:
        fields = parse(body)
    except (BadAnswer, KeyError, TypeError, ValueError, AttributeError) as exc:
        # Answered 2xx, so it may well have taken effect: unknown, not fail.
        return Op(**base, status="unknown", completed_at=completed_at, http_status=status,
                  error=f"malformed answer: {type(exc).__name__}: {exc}"[:300])
    if base["action"] == "delete_session":
        fields["session"] = base["session_sent"]
    return Op(**base, status="ok", completed_at=completed_at, http_status=status, **fields)


class Chat:
    """One virtual user's conversations and the session id it carries (see module doc)."""

    def __init__(self, user: int) -> None:
        self.user = user
        self.count = 0
        self.name = ""
        self.session: str | None = None
        self.deleted: list[str] = []      # ids this user deleted: its "expired" ids
        self.canary: str | None = None    # the token this conversation planted (loadtest.canary)

    def new_conversation(self, session: str | None = None) -> None:
        """Start the next conversation (``u{user}.c{n}``), carrying ``session`` (none: the
        server will start one)."""
        self.count += 1
        self.name = f"u{self.user}.c{self.count}"
        self.session = session
        self.canary = None

    def adopt(self, op: Op) -> None:
        """Carry on as the UI does after an ``ok`` answer: with the session id it returned,
        or with none after a delete."""
        if op.status != "ok":
            return
        if op.action in ("recommend", "create_session"):
            self.session = op.session
        elif op.action == "delete_session" and op.session_sent is not None:
            self.deleted.append(op.session_sent)
            self.session = None


# ---- answers -> Op fields (raise on anything the contract does not allow) ---------------

class BadAnswer(ValueError):
    """A 2xx body that is not the contract's shape."""


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise BadAnswer(f"{what} is not a string")
    return value


def _entities(raw: Any) -> dict[str, tuple[str, ...]]:
    if not raw:
        return {}
    return {str(key): tuple(str(v) for v in (values if isinstance(values, list) else [values]))
            for key, values in dict(raw).items()}


def parse_recommendation(body: Any) -> dict[str, Any]:
    intent = body.get("intent") or {}
    anchor_raw = (body.get("context") or {}).get("anchor")
    anchor = None
    if anchor_raw is not None:
        anchor = Anchor(turn=int(anchor_raw["turn"]), request_id=str(anchor_raw["request_id"]),
                        query=anchor_raw.get("query"), kind=anchor_raw.get("kind"),
                        entities=_entities(anchor_raw.get("entities")))
    # Every answer's every track becomes a TrackSeen: the hottest loop of parsing, so
    # positional arguments and map(str, ...) rather than keywords and a generator.
    tracks = tuple([TrackSeen(_str(t["track_id"], "track_id"), _str(t["artist"], "artist"),
                              tuple(map(str, t.get("tags") or ())))
                    for t in body["recommendations"]])
    return dict(session=_str(body["session_id"], "session_id"), turn=body.get("turn"),
                session_created=body.get("session_created"), kind=intent.get("kind"),
                follow_up=intent.get("follow_up"), entities=_entities(intent.get("entities")),
                anchor=anchor, tracks=tracks, source=body.get("source"), notice=body.get("notice"))


def parse_history(body: Any) -> dict[str, Any]:
    recorded = tuple(RecordedTurn(turn=int(t["turn"]), request_id=str(t["request_id"]), query=t.get("query"),
                                  anchor_turn=t.get("anchor_turn"),
                                  track_ids=tuple(str(i) for i in t.get("track_ids") or ()))
                     for t in body["turns"])
    return dict(session=_str(body["session_id"], "session_id"), turn_count=int(body["turn_count"]),
                recorded=recorded)


def parse_created(body: Any) -> dict[str, Any]:
    return dict(session=_str(body["session_id"], "session_id"))


PARSERS: Mapping[str, Callable[[Any], dict[str, Any]]] = {
    "recommend": parse_recommendation,
    "read_history": parse_history,
    "create_session": parse_created,
    "delete_session": lambda body: {},
}

# ---- the seam a virtual user talks through ---------------------------------------------

class Exchange(Protocol):
    """How a virtual user talks to one kind of service: the requests of each action and the
    ``Op`` each answer becomes. ``ContractExchange`` is the contract's native path; target
    profiles (``loadtest.profiles``) give others. An action the service cannot do builds
    ``None``: the user skips that step, and the properties it would exercise go unexercised."""

    requires_session: bool   # a query needs a session id first: the user creates one

    def new_session_id(self) -> str | None:
        """The id a new conversation starts with: ``None`` when the server makes ids."""
        ...

    def recommend(self, step: QueryStep, fields: Mapping[str, str], *, rid: str, session_id: str | None,
                  max_recommendations: int) -> Request | None: ...

    def create_session(self, *, rid: str) -> Request | None: ...

    def read_history(self, session_id: str, *, rid: str) -> Request | None: ...

    def delete_session(self, session_id: str, *, rid: str) -> Request | None: ...

    def send(self, transport: Any, request: Request) -> Awaitable[Reply]:
        """The transport call for ``request``."""
        ...

    def answered(self, base: Mapping[str, Any], *, reply: Reply, completed_at: float) -> Op:
        """The op for a reply (``ok``, ``fail`` or ``unknown``, as ``answered`` says)."""
        ...


class ContractExchange:
    """The native path: the contract's four calls and parsers above, unchanged."""

    requires_session = False

    def new_session_id(self) -> str | None:
        return None

    def recommend(self, step: QueryStep, fields: Mapping[str, str], *, rid: str, session_id: str | None,
                  max_recommendations: int) -> Request:
        return recommend_request(step, fields, rid=rid, session_id=session_id,
                                 max_recommendations=max_recommendations)

    def create_session(self, *, rid: str) -> Request:
        return create_session_request(rid=rid)

    def read_history(self, session_id: str, *, rid: str) -> Request:
        return read_history_request(session_id, rid=rid)

    def delete_session(self, session_id: str, *, rid: str) -> Request:
        return delete_session_request(session_id, rid=rid)

    def send(self, transport: Transport, request: Request) -> Awaitable[Reply]:
        rid = request.request_id
        if request.action == "recommend":
            assert request.body is not None
            return transport.recommend(request.body, request_id=rid)
        if request.action == "create_session":
            return transport.create_session(request_id=rid)
        assert request.session_sent is not None
        if request.action == "read_history":
            return transport.read_session(request.session_sent, request_id=rid)
        return transport.delete_session(request.session_sent, request_id=rid)

    def answered(self, base: Mapping[str, Any], *, reply: Reply, completed_at: float) -> Op:
        return answered(base, status=reply.status, body=reply.body, completed_at=completed_at)


CONTRACT = ContractExchange()


__all__ = [
    "CONTRACT", "PARSERS", "BadAnswer", "Chat", "ContractExchange", "Exchange", "Request", "answered",
    "answered_with", "create_session_request",
    "delete_session_request", "op_base", "parse_created", "parse_history", "parse_recommendation",
    "read_history_request", "recommend_request", "request_id", "unanswered",
]
