"""Reading a service's answers into the ``Op`` fields the checker reads, by a profile's selectors.

Terms:
- *answer*: the parsed JSON body of an HTTP reply, or a Gradio endpoint's outputs (one
  value, or a list when the endpoint has several outputs).
- *item*: one element of the list ``answer.items`` selects; it becomes a ``TrackSeen``:
  ``track_id`` is its identity (the fields of a tuple identity joined by ``ID_SEPARATOR``),
  ``artist`` its artist field, ``tags`` the strings of its tag fields (genres, moods …) as
  the answer wrote them (the checker compares them case- and accent-insensitively).
- *followed query*: a service that echoes the query a follow-up resolved against, but not
  which request sent it, gives no ``Anchor`` (the checker matches anchors by request id);
  the echo is kept as ``entities["followed_query"]`` for the checker and the report.

Every selector was compiled once (``compile_selector``); a field the profile has no
selector for is ``None`` (or empty), so the checker can tell "not said" from "said no".
A value of the wrong type raises ``BadAnswer`` (the op becomes ``unknown``, as on the
native path).

``parsers(profile)`` is the one place that says how each action's answer is read: by these
readers, or, for ``[answer] format = "contract"``, by the native path's own parsers
(``loadtest.exchange.PARSERS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loadtest.exchange import PARSERS, BadAnswer
from loadtest.history import Action, Anchor, RecordedTurn, TrackSeen
from loadtest.profiles.model import (
    FOLLOW_UP_FLAG,
    AnswerSpec,
    HistorySelectors,
    Profile,
)
from loadtest.profiles.selector import Selector, compile_selector

Parse = Callable[[Any], dict[str, Any]]     # a 2xx answer -> ``Op`` fields (raises on a bad one)

ID_SEPARATOR = " — "          # joins the fields of a tuple identity: readable in witnesses ("Bill Evans — Peace Piece")
FOLLOWED_QUERY = "followed_query"


def _optional(expression: str | None) -> Selector | None:
    return None if expression is None else compile_selector(expression)


def _string(value: Any, what: str) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)      # numeric ids are common; the checker compares strings
    raise BadAnswer(f"{what} is not a string: {value!r:.60}")


def _strings(value: Any) -> tuple[str, ...]:
    """A string or a list of them as a tuple (``None`` → empty)."""
    if type(value) is list:
        return tuple(map(str, value))
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    raise BadAnswer(f"not a string or a list of strings: {value!r:.60}")


def _entities(raw: Any) -> dict[str, tuple[str, ...]]:
    """As the native parser reads ``intent.entities``: each value a list, or one value."""
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise BadAnswer(f"entities is not an object: {raw!r:.60}")
    return {str(key): tuple(str(v) for v in (values if isinstance(values, list) else [values]))
            for key, values in raw.items()}


def follow_up_of(value: Any) -> str | None:
    """A follow-up kind from what the service said: a kind string as is, a true flag as
    ``FOLLOW_UP_FLAG``, false/null/empty as ``None``."""
    if value is None or value is False or value == "":
        return None
    if value is True:
        return FOLLOW_UP_FLAG
    if isinstance(value, str):
        return value
    raise BadAnswer(f"follow_up is neither a flag nor a kind: {value!r:.60}")


class AnswerReader:
    """A profile's recommend-answer selectors, compiled; ``read`` gives ``Op`` fields."""

    def __init__(self, spec: AnswerSpec, *, deterministic: bool) -> None:
        self._session = _optional(spec.session_id)
        self._created = _optional(spec.session_created)
        self._turn = _optional(spec.turn)
        self._kind = _optional(spec.kind)
        self._follow_up = _optional(spec.follow_up)
        self._followed = _optional(spec.followed_query)
        self._entities = _optional(spec.entities)
        self._source = _optional(spec.source)
        # Without a source selector every answer counts as the primary path, so that the
        # determinism check (which skips fallback answers) can judge a deterministic service.
        self._default_source = "primary" if deterministic else None
        self._notice = _optional(spec.notice)
        self._text = _optional(spec.text)
        self._items = _optional(spec.items)
        item = spec.item
        ids = [] if item is None or item.id is None else ([item.id] if isinstance(item.id, str) else item.id)
        self._ids = tuple(compile_selector(expr) for expr in ids)
        self._artist = _optional(item.artist if item else None)
        self._tags = tuple(compile_selector(expr) for expr in (item.tags if item else ()))
        anchor = spec.anchor
        self._anchor_at = _optional(anchor.at if anchor else None)
        self._anchor = None if anchor is None else tuple(
            _optional(expr) for expr in (anchor.turn, anchor.request_id, anchor.query, anchor.kind, anchor.entities))

    def read(self, answer: Any) -> dict[str, Any]:
        """The ``Op`` fields of a recommend answer (``session`` only when a selector named it)."""
        fields: dict[str, Any] = {}
        if self._session is not None:
            session = self._session.search(answer)
            fields["session"] = None if session is None else _string(session, "session_id")
        if self._created is not None:
            created = self._created.search(answer)
            fields["session_created"] = None if created is None else bool(created)
        if self._turn is not None:
            turn = self._turn.search(answer)
            fields["turn"] = None if turn is None else int(turn)
        if self._kind is not None:
            kind = self._kind.search(answer)
            fields["kind"] = None if kind is None else _string(kind, "kind")
        if self._follow_up is not None:
            fields["follow_up"] = follow_up_of(self._follow_up.search(answer))
        entities = _entities(self._entities.search(answer)) if self._entities is not None else {}
        if self._followed is not None:
            followed = self._followed.search(answer)
            if followed is not None:
                entities = {**entities, FOLLOWED_QUERY: (_string(followed, "followed_query"),)}
        fields["entities"] = entities
        if self._anchor_at is not None:
            fields["anchor"] = self._read_anchor(self._anchor_at.search(answer))
        source = self._source.search(answer) if self._source is not None else self._default_source
        fields["source"] = None if source is None else str(source)
        if self._notice is not None:
            notice = self._notice.search(answer)
            fields["notice"] = None if notice is None else str(notice)
        if self._text is not None:
            fields["text"] = _text(self._text.search(answer))
        if self._items is not None:
            fields["tracks"] = self._read_items(self._items.search(answer))
        return fields

    def _read_items(self, items: Any) -> tuple[TrackSeen, ...]:
        if items is None:
            return ()
        if not isinstance(items, list):
            raise BadAnswer(f"items is not a list: {items!r:.60}")
        # The hottest loop of reading (every item of every answer): the one-field identity and
        # the one tag field, the usual shapes, take no generator.
        ids, artist, tags = self._ids, self._artist, self._tags
        one_id = ids[0].search if len(ids) == 1 else None
        one_tag = tags[0].search if len(tags) == 1 else None
        out = []
        for item in items:
            if one_id is not None:
                track_id = _string(one_id(item), "item id")
            else:
                track_id = ID_SEPARATOR.join([_string(s.search(item), "item id") for s in ids])
            name = artist.search(item) if artist is not None else None
            if one_tag is not None:
                seen = _strings(one_tag(item))
            else:
                seen = tuple([tag for s in tags for tag in _strings(s.search(item))])
            out.append(TrackSeen(track_id, "" if name is None else _string(name, "artist"), seen))
        return tuple(out)

    def _read_anchor(self, raw: Any) -> Anchor | None:
        if raw is None:
            return None
        assert self._anchor is not None
        turn, request_id, query, kind, entities = (None if s is None else s.search(raw) for s in self._anchor)
        if turn is None or request_id is None:
            return None       # an anchor the checker cannot place is no anchor to judge
        return Anchor(turn=int(turn), request_id=_string(request_id, "anchor request id"),
                      query=None if query is None else str(query), kind=None if kind is None else str(kind),
                      entities=_entities(entities))


