"""The isolation-property registry: every property the checker judges, as data.

Modelled on Elle's anomalies-as-data (``jepsen-io/elle``, ``txn.clj``): one entry per
property with its name, class, one-line description, the *evidence* it needs, what a run
must *exercise* before it may claim the property held, and its *detector*. The checker, the
status table, the JSON and JUnit reports and ``docs/report-schema.md`` all read it; adding a
property is one entry here plus its detector and tests (and its row in the docs' table,
which a test compares with this registry).

Terms:
- *evidence* (``Evidence``, defined with the records in ``model``): what a target's answers
  can show. A property is *checkable* when the target shows all of its evidence; one that is
  not is reported "not checkable with this profile" and its detector never runs. A detector
  may use more than its evidence where the target shows it (``refresh-leak`` also judges
  anchors, ``duplicate-turn`` also history reads, ``nondeterministic-answer`` follows turn
  numbers, ``expectation-failed`` judges ``follow_up`` and ``session_created``
  expectations only where they are shown).
- *exercise*: the kind of completed operation the run must contain for "held" to mean
  anything (``exercised`` counts them): a property judged on follow-ups proves nothing in a
  run without one.
- *detector*: a function of the check's ``Context`` that yields ``Finding``s of its own
  property. Judgements that several properties share (each follow-up's one anchor verdict,
  each answer's one content verdict) are made once through ``Context.shared``, so the
  order of this registry is the report order and nothing else. A verdict of a property
  that is not judged hides nothing from the others (``Context.judged``).

``REGISTRY`` is in report order: bleeding first, then loss. Names are part of the report
format: never rename one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from loadtest.history import Op
from loadtest.oracle import anchors, canaries, content, determinism, expectations, ids, turns
from loadtest.oracle.context import Context
from loadtest.oracle.index import is_follow_up_op
from loadtest.oracle.model import ALL_EVIDENCE as ALL_EVIDENCE
from loadtest.oracle.model import EVIDENCE as EVIDENCE
from loadtest.oracle.model import Anomaly, AnomalyClass, Finding
from loadtest.oracle.model import Evidence as Evidence

Exercise = Literal["answers", "follow_ups", "history_reads", "refreshes", "client_ids", "canaries"]
Detector = Callable[[Context], Iterable[Finding]]


@dataclass(frozen=True, kw_only=True)
class Property:
    name: str
    cls: AnomalyClass
    description: str                 # one line: what a violation means
    evidence: frozenset[Evidence]    # all of it must be shown, or the property is not checkable
    exercise: Exercise
    detect: Detector

    def anomaly(self, finding: Finding) -> Anomaly:
        """``finding`` with this property's class; it must be a finding of this property."""
        if finding.property != self.name:
            raise ValueError(f"the {self.name} detector reported a {finding.property} finding")
        return Anomaly(property=finding.property, cls=self.cls, session=finding.session,
                       conversation=finding.conversation, scenario=finding.scenario,
                       victim=finding.victim, source=finding.source,
                       explanation=finding.explanation, value=finding.value)


def _needs(*evidence: Evidence) -> frozenset[Evidence]:
    return frozenset(evidence)


def _registry(*entries: Property) -> Mapping[str, Property]:
    registry: dict[str, Property] = {}
    for entry in entries:
        if entry.name in registry:
            raise ValueError(f"property {entry.name} is registered twice")
        registry[entry.name] = entry
    return registry


