"""A profile's exchange: each action's request built from the profile's templates, each answer
read by its selectors into the ``Op`` the checker judges.

Terms:
- *template* (``model``): a path, header or body value whose strings may hold ``{query}``,
  ``{session_id}``, ``{max_recommendations}`` and ``{request_id}``. A value that is exactly
  one placeholder keeps its type (``"{max_recommendations}"`` sends a number). A value or
  header that needs the session id when there is none is left out (or, with
  ``[session] absent = "null"``, a body value is sent as null).
- *carrying the id*: in a template (body field, header, path segment) and/or in a cookie
  (``[session] cookie``): the harness puts it in the user's own jar before each request, and
  drops it when a conversation has none, so a "new chat" is a request without it.
- *the session an answer names*: the profile's ``[answer] session_id`` selector, else its
  ``session_header``, else the cookie the answer set; failing those, the id carried (a
  client-minted id, or a cookie the server keeps).

``exchange_for(profile)`` gives the exchange ``VirtualUser`` talks through: the native
``ContractExchange`` for a ``contract`` profile, ``ProfileExchange`` for ``http``,
``GradioExchange`` for ``gradio``.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from loadtest.exchange import CONTRACT, BadAnswer, Exchange, Request, answered_with
from loadtest.history import Action, Op
from loadtest.profiles.answer import parsers
from loadtest.profiles.gradio import GradioExchange
from loadtest.profiles.model import CallSpec, Profile
from loadtest.scenario import QueryStep
from loadtest.transport import HttpTransport, Reply

Values = Mapping[str, Any]          # placeholder -> value (the session id may be None)
Build = Callable[[Values], Any]


def compile_template(value: Any) -> tuple[Build, bool]:
    """A builder for one template value, and whether it needs the session id. The builder
    gives ``None`` when it needs the id and there is none."""
    if isinstance(value, str):
        names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        if not names:
            constant = value.format()     # "{{" and "}}" written for literal braces
            return (lambda values: constant), False
        needs_id = "session_id" in names
        if len(names) == 1 and value == "{" + names[0] + "}":
            name = names[0]
            return (lambda values: values[name]), needs_id
        if needs_id:
            return (lambda values: None if values["session_id"] is None else value.format_map(values)), True
        return (lambda values: value.format_map(values)), False
    if isinstance(value, dict):
        return compile_table(value, absent="omit")
    if isinstance(value, list):
        parts = [compile_template(item) for item in value]
        return (lambda values: [build(values) for build, _ in parts]), any(needs for _, needs in parts)
    return (lambda values: value), False


def compile_table(table: Mapping[str, Any], *, absent: str) -> tuple[Build, bool]:
    """A builder for a body table: entries that need a missing id are omitted, or null."""
    entries = [(key, *compile_template(value)) for key, value in table.items()]
    omit = absent == "omit"

    def build(values: Values) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, part, needs_id in entries:
            found = part(values)
            if found is None and needs_id and omit:
                continue
            out[key] = found
        return out

    return build, any(needs for _, _, needs in entries)


class _Call:
    """One action's request, compiled from its ``CallSpec``."""

    def __init__(self, spec: CallSpec, *, absent: str) -> None:
        self.method = spec.method
        self.route = spec.path
        self._path, self.path_needs_id = compile_template(spec.path)
        self._headers = [(name, compile_template(value)[0]) for name, value in spec.headers.items()]
        self._body = None if spec.body is None else compile_table(spec.body, absent=absent)[0]

    def path(self, values: Values) -> str:
        return str(self._path(values))

    def headers(self, values: Values) -> dict[str, str] | None:
        if not self._headers:
            return None
        found = ((name, build(values)) for name, build in self._headers)
        return {name: str(value) for name, value in found if value is not None}

    def body(self, values: Values) -> dict[str, Any] | None:
        return None if self._body is None else self._body(values)