def _text(value: Any) -> str | None:
    """An answer's text: a string as is, a list of strings (or of chat messages with a
    ``content``) joined by newlines."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(t for t in (_text(v) for v in value) if t)
    if isinstance(value, Mapping) and "content" in value:
        return _text(value["content"])
    return str(value)


class HistoryReader:
    """A profile's history-read selectors, compiled; ``read`` gives ``Op`` fields."""

    def __init__(self, spec: HistorySelectors) -> None:
        self._session = _optional(spec.session_id)
        self._count = _optional(spec.turn_count)
        self._turns = _optional(spec.turns)
        turn = spec.turn
        self._turn, self._request_id = _optional(turn.turn), _optional(turn.request_id)
        self._query, self._anchor_turn = _optional(turn.query), _optional(turn.anchor_turn)
        self._track_ids = _optional(turn.track_ids)

    def read(self, answer: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self._session is not None:
            session = self._session.search(answer)
            fields["session"] = None if session is None else _string(session, "session_id")
        if self._turns is None or self._turn is None or self._request_id is None:
            return fields     # nothing the checker can place: no recorded turns
        raw = self._turns.search(answer)
        if not isinstance(raw, list):
            raise BadAnswer(f"turns is not a list: {raw!r:.60}")
        recorded = []
        for entry in raw:
            query = self._query.search(entry) if self._query is not None else None
            anchor_turn = self._anchor_turn.search(entry) if self._anchor_turn is not None else None
            track_ids = self._track_ids.search(entry) if self._track_ids is not None else None
            recorded.append(RecordedTurn(
                turn=int(self._turn.search(entry)), request_id=_string(self._request_id.search(entry), "request_id"),
                query=None if query is None else str(query), anchor_turn=None if anchor_turn is None else int(anchor_turn),
                track_ids=_strings(track_ids)))
        fields["recorded"] = tuple(recorded)
        count = self._count.search(answer) if self._count is not None else None
        fields["turn_count"] = len(recorded) if count is None else int(count)
        return fields


def _created_selector(profile: Profile) -> str | None:
    if profile.gradio is not None:
        return None if profile.gradio.create_session is None else profile.gradio.create_session.session_id
    return None if profile.create_session is None else profile.create_session.session_id


def _no_fields(answer: Any) -> dict[str, Any]:
    return {}


def parsers(profile: Profile) -> dict[Action, Parse]:
    """How each action's 2xx answer becomes ``Op`` fields (module doc). A session the answer
    does not name is left out (``session`` absent or None): the exchange knows what was carried."""
    if profile.answer.format == "contract":
        return {"recommend": PARSERS["recommend"], "read_history": PARSERS["read_history"],
                "create_session": PARSERS["create_session"], "delete_session": PARSERS["delete_session"]}
    answer = AnswerReader(profile.answer, deterministic=profile.deterministic)
    spec = profile.history_selectors
    history = HistoryReader(spec).read if spec is not None else _no_fields
    expression = _created_selector(profile)
    created = compile_selector(expression) if expression is not None else None

    def read_created(body: Any) -> dict[str, Any]:
        found = None if created is None else created.search(body)
        return {"session": None if found is None else _string(found, "session_id")}

    return {"recommend": answer.read, "read_history": history, "create_session": read_created,
            "delete_session": _no_fields}


def session_reader(profile: Profile, action: Action) -> Callable[[Any], str | None]:
    """Only the session an ``action``'s 2xx answer names (None: it names none), cheaper than
    its whole parse: what a tab that holds the id remembers (``loadtest.profiles.gradio``)."""
    if profile.answer.format == "contract":
        expression: str | None = "session_id"
    elif action == "recommend":
        expression = profile.answer.session_id
    elif action == "create_session":
        expression = _created_selector(profile)
    else:
        expression = None
    selector = _optional(expression)

    def read(answer: Any) -> str | None:
        found = None if selector is None else selector.search(answer)
        return found if isinstance(found, str) and found else None

    return read


__all__ = ["FOLLOWED_QUERY", "ID_SEPARATOR", "AnswerReader", "HistoryReader", "Parse", "follow_up_of", "parsers",
           "session_reader"]
