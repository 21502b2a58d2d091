"""A tiny history builder for oracle tests.

``h = Builder()``, then ``h.first("u1.c1", "s1", "Songs by Burial", artist="Burial")``,
``h.more("u1.c1", "s1", anchor=first_op)``, ``h.read("u1.c1", "s1")``, ``h.say(…, text=…)``
… Each call appends one ``Op`` with the next index and a clock that advances 1 s per op
(each op takes 0.5 s) unless ``at=(invoked, completed)`` says otherwise. Session names (``"s1"``) become
server-looking ids (43 url-safe characters, hashed from the name), so that tests do not
trip ``weak-id`` by accident; ``sid("s1")`` gives the id.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from loadtest.history import Anchor, Expect, Op, RecordedTurn, TrackSeen
from loadtest.oracle import Verdict


def sid(name: str) -> str:
    """The server-looking id a test's session name stands for (``"=abc"`` is ``"abc"`` itself)."""
    if name.startswith("="):
        return name[1:]
    return base64.urlsafe_b64encode(hashlib.sha256(name.encode()).digest()).decode().rstrip("=")


def tracks(artist: str, n: int = 3, *, start: int = 0, genre: str = "pop", prefix: str | None = None) -> tuple[TrackSeen, ...]:
    """``n`` tracks by ``artist`` tagged ``genre``, ids ``<prefix>-<i>``."""
    stem = prefix if prefix is not None else artist.lower().replace(" ", "-")
    return tuple(TrackSeen(f"{stem}-{i}", artist, (genre,)) for i in range(start, start + n))


