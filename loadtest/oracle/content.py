"""What an answer recommends, against whose subject it fits (contract, "The isolation property").

Terms:
- *rule*: a step's ``expect.content`` entry: ``"artist"`` (every track is by the subject's
  artist) or ``"genre"`` (every track is tagged with the subject's genre). Names compare
  case- and accent-insensitively. ``"similar"`` fixes nothing and is not judged.
- *fits* a subject: the answer has tracks and every rule holds for every track.

Judgements, one per answer at most:
- fits its own subject → fine;
- a follow-up of a conversation that a refresh began, sent before that conversation set a
  subject in its session, fits the *old* conversation's subject → ``refresh-leak``;
- fits another conversation's subject whose subject turn was sent before this answer came
  back → ``foreign-content`` (bleeding); the source is that subject turn, the latest such
  (the likeliest to overlap in time), found through an index value → subject turns;
- fits nobody's → ``off-subject`` (loss).

An answer that ``refresh-leak`` or ``lost-context`` already reports is not judged again
(``refresh_leak_verdicts``, ``content_verdicts``: shared judgements, see ``context``).

``repeated-track`` (loss): within one session, an anchor's page and the follow-up pages
anchored on it (in turn order) show a track twice. A page with a ``notice`` (the anchor's
candidates ran out) starts a fresh round, as the contract allows. Pages completed after a
request of unknown outcome was sent on the session are not judged: that request may have
taken a page, or the notice that started a fresh round, which nobody saw.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache

from loadtest.history import Op, TrackSeen
from loadtest.oracle import anchors
from loadtest.oracle.context import Context
from loadtest.oracle.index import HistoryIndex
from loadtest.oracle.model import Finding
from loadtest.oracle.witness import finding_for, label

RULES = ("artist", "genre")
_MAX_WALK = 64          # candidates of one value tried before giving up (bounded work)


@lru_cache(maxsize=1 << 16)
def normalise(name: str) -> str:
    """Case- and accent-insensitive form of a name (``"Sigur Rós"`` → ``"sigur ros"``)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _tags(track: TrackSeen) -> set[str]:
    return {normalise(tag) for tag in track.tags}


def fits(tracks: Sequence[TrackSeen], subject: Mapping[str, str], rules: Sequence[str]) -> bool:
    """Every rule holds for every track (and there is at least one track and one rule)."""
    if not tracks or not rules:
        return False
    for rule in rules:
        wanted = normalise(subject[rule])
        if rule == "artist":
            if any(normalise(t.artist) != wanted for t in tracks):
                return False
        elif any(wanted not in _tags(t) for t in tracks):
            return False
    return True


def _shared_values(tracks: Sequence[TrackSeen], rule: str) -> set[str]:
    """The normalised values of ``rule`` that every track shares."""
    if rule == "artist":
        artists = {normalise(t.artist) for t in tracks}
        return artists if len(artists) == 1 else set()
    shared = _tags(tracks[0])
    for track in tracks[1:]:
        shared &= _tags(track)
    return shared


class SubjectIndex:
    """rule → normalised value → subject turns of conversations with that subject, by time."""

    def __init__(self, ix: HistoryIndex) -> None:
        self._ix = ix
        found: dict[str, dict[str, list[Op]]] = {rule: {} for rule in RULES}
        for conversation, ops in ix.subject_ops.items():
            subject = ix.subject.get(conversation, {})
            for rule in RULES:
                if rule in subject:
                    found[rule].setdefault(normalise(subject[rule]), []).extend(ops)
        self._by_value: dict[str, dict[str, tuple[list[float], list[Op]]]] = {}
        for rule, values in found.items():
            self._by_value[rule] = {}
            for value, ops in values.items():
                ops.sort(key=lambda op: (op.invoked_at, op.index))
                self._by_value[rule][value] = ([op.invoked_at for op in ops], ops)

    def source_for(self, op: Op, rules: Sequence[str]) -> Op | None:
        """The latest subject turn of another conversation, sent before ``op`` completed,
        whose subject ``op``'s tracks fit under ``rules``."""
        completed = op.completed_at if op.completed_at is not None else float("inf")
        best: Op | None = None
        first, rest = rules[0], rules[1:]
        for value in _shared_values(op.tracks, first):
            entry = self._by_value[first].get(value)
            if entry is None:
                continue
            times, ops = entry
            position = bisect_right(times, completed)
            for candidate in reversed(ops[max(0, position - _MAX_WALK):position]):
                if candidate.conversation == op.conversation:
                    continue
                subject = self._ix.subject.get(candidate.conversation, {})
                if all(rule in subject for rule in rest) and (not rest or fits(op.tracks, subject, rest)):
                    if best is None or (candidate.invoked_at, -candidate.index) > (best.invoked_at, -best.index):
                        best = candidate
                    break
        return best


