"""The checker's records: an anomaly with its witness, and a verdict.

Terms:
- *property*: one isolation rule, named in the contract's words (``foreign-anchor``,
  ``missing-turn``, ``repeated-track`` …); ``PROPERTIES`` lists them all with their class.
- *class*: ``bleeding`` (a session saw foreign content) or ``loss`` (a session lost its own).
- *witness*: the operations that prove an anomaly: ``victim`` (ops of the session that
  suffered) and, for bleeding, ``source`` (ops of the session the content came from).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

AnomalyClass = Literal["bleeding", "loss"]


@dataclass(frozen=True, slots=True)
class Anomaly:
    property: str                    # a key of PROPERTIES
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

    @property
    def count(self) -> int:
        return sum(len(found) for found in self.anomalies.values())


# Every property the checker judges, in report order: class and one line for reports and
# JUnit (one test case each). Stable: a name here is part of the report format.
PROPERTIES: Mapping[str, tuple[AnomalyClass, str]] = {
    "foreign-request-id": ("bleeding", "a history read of a session lists a request sent in another conversation"),
    "foreign-anchor": ("bleeding", "a follow-up is anchored on a request that is not an earlier turn of its own session"),
    "foreign-content": ("bleeding", "a follow-up's tracks fit another conversation's subject instead of its own"),
    "refresh-leak": ("bleeding", "after a refresh, the new session follows up on, or shows, the old session's subject"),
    "adopted-client-id": ("bleeding", "the server answered under a session id that it never minted (a client's made-up id)"),
    "id-collision": ("bleeding", "one session id was created for, or answered to, two different conversations"),
    "weak-id": ("bleeding", "server-minted session ids are short, sequential or share a long prefix"),
    "nondeterministic-answer": ("bleeding", "two sessions that sent the same queries got different tracks (primary path)"),
    "missing-turn": ("loss", "an acknowledged turn is absent from a later history read while still in its window"),
    "duplicate-turn": ("loss", "two answers of a session share a turn number, or a history lists a request twice"),
    "turn-gap": ("loss", "a history's turns are not consecutive up to turn_count, or it counts fewer turns than were acknowledged"),
    "lost-context": ("loss", "a follow-up found nothing to follow up on although its session had a subject turn"),
    "wrong-anchor": ("loss", "a follow-up is anchored on its own session's turn, but not the one the scenario expects"),
    "off-subject": ("loss", "a follow-up's tracks fit neither its own subject nor any other conversation's"),
    "repeated-track": ("loss", "a track is shown twice among an anchor's page and the follow-up pages after it"),
    "expectation-failed": ("loss", "an answer's intent kind, follow-up kind or session_created is not what the step expects"),
}
