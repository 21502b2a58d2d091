"""The tables every detector reads, built once from a history in index order.

Terms:
- *answer*: an ``ok`` op; its ``session`` is the session the server says it used.
- *turn op*: an ``ok`` recommend, i.e. an acknowledged turn of ``op.session``.
- *follow-up op*: an ``ok`` recommend the server answered as a follow-up, or whose step
  expects one (a server that lost the context may not even report ``follow_up``).
- *subject op*: a recommend that is not a follow-up (``ok`` or ``unknown``: an unknown one
  may have been recorded): the turn that set a conversation's subject.
- *refresh*: a conversation's ``delete_session`` step; the user's next conversation is the
  *successor* and the deleted one its *predecessor*.
- *unknown outcome*: an op with status ``unknown`` (no answer, or a 2xx that did not parse):
  as in Jepsen, it may or may not have taken effect. ``first_unknown`` says from which op on
  a conversation's own idea of its session may be wrong.

Nothing here judges; detectors do. Everything is keyed so that a detector does a few dict
look-ups or a bisection per op, never a scan over all sessions or conversations.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loadtest.history import Op


def is_follow_up_op(op: Op) -> bool:
    """A recommend the server answered as a follow-up, or whose step expects one (a server
    that lost the context may not even report ``follow_up``)."""
    return op.follow_up is not None or op.expect.follow_up is not None


def _completed(op: Op) -> float:
    return op.completed_at if op.completed_at is not None else float("inf")


@dataclass(frozen=True)
class Refresh:
    """A conversation's successor link: the old conversation and the delete that ended it."""

    old_conversation: str
    delete: Op


@dataclass
class HistoryIndex:
    ops: list[Op]                                                 # sorted by Op.index
    by_request_id: Mapping[str, Op]
    turns: dict[str, list[Op]] = field(default_factory=dict)      # session -> turn ops, index order
    answers: dict[str, list[Op]] = field(default_factory=dict)    # session -> every ok op naming it
    reads: list[Op] = field(default_factory=list)                 # ok history reads with turns
    follow_ups: list[Op] = field(default_factory=list)
    anchored: list[Op] = field(default_factory=list)             # follow-ups and any ok answer with an anchor
    content_ops: list[Op] = field(default_factory=list)           # ok recommends with content rules
    subject: dict[str, Mapping[str, str]] = field(default_factory=dict)   # conversation -> subject
    subject_ops: dict[str, list[Op]] = field(default_factory=dict)        # conversation -> subject ops
    step_ops: dict[tuple[str, str], list[Op]] = field(default_factory=dict)  # (conversation, step)
    unknown_sent: dict[str, list[Op]] = field(default_factory=dict)  # session sent -> unknown recommends
    first_unknown: dict[str, int] = field(default_factory=dict)   # conversation -> index of its first unknown op
    sent: dict[str, list[Op]] = field(default_factory=dict)      # session sent -> ops sending it
    predecessor: dict[str, Refresh] = field(default_factory=dict)
    scenario: dict[str, str] = field(default_factory=dict)        # conversation -> scenario
    # (conversation, session) -> subject turn ops sorted by completion, and their completions
    _acked_subjects: dict[tuple[str, str], tuple[list[float], list[Op]]] = field(default_factory=dict)

    def latest_subject_turn(self, conversation: str, session: str | None, before: float) -> Op | None:
        """The conversation's last acknowledged subject turn in ``session`` completed by ``before``."""
        if session is None:
            return None
        entry = self._acked_subjects.get((conversation, session))
        if entry is None:
            return None
        times, ops = entry
        position = bisect_right(times, before)
        return ops[position - 1] if position else None

    def step_op(self, conversation: str, step: str, before_index: int) -> Op | None:
        """The conversation's latest op at ``step`` invoked before op ``before_index``."""
        ops = self.step_ops.get((conversation, step))
        if not ops:
            return None
        position = bisect_left([op.index for op in ops], before_index) if len(ops) > 1 else int(ops[0].index < before_index)
        return ops[position - 1] if position else None


def build_index(ops: Iterable[Op], by_request_id: Mapping[str, Op]) -> HistoryIndex:
    """One pass over ``ops`` (already in index order) filling every table."""
    ix = HistoryIndex(ops=list(ops), by_request_id=by_request_id)
    turns: defaultdict[str, list[Op]] = defaultdict(list)
    answers: defaultdict[str, list[Op]] = defaultdict(list)
    subject_ops: defaultdict[str, list[Op]] = defaultdict(list)
    step_ops: defaultdict[tuple[str, str], list[Op]] = defaultdict(list)
    unknown_sent: defaultdict[str, list[Op]] = defaultdict(list)
    sent: defaultdict[str, list[Op]] = defaultdict(list)
    acked: defaultdict[tuple[str, str], list[Op]] = defaultdict(list)
    subject, scenario = ix.subject, ix.scenario
    pending_delete: dict[int, Op] = {}              # user -> a delete not yet followed
    first_unknown = ix.first_unknown
    reads, follow_ups, content_ops, anchored = ix.reads, ix.follow_ups, ix.content_ops, ix.anchored
    for op in ix.ops:
        conversation = op.conversation
        if conversation not in scenario:
            scenario[conversation] = op.scenario
            # A user's first op in a new conversation after a delete: a refresh.
            delete = pending_delete.pop(op.user, None)
            if delete is not None and delete.conversation != conversation:
                ix.predecessor[conversation] = Refresh(delete.conversation, delete)
        if op.subject and conversation not in subject:
            subject[conversation] = op.subject
        step_ops[(conversation, op.step)].append(op)
        if op.session_sent is not None:
            sent[op.session_sent].append(op)
        action, status = op.action, op.status
        follow_up = action == "recommend" and is_follow_up_op(op)
        if action == "delete_session":
            pending_delete[op.user] = op
        if status == "ok":
            if op.session is not None:
                answers[op.session].append(op)
            if action == "recommend":
                if op.session is not None:
                    turns[op.session].append(op)
                if follow_up:
                    follow_ups.append(op)
                    anchored.append(op)
                else:
                    if op.anchor is not None:
                        anchored.append(op)
                    if op.session is not None:
                        acked[(conversation, op.session)].append(op)
                if op.expect.content:
                    content_ops.append(op)
            elif action == "read_history" and op.recorded is not None:
                reads.append(op)
        elif status == "unknown":
            first_unknown.setdefault(conversation, op.index)
            if action == "recommend" and op.session_sent is not None:
                unknown_sent[op.session_sent].append(op)
        if action == "recommend" and status != "fail" and not follow_up:
            subject_ops[conversation].append(op)
    ix.turns, ix.answers, ix.subject_ops = dict(turns), dict(answers), dict(subject_ops)
    ix.step_ops, ix.unknown_sent, ix.sent = dict(step_ops), dict(unknown_sent), dict(sent)
    for key, found in acked.items():
        found.sort(key=lambda op: (_completed(op), op.index))
        ix._acked_subjects[key] = ([_completed(op) for op in found], found)
    return ix
