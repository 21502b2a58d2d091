"""Session ids: who minted them and whom they were given to (contract, "Sessions").

Terms:
- *made-up id*: an id some request sent before any answer had named it (compared by op
  index, i.e. invocation order: a client can only send a server's id after an answer
  carrying it, so a genuine id always has an earlier answer). Index order, not time, so an
  open-model ``invoked_at`` (the *intended* start) cannot fake a made-up id.
- *minted id*: an id the server named in an answer that is not made up.
- *owner* of a minted id: the conversation of the first answer that created it
  (``session_created`` or ``POST /sessions``), else of the first answer naming it.

Properties: ``adopted-client-id`` (an answer named a made-up id), ``id-collision`` (a
minted id answered to a conversation other than its owner), ``weak-id`` (minted ids with
structure: short, monotonic, or sharing a long prefix), all bleeding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from os.path import commonprefix

from loadtest.history import Op
from loadtest.oracle.context import Context
from loadtest.oracle.index import HistoryIndex
from loadtest.oracle.model import Finding
from loadtest.oracle.witness import finding_for, hash_id, label, session_ref

MIN_ID_LENGTH = 22          # 22 url-safe base64 characters carry 128 bits
MONOTONIC_SAMPLE = 20       # below this many ids, ordering says too little
MONOTONIC_SHARE = 0.9       # random ids increase half the time; counters nearly always
PREFIX_LENGTH = 8           # 48 random bits: shared by chance with negligible probability
PREFIX_SHARE = 0.1
_EXAMPLES = 5


def made_up_ids(ix: HistoryIndex) -> dict[str, Op]:
    """Answered ids that a request sent first: id → the request that made it up."""
    found: dict[str, Op] = {}
    for session, answers in ix.answers.items():
        senders = ix.sent.get(session)
        if senders and senders[0].index <= answers[0].index:
            found[session] = senders[0]
    return found


def made_up(ctx: Context) -> dict[str, Op]:
    """Shared: ``made_up_ids`` of the check's history."""
    return made_up_ids(ctx.ix)


def adopted_client_ids(ctx: Context) -> Iterator[Finding]:
    for session, sender in ctx.shared(made_up).items():
        answers = ctx.ix.answers[session]
        first = answers[0]
        yield finding_for(
            "adopted-client-id", first, session=session, victim=tuple(op.index for op in answers),
            source=(sender.index,),
            explanation=(f"{label(sender)} sent session {session_ref(session)}, which the server had never"
                         f" returned, and {len(answers)} answer(s) from {label(first)} on were given under it"),
            value={"session": session_ref(session), "answers": len(answers),
                   "created": bool(first.session_created)})


def id_collisions(ctx: Context) -> Iterator[Finding]:
    made_up_by = ctx.shared(made_up)
    for session, answers in ctx.ix.answers.items():
        if session in made_up_by:
            continue
        creators = [op for op in answers if op.session_created or op.action == "create_session"]
        origin = creators[0] if creators else answers[0]
        intruders: dict[str, list[Op]] = {}
        for op in answers:
            if op.conversation != origin.conversation:
                intruders.setdefault(op.conversation, []).append(op)
        for conversation, ops in intruders.items():
            created = [op for op in ops if op.session_created or op.action == "create_session"]
            how = "was also told session_created for" if created else "was answered in"
            yield finding_for(
                "id-collision", ops[0], session=session, victim=tuple(op.index for op in ops),
                source=(origin.index,),
                explanation=(f"{conversation} {how} session {session_ref(session)}, created for"
                             f" {origin.conversation} by {label(origin)} ({len(ops)} op(s))"),
                value={"owner": origin.conversation, "intruder": conversation,
                       "created_twice": bool(created)})


def weak_ids(ctx: Context) -> Iterator[Finding]:
    """At most one finding, judged across all minted ids, with examples (hashed)."""
    ix, made_up_by = ctx.ix, ctx.shared(made_up)
    minted = sorted(((answers[0].index, session) for session, answers in ix.answers.items()
                     if session not in made_up_by))
    ids = [session for _, session in minted]
    first_op = {session: ix.answers[session][0] for session in ids}
    reasons: list[str] = []
    examples: list[str] = []
    short = [session for session in ids if len(session) < MIN_ID_LENGTH]
    if short:
        reasons.append(f"{len(short)} id(s) shorter than {MIN_ID_LENGTH} characters"
                       f" (shortest {min(map(len, short))})")
        examples += short[:_EXAMPLES]
    if len(ids) >= MONOTONIC_SAMPLE:
        keys = [(len(session), session) for session in ids]
        rising = sum(1 for a, b in zip(keys, keys[1:], strict=False) if b > a)
        if rising >= MONOTONIC_SHARE * (len(ids) - 1):
            reasons.append(f"{rising} of {len(ids) - 1} consecutive ids increase (sequential)")
            examples += ids[:_EXAMPLES]
    if len(ids) >= 3:
        prefixes = Counter(session[:PREFIX_LENGTH] for session in ids if len(session) > PREFIX_LENGTH)
        if prefixes:
            prefix, count = min(prefixes.items(), key=lambda item: (-item[1], item[0]))
            if count >= max(3, PREFIX_SHARE * len(ids)):
                group = [session for session in ids if session.startswith(prefix)]
                shared = len(commonprefix(group[:50]))
                reasons.append(f"{count} of {len(ids)} ids share a {shared}-character prefix")
                examples += group[:_EXAMPLES]
    if not reasons:
        return
    examples = list(dict.fromkeys(examples))[:_EXAMPLES * 3]
    witnesses = [first_op[session] for session in examples]
    head = witnesses[0]
    yield Finding(
        property="weak-id", session=None,
        conversation=head.conversation, scenario=head.scenario,
        victim=tuple(sorted(op.index for op in witnesses)),
        explanation=(f"server-minted session ids show structure: {'; '.join(reasons)}"
                     f" (e.g. {', '.join(session_ref(s) for s in examples[:3])})"),
        value={"reasons": reasons, "ids": len(ids),
               "examples": [{"hash": hash_id(s), "length": len(s)} for s in examples]})