class ProfileExchange:
    """The exchange of an ``http`` profile (see module doc); one per run, shared by its users
    (it holds no per-user state: the user's ``Chat`` and transport do)."""

    def __init__(self, profile: Profile) -> None:
        assert profile.kind == "http" and profile.recommend is not None
        self.profile = profile
        absent = profile.session.absent
        self._minted_by = profile.minted_by
        self._cookie = profile.session.cookie
        self._recommend = _Call(profile.recommend, absent=absent)
        self._limit = profile.recommend.max_recommendations
        self._create = None if profile.create_session is None else _Call(profile.create_session, absent=absent)
        self._read = None if profile.read_history is None else _Call(profile.read_history, absent=absent)
        self._delete = None if profile.delete_session is None else _Call(profile.delete_session, absent=absent)
        self._parsers = parsers(profile)
        self._session_header = profile.answer.session_header.lower() if profile.answer.session_header else None
        self.requires_session = self._recommend.path_needs_id and self._minted_by != "client"

    # ---- requests ----------------------------------------------------------------------

    def new_session_id(self) -> str | None:
        # uuid4 from the OS, not the seeded RNG: a re-run with the same seed must not walk
        # into the sessions the previous run left on the service.
        return str(uuid.uuid4()) if self._minted_by == "client" else None

    def _request(self, call: _Call, action: Action, values: Values, *, session_id: str | None,
                 query: str | None = None) -> Request:
        return Request(action, call.method, call.path(values), values["request_id"], session_id,
                       call.body(values), sent_query=query, extra_headers=call.headers(values),
                       cookies=None if self._cookie is None else {self._cookie: session_id},
                       route_name=call.route)

    def recommend(self, step: QueryStep, fields: Mapping[str, str], *, rid: str, session_id: str | None,
                  max_recommendations: int) -> Request | None:
        if session_id is None and self._recommend.path_needs_id:
            return None     # the path names a session there is not (the user creates one first)
        query = step.query.format_map(fields)
        limit = min(step.max_recommendations or max_recommendations, self._limit)
        values = {"query": query, "session_id": session_id, "max_recommendations": limit, "request_id": rid}
        return self._request(self._recommend, "recommend", values, session_id=session_id, query=query)

    def create_session(self, *, rid: str) -> Request | None:
        if self._create is None:
            return None
        values = {"query": "", "session_id": None, "max_recommendations": self._limit, "request_id": rid}
        return self._request(self._create, "create_session", values, session_id=None)

    def read_history(self, session_id: str, *, rid: str) -> Request | None:
        return None if self._read is None else self._request(self._read, "read_history", self._values(session_id, rid),
                                                            session_id=session_id)

    def delete_session(self, session_id: str, *, rid: str) -> Request | None:
        return None if self._delete is None else self._request(self._delete, "delete_session",
                                                              self._values(session_id, rid), session_id=session_id)

    def _values(self, session_id: str, rid: str) -> dict[str, Any]:
        return {"query": "", "session_id": session_id, "max_recommendations": self._limit, "request_id": rid}

    def send(self, transport: HttpTransport, request: Request) -> Awaitable[Reply]:
        return transport.send(request.method, request.path, request_id=request.request_id, body=request.body,
                              headers=request.extra_headers, cookies=request.cookies)

    # ---- answers -----------------------------------------------------------------------

    def answered(self, base: Mapping[str, Any], *, reply: Reply, completed_at: float) -> Op:
        action = base["action"]
        sent = base["session_sent"]
        read = self._parsers[action]

        def parse(body: Any) -> dict[str, Any]:
            fields = read(body)
            if action == "delete_session":
                return fields
            if fields.get("session") is None:
                named = self._named(reply, sent)
                if named is None and action != "read_history":
                    # The user could not carry the conversation on: as the native path, unknown.
                    raise BadAnswer("the answer names no session")
                # A history read is of the session it asked for, unless its answer says otherwise.
                fields["session"] = sent if named is None else named
            return fields

        return answered_with(parse, base, status=reply.status, body=reply.body, completed_at=completed_at)

    def _named(self, reply: Reply, sent: str | None) -> str | None:
        """The session an answer names outside its body, or the one carried (module doc)."""
        header = self._session_header
        if header is not None:
            found = reply.headers.get(header)
            if found:
                return str(found)
        if self._cookie is not None:
            return reply.cookies.get(self._cookie) or sent
        return sent if self._minted_by == "client" else None


def exchange_for(profile: Profile) -> Exchange:
    """The exchange a virtual user talks through for ``profile`` (module doc)."""
    if profile.kind == "contract":
        return CONTRACT
    if profile.kind == "gradio":
        return GradioExchange(profile)
    return ProfileExchange(profile)


__all__ = ["ProfileExchange", "compile_table", "compile_template", "exchange_for"]