def _rules(op: Op, subject: Mapping[str, str]) -> list[str]:
    return [rule for rule in op.expect.content if rule in RULES and rule in subject]


def _shown(op: Op, rules: Sequence[str]) -> str:
    first = op.tracks[0]
    return f"'{first.artist}'" if "artist" in rules else f"tags {list(first.tags)}"


def refresh_leak(op: Op, ix: HistoryIndex) -> Finding | None:
    """A follow-up of a refreshed conversation, with no subject of its own yet, showing the
    old conversation's subject."""
    refresh = ix.predecessor.get(op.conversation)
    if refresh is None or not op.tracks or op.session == refresh.delete.session_sent:
        return None
    completed = op.completed_at if op.completed_at is not None else float("inf")
    if ix.latest_subject_turn(op.conversation, op.session, completed) is not None:
        return None
    old_subject = ix.subject.get(refresh.old_conversation, {})
    rules = _rules(op, old_subject) or [rule for rule in RULES if rule in old_subject][:1]
    if not rules or not fits(op.tracks, old_subject, rules):
        return None
    old_session = refresh.delete.session_sent
    old_ops = ix.subject_ops.get(refresh.old_conversation, [])
    source = tuple(o.index for o in old_ops if o.session == old_session) or tuple(o.index for o in old_ops)
    return finding_for(
        "refresh-leak", op, victim=(op.index,), source=source,
        explanation=(f"{label(op)} after the refresh of {refresh.old_conversation} shows"
                     f" {_shown(op, rules)}, the old conversation's subject"),
        value={"old_conversation": refresh.old_conversation, "via": "content",
               "rules": list(rules), "old_subject": {rule: old_subject[rule] for rule in rules}})


def judge_content(op: Op, ix: HistoryIndex, subjects: SubjectIndex, *, lost: bool) -> Finding | None:
    """``foreign-content`` or ``off-subject`` for an ok answer with content rules."""
    subject = ix.subject.get(op.conversation, op.subject)
    rules = _rules(op, subject)
    if not rules or not op.tracks or fits(op.tracks, subject, rules):
        return None
    wanted = {rule: subject[rule] for rule in rules}
    source = subjects.source_for(op, rules)
    if source is not None:
        their = ix.subject.get(source.conversation, {})
        return finding_for(
            "foreign-content", op, victim=(op.index,), source=(source.index,),
            explanation=(f"{label(op)} wanted {wanted} but shows {_shown(op, rules)},"
                         f" the subject of {source.conversation} ({label(source)})"),
            value={"rules": list(rules), "subject": wanted,
                   "fits": {rule: their[rule] for rule in rules},
                   "track_ids": [t.track_id for t in op.tracks]})
    if lost:
        return None  # already reported as lost-context: one loss, one anomaly
    return finding_for(
        "off-subject", op, victim=(op.index,),
        explanation=f"{label(op)} wanted {wanted} but shows {_shown(op, rules)}, nobody's subject",
        value={"rules": list(rules), "subject": wanted,
               "artists": sorted({t.artist for t in op.tracks}),
               "track_ids": [t.track_id for t in op.tracks]})