REGISTRY: Mapping[str, Property] = _registry(
    Property(name="foreign-request-id", cls="bleeding",
             description="a history read of a session lists a request sent in another conversation",
             evidence=_needs("history"), exercise="history_reads", detect=turns.foreign_request_ids),
    Property(name="foreign-anchor", cls="bleeding",
             description="a follow-up is anchored on a request that is not an earlier turn of its own session",
             evidence=_needs("anchor"), exercise="follow_ups", detect=anchors.foreign_anchors),
    Property(name="foreign-content", cls="bleeding",
             description="a follow-up's tracks fit another conversation's subject instead of its own",
             evidence=_needs("item_subjects"), exercise="follow_ups", detect=content.foreign_contents),
    Property(name="refresh-leak", cls="bleeding",
             description="after a refresh, the new session follows up on, or shows, the old session's subject",
             evidence=_needs("item_subjects", "session_id"), exercise="refreshes", detect=content.refresh_leaks),
    Property(name="adopted-client-id", cls="bleeding",
             description="the server answered under a session id that it never minted (a client's made-up id)",
             evidence=_needs("session_id"), exercise="client_ids", detect=ids.adopted_client_ids),
    Property(name="id-collision", cls="bleeding",
             description="one session id was created for, or answered to, two different conversations",
             evidence=_needs("session_id"), exercise="answers", detect=ids.id_collisions),
    Property(name="weak-id", cls="bleeding",
             description="server-minted session ids are short, sequential or share a long prefix",
             evidence=_needs("session_id", "server_ids"), exercise="answers", detect=ids.weak_ids),
    Property(name="nondeterministic-answer", cls="bleeding",
             description="two sessions that sent the same queries got different tracks (primary path)",
             evidence=_needs("item_ids", "deterministic", "session_id"), exercise="answers",
             detect=determinism.nondeterministic_answers),
    Property(name="foreign-canary", cls="bleeding",
             description="an answer's text contains the canary planted in another conversation",
             evidence=_needs("text"), exercise="canaries", detect=canaries.foreign_canaries),
    Property(name="missing-turn", cls="loss",
             description="an acknowledged turn is absent from a later history read while still in its window",
             evidence=_needs("history", "session_id", "turn"), exercise="history_reads", detect=turns.missing_turns),
    Property(name="duplicate-turn", cls="loss",
             description="two answers of a session share a turn number, or a history lists a request twice",
             evidence=_needs("turn", "session_id"), exercise="answers", detect=turns.duplicate_turns),
    Property(name="turn-gap", cls="loss",
             description=("a history's turns are not consecutive up to turn_count,"
                          " or it counts fewer turns than were acknowledged"),
             evidence=_needs("history"), exercise="history_reads", detect=turns.turn_gaps),
    Property(name="lost-context", cls="loss",
             description="a follow-up found nothing to follow up on although its session had a subject turn",
             evidence=_needs("anchor", "session_id"), exercise="follow_ups", detect=anchors.lost_contexts),
    Property(name="wrong-anchor", cls="loss",
             description="a follow-up is anchored on its own session's turn, but not the one the scenario expects",
             evidence=_needs("anchor"), exercise="follow_ups", detect=anchors.wrong_anchors),
    Property(name="stale-anchor", cls="loss",
             description="a follow-up is anchored on an own turn older than the history_limit turns the session keeps",
             evidence=_needs("anchor", "turn", "session_id"), exercise="follow_ups", detect=anchors.stale_anchors),
    Property(name="off-subject", cls="loss",
             description="a follow-up's tracks fit neither its own subject nor any other conversation's",
             evidence=_needs("item_subjects"), exercise="follow_ups", detect=content.off_subjects),
    Property(name="repeated-track", cls="loss",
             description="a track is shown twice among an anchor's page and the follow-up pages after it",
             evidence=_needs("item_ids", "anchor", "session_id"), exercise="follow_ups",
             detect=content.repeated_tracks),
    Property(name="expectation-failed", cls="loss",
             description="an answer's intent kind, follow-up kind or session_created is not what the step expects",
             evidence=_needs("intent"), exercise="answers", detect=expectations.failed_expectations),
    Property(name="lost-canary", cls="loss",
             description="an answer asked to give back its conversation's canary does not contain it",
             evidence=_needs("text"), exercise="canaries", detect=canaries.lost_canaries),
)

# The registry as the reports knew it before evidence: property -> (class, description).
PROPERTIES: Mapping[str, tuple[AnomalyClass, str]] = {
    name: (prop.cls, prop.description) for name, prop in REGISTRY.items()}


def checkable(evidence: Iterable[Evidence]) -> tuple[str, ...]:
    """The properties a target showing ``evidence`` can be judged on, in report order."""
    shown = frozenset(evidence)
    return tuple(name for name, prop in REGISTRY.items() if prop.evidence <= shown)


def missing_evidence(prop: Property, evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """What ``prop`` needs that ``evidence`` lacks, in ``EVIDENCE`` order (empty: checkable)."""
    shown = frozenset(evidence)
    return tuple(item for item in EVIDENCE if item in prop.evidence and item not in shown)


def exercised(ops: Sequence[Op], *, scenario: str | None = None) -> Counter[Exercise]:
    """How many completed (ok) operations of each ``Exercise`` kind the run, or one
    scenario of it, gave the checker."""
    seen: Counter[Exercise] = Counter()
    for op in ops:
        if op.status != "ok" or (scenario is not None and op.scenario != scenario):
            continue
        if op.action == "recommend":
            seen["answers"] += 1
            seen["follow_ups"] += is_follow_up_op(op)
            # A request carrying an id the server must not adopt (made-up or expired).
            seen["client_ids"] += op.session_sent is not None and op.expect.new_session is True
            # An answer whose text could show canaries, in a conversation that planted one.
            seen["canaries"] += op.canary is not None and op.text is not None
        elif op.action == "read_history":
            seen["history_reads"] += 1
        elif op.action == "delete_session":
            seen["refreshes"] += 1
    return seen


__all__ = ["ALL_EVIDENCE", "EVIDENCE", "PROPERTIES", "REGISTRY", "Detector", "Evidence", "Exercise",
           "Property", "checkable", "exercised", "missing_evidence"]