class Builder:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.clock = 0.0
        self.subjects: dict[str, dict[str, str]] = {}
        self.turns: dict[str, int] = {}              # session id -> turns acknowledged so far
        self.known: dict[str, set[str]] = {}         # conversation -> session ids it holds

    # -- plumbing -------------------------------------------------------------------------
    def _times(self, at: tuple[float, float | None] | None) -> tuple[float, float | None]:
        if at is not None:
            return at
        invoked = self.clock
        self.clock += 1.0
        return invoked, invoked + 0.5

    def _add(self, conv: str, **fields: object) -> Op:
        index = len(self.ops)
        invoked, completed = self._times(fields.pop("at", None))  # type: ignore[arg-type]
        user = int(conv.split(".")[0].lstrip("u") or 0)
        fields.setdefault("request_id", f"r{index}")
        fields.setdefault("scenario", "chat")
        fields.setdefault("subject", self.subjects.get(conv, {}))
        op = Op(index=index, user=user, conversation=conv, invoked_at=invoked, completed_at=completed,
                **fields)  # type: ignore[arg-type]
        self.ops.append(op)
        return op

    def subject(self, conv: str, **subject: str) -> None:
        self.subjects[conv] = dict(subject)

    def _session(self, conv: str, session: str | None, sent: str | None | bool,
                 created: bool | None) -> tuple[str | None, str | None, bool]:
        real = sid(session) if session is not None else None
        held = self.known.setdefault(conv, set())
        if sent is True:
            sent_id = real
        elif isinstance(sent, str):
            sent_id = sid(sent)
        elif sent is False:
            sent_id = None
        else:
            sent_id = real if real in held else None
        if created is None:
            created = real is not None and real not in held and real not in self.turns
        if real is not None:
            held.add(real)
        return real, sent_id, created

    def _next_turn(self, session: str | None, turn: int | None, status: str) -> int | None:
        if session is None or status != "ok":
            return turn
        if turn is None:
            turn = self.turns.get(session, 0) + 1
        self.turns[session] = max(self.turns.get(session, 0), turn)
        return turn

    # -- ops -------------------------------------------------------------------------------
    def first(self, conv: str, session: str | None, query: str = "Songs by Burial", *,
              artist: str | None = None, genre: str | None = None, tracks_: Sequence[TrackSeen] | None = None,
              step: str = "first", kind: str = "by_artist", status: str = "ok", sent: str | bool | None = None,
              created: bool | None = None, turn: int | None = None, source: str = "primary",
              expect: Expect | None = None, at: tuple[float, float | None] | None = None,
              request_id: str | None = None) -> Op:
        """A subject-setting query (answered ``kind``, no anchor)."""
        if artist is not None or genre is not None:
            subject = dict(self.subjects.get(conv, {}))
            subject.update({k: v for k, v in (("artist", artist), ("genre", genre)) if v is not None})
            self.subjects[conv] = subject
        subject = self.subjects.get(conv, {})
        real, sent_id, was_created = self._session(conv, session, sent, created)
        ok = status == "ok"
        shown = tuple(tracks_) if tracks_ is not None else tracks(subject.get("artist", "Nobody"), genre=subject.get("genre", "pop"))
        extra = {"request_id": request_id} if request_id else {}
        return self._add(
            conv, step=step, action="recommend", status=status, at=at, query=query,
            session_sent=sent_id, session=real if ok else None, http_status=200 if ok else None,
            turn=self._next_turn(real, turn, status), session_created=was_created if ok else None,
            kind=kind if ok else None, tracks=shown if ok else (), source=source if ok else None,
            expect=expect if expect is not None else Expect(kind=kind), **extra)

    def more(self, conv: str, session: str | None, query: str = "More tracks", *,
             anchor: Op | Anchor | None = None, tracks_: Sequence[TrackSeen] | None = None,
             step: str = "more", expect_anchor: str | None = "first", follow_up: str | None = "more_tracks",
             content: tuple[str, ...] = ("artist",), status: str = "ok", sent: str | bool | None = None,
             created: bool | None = None, turn: int | None = None, source: str = "primary",
             expect: Expect | None = None, notice: str | None = None,
             at: tuple[float, float | None] | None = None) -> Op:
        """A follow-up (``intent.follow_up`` = ``follow_up``) anchored on ``anchor``."""
        real, sent_id, was_created = self._session(conv, session, sent, created)
        ok = status == "ok"
        if isinstance(anchor, Op):
            anchor = Anchor(turn=anchor.turn or 0, request_id=anchor.request_id, query=anchor.query, kind=anchor.kind)
        subject = self.subjects.get(conv, {})
        shown = tuple(tracks_) if tracks_ is not None else tracks(subject.get("artist", "Nobody"), start=3, genre=subject.get("genre", "pop"))
        return self._add(
            conv, step=step, action="recommend", status=status, at=at, query=query,
            session_sent=sent_id, session=real if ok else None, http_status=200 if ok else None,
            turn=self._next_turn(real, turn, status), session_created=was_created if ok else None,
            kind="follow_up" if ok else None, follow_up=follow_up if ok else None,
            anchor=anchor if ok else None, tracks=shown if ok else (), source=source if ok else None,
            notice=notice if ok else None,
            expect=expect if expect is not None else Expect(
                kind="follow_up", follow_up=follow_up, anchor=expect_anchor, content=content))

    def say(self, conv: str, session: str | None, query: str, *, text: str | None, canary: str | None = None,
            expect_canary: bool | None = None, step: str = "say", status: str = "ok",
            at: tuple[float, float | None] | None = None) -> Op:
        """A chat app's exchange, judged by its text: ``query`` sent, ``text`` answered, and
        ``canary`` the conversation's planted token (as ``Op.canary``)."""
        real, sent_id, was_created = self._session(conv, session, None, None)
        ok = status == "ok"
        return self._add(
            conv, step=step, action="recommend", status=status, at=at, query=query,
            session_sent=sent_id, session=real if ok else None, http_status=200 if ok else None,
            turn=self._next_turn(real, None, status), session_created=was_created if ok else None,
            text=text if ok else None, canary=canary, expect=Expect(canary=expect_canary))

    def read(self, conv: str, session: str, *, recorded: Sequence[Op | tuple[int, str]] | None = None,
             turn_count: int | None = None, step: str = "read", status: str = "ok",
             at: tuple[float, float | None] | None = None) -> Op:
        """``GET /sessions/{id}``; by default lists every ok turn op of the session so far."""
        real = sid(session)
        if recorded is None:
            recorded = [op for op in self.ops if op.action == "recommend" and op.status == "ok" and op.session == real]
        turns = tuple(RecordedTurn(turn=r.turn or 0, request_id=r.request_id, query=r.query,
                                   track_ids=tuple(t.track_id for t in r.tracks)) if isinstance(r, Op)
                      else RecordedTurn(turn=r[0], request_id=r[1]) for r in recorded)
        ok = status == "ok"
        return self._add(
            conv, step=step, action="read_history", status=status, at=at, session_sent=real,
            session=real if ok else None, http_status=200 if ok else None,
            turn_count=(turn_count if turn_count is not None else self.turns.get(real, 0)) if ok else None,
            recorded=turns if ok else None)

    def delete(self, conv: str, session: str, *, step: str = "refresh",
               at: tuple[float, float | None] | None = None) -> Op:
        return self._add(conv, step=step, action="delete_session", status="ok", at=at,
                         session_sent=sid(session), http_status=204)

    def create(self, conv: str, session: str, *, step: str = "create",
               at: tuple[float, float | None] | None = None) -> Op:
        real = sid(session)
        self.known.setdefault(conv, set()).add(real)
        return self._add(conv, step=step, action="create_session", status="ok", at=at, session=real,
                         session_created=True, http_status=201)


def chat(h: Builder, conv: str, session: str, artist: str, *, pages: int = 2, prefix: str | None = None,
         chained: bool = False) -> list[Op]:
    """A clean conversation: a first query for ``artist`` then ``pages`` follow-ups on it
    (``chained``: each follow-up on the page before, as a session keeping few turns must)."""
    first = h.first(conv, session, f"Songs by {artist}", artist=artist,
                    tracks_=tracks(artist, prefix=prefix))
    ops = [first]
    for page in range(pages):
        anchor = ops[-1] if chained else first
        ops.append(h.more(conv, session, anchor=anchor, step=f"more{page + 1}", expect_anchor=anchor.step,
                          tracks_=tracks(artist, start=3 * (page + 1), prefix=prefix)))
    return ops


Row = tuple[str, str, tuple[int, ...], tuple[int, ...]]


def summary(verdict: Verdict) -> tuple[object, dict[str, list[Row]]]:
    """``(valid, {property: [(class, conversation, victim, source), …]})``."""
    return verdict.valid, {name: [(a.cls, a.conversation, a.victim, a.source) for a in found]
                           for name, found in verdict.anomalies.items()}