def refresh_leak_verdicts(ctx: Context) -> dict[int, Finding]:
    """Shared: op index -> ``refresh-leak``, by anchor (``anchors.anchor_verdicts``) or else
    by content."""
    leaks = {index: verdict for index, verdict in ctx.shared(anchors.anchor_verdicts).items()
             if verdict.property == "refresh-leak"}
    ix = ctx.ix
    for op in ix.follow_ups:
        if op.conversation in ix.predecessor and op.index not in leaks:
            leak = refresh_leak(op, ix)
            if leak is not None:
                leaks[op.index] = leak
    return leaks


def content_verdicts(ctx: Context) -> list[Finding]:
    """Shared: ``foreign-content`` or ``off-subject`` for each answer with content rules
    that no refresh leak explains; an answer reported as lost context is not off-subject."""
    ix = ctx.ix
    if not ix.content_ops:
        return []
    leaked = ctx.shared(refresh_leak_verdicts) if "refresh-leak" in ctx.judged else {}
    lost = {index for index, verdict in ctx.shared(anchors.anchor_verdicts).items()
            if verdict.property == "lost-context"} if "lost-context" in ctx.judged else set()
    subjects = SubjectIndex(ix)
    verdicts: list[Finding] = []
    for op in ix.content_ops:
        if op.index not in leaked:
            verdict = judge_content(op, ix, subjects, lost=op.index in lost)
            if verdict is not None:
                verdicts.append(verdict)
    return verdicts


def refresh_leaks(ctx: Context) -> Iterator[Finding]:
    return iter(ctx.shared(refresh_leak_verdicts).values())


def foreign_contents(ctx: Context) -> Iterator[Finding]:
    return (verdict for verdict in ctx.shared(content_verdicts) if verdict.property == "foreign-content")


def off_subjects(ctx: Context) -> Iterator[Finding]:
    return (verdict for verdict in ctx.shared(content_verdicts) if verdict.property == "off-subject")


def _root_anchor(op: Op, by_request: Mapping[str, Op]) -> str | None:
    """The request id at the root of ``op``'s anchor chain within its session: a follow-up
    anchored on a follow-up continues the pages of the first one's anchor."""
    root: str | None = None
    seen: set[str] = set()
    while op.anchor is not None and op.anchor.request_id in by_request and op.anchor.request_id not in seen:
        root = op.anchor.request_id
        seen.add(root)
        op = by_request[root]
    return root


def repeated_tracks(ctx: Context) -> Iterator[Finding]:
    """Tracks shown twice among an anchor's page and its follow-up pages, per session."""
    for session, turn_ops in ctx.ix.turns.items():
        if len(turn_ops) < 2:
            continue
        by_request = {op.request_id: op for op in turn_ops}
        unknown = ctx.ix.unknown_sent.get(session)
        cutoff = min(op.invoked_at for op in unknown) if unknown else float("inf")
        groups: dict[str, list[Op]] = {}
        for op in turn_ops:
            root = _root_anchor(op, by_request)
            if root is not None:
                groups.setdefault(root, []).append(op)
        for anchor_id, pages in groups.items():
            anchor_op = by_request[anchor_id]
            pages.sort(key=lambda op: (op.turn if op.turn is not None else 1 << 62, op.index))
            seen: dict[str, int] = {t.track_id: anchor_op.index for t in anchor_op.tracks}
            for page in pages:
                if (page.completed_at if page.completed_at is not None else float("inf")) > cutoff:
                    break   # past a request of unknown outcome: see the module doc
                if page.notice is not None:
                    seen = {t.track_id: page.index for t in page.tracks}
                    continue
                repeats: dict[str, int] = {}
                for track in page.tracks:
                    if track.track_id in seen:
                        repeats.setdefault(track.track_id, seen[track.track_id])
                    else:
                        seen[track.track_id] = page.index
                if repeats:
                    earlier = tuple(sorted({i for i in repeats.values() if i != page.index}))
                    yield finding_for(
                        "repeated-track", page, session=session, victim=(page.index, *earlier),
                        explanation=(f"{label(page)} repeats {len(repeats)} track(s) already shown"
                                     f" since anchor turn {anchor_op.turn}: {', '.join(sorted(repeats))}"),
                        value={"track_ids": sorted(repeats), "first_shown": dict(sorted(repeats.items())),
                               "anchor_request_id": anchor_id})
