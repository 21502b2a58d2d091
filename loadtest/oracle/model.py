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
