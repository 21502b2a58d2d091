"""The checker's records and words: what a detector finds, an anomaly with its witness, a verdict.

Terms:
- *property*: one isolation rule, named in the contract's words (``foreign-anchor``,
  ``missing-turn``, ``repeated-track`` …); ``loadtest.oracle.properties.REGISTRY`` holds
  each one with its class, the evidence it needs and its detector.
- *class*: ``bleeding`` (a session saw foreign content) or ``loss`` (a session lost its own).
- *evidence*: what a target's answers can show (``Evidence``). A target that speaks the
  contract shows all of it; another one (a chat app, an older API) shows less, and a
  property whose evidence is not all shown cannot be judged there.
- *witness*: the operations that prove an anomaly: ``victim`` (ops of the session that
  suffered) and, for bleeding, ``source`` (ops of the session the content came from).
- *finding*: what a detector reports: an anomaly before the registry gives it its class
  (detectors cannot ask the registry, which imports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

AnomalyClass = Literal["bleeding", "loss"]

Evidence = Literal[
    "session_id",       # answers name the session they were served under
    "server_ids",       # the server mints session ids (a client's id must not be adopted)
    "session_created",  # answers say whether they started a new session
    "turn",             # answers carry the turn number
    "anchor",           # a follow-up names the earlier request it follows up on
    "follow_up",        # answers say whether they are follow-ups (and of what kind)
    "intent",           # answers report the intent kind
    "item_ids",         # each recommended item has a stable identity
    "item_subjects",    # each item carries subject fields (artist, genres/tags)
    "history",          # a history read lists the session's turns with request ids and numbers
    "text",             # answers carry text in which a planted canary can be found
    "deterministic",    # the service answers the same queries the same way
]
EVIDENCE: tuple[Evidence, ...] = get_args(Evidence)      # in the order above, for reports
ALL_EVIDENCE: frozenset[Evidence] = frozenset(EVIDENCE)   # a target that speaks the contract


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector found: an ``Anomaly`` without its class, which the registry adds."""

    property: str                    # a key of the registry
    session: str | None              # the victim's server session id
    conversation: str                # the victim's conversation (history.Op.conversation)
    scenario: str
    victim: tuple[int, ...]          # Op.index of the victim's ops that show it
    source: tuple[int, ...] = ()     # Op.index of the source's ops (bleeding)
    explanation: str = ""            # one line of prose, built from the data above
    value: Mapping[str, object] = field(default_factory=dict)  # the offending values


@dataclass(frozen=True, slots=True)
class Anomaly:
    property: str                    # a key of the registry
    cls: AnomalyClass
    session: str | None              # the victim's server session id
    conversation: str                # the victim's conversation (history.Op.conversation)
    scenario: str
    victim: tuple[int, ...]          # Op.index of the victim's ops that show it
    source: tuple[int, ...] = ()     # Op.index of the source's ops (bleeding)
    explanation: str = ""            # one line of prose, built from the data above
    value: Mapping[str, object] = field(default_factory=dict)  # the offending values


@dataclass(frozen=True, slots=True)
class Checked:
    """What the run gave the checker to judge: a run that checked nothing must not pass."""

    operations: int = 0
    sessions: int = 0
    follow_ups: int = 0              # completed (ok) follow-up answers judged
    history_reads: int = 0


@dataclass(frozen=True)
class Verdict:
    valid: bool | Literal["unknown"]                     # "unknown": nothing could be checked
    anomalies: Mapping[str, tuple[Anomaly, ...]]        # property -> anomalies, only non-empty
    checked: Checked = Checked()
    # What the target's answers could show: the properties needing more were not judged.
    evidence: frozenset[Evidence] = ALL_EVIDENCE
    # Properties the caller allows: judged and reported, but their anomalies do not fail the run.
    allowed: frozenset[str] = frozenset()

    @property
    def count(self) -> int:
        return sum(len(found) for found in self.anomalies.values())

    @property
    def failing(self) -> Mapping[str, tuple[Anomaly, ...]]:
        """The anomalies that fail the run: those of properties not allowed."""
        return {name: found for name, found in self.anomalies.items() if name not in self.allowed}
