"""Coverage: how many of the follow-ups a run's scenarios plan it really got to check.

A run can hold every isolation property and still prove little: against a service that fails
most requests, conversations stop at their first failed request and never reach the
follow-ups that isolation is judged on (issue 12, "no hollow pass"). Coverage says how far
they got, per scenario; the gate's default ``coverage>=90%`` threshold (``loadtest.thresholds``)
fails a run whose conversations mostly stopped short.

Terms:
- *conversation*: one run of a scenario's steps by a virtual user (``Scenario.conversations``
  of them per iteration). A refresh inside it starts a new chat (``Op.conversation``), not a
  new conversation here.
- *planned follow-ups*: the follow-up requests one conversation sends when every request is
  answered: each query step that expects a follow-up (``expect.follow_up``), times its
  ``concurrent`` copies. A scenario with none plans nothing: its coverage is *not applicable*,
  never a failure.
- *outcome* of a conversation: ``completed`` (it ran every step), ``failed`` (a virtual user
  abandons a conversation at its first failed or unanswered request: ``loadtest.users``) or
  ``cut`` (the run's end cancelled it: past the drain time, or a harness error).
- *checked*: the planned follow-ups that were answered ``ok``, which the checker judges.
- *share* of a scenario: checked / planned, over its completed and failed conversations. Cut
  ones are left out: the run's end, not the target, stopped them (they are rare: past the
  deadline a conversation under way runs to its end without thinking, and only what is still
  running ``drain_timeout`` later is cancelled).

Pure records and one small counter; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from loadtest.scenario import QueryStep, Scenario

ConversationOutcome = Literal["completed", "failed", "cut"]


def planned_follow_ups(scenario: Scenario) -> int:
    """The follow-up requests one conversation of ``scenario`` sends when all are answered."""
    return sum(step.concurrent for step in scenario.steps
               if isinstance(step, QueryStep) and step.expect.follow_up is not None)


@dataclass(frozen=True, slots=True)
class ScenarioCoverage:
    """One scenario's conversations and follow-ups (see the module doc for the terms)."""

    scenario: str
    per_conversation: int            # follow-ups one conversation plans (0: not applicable)
    completed: int = 0
    failed: int = 0
    cut: int = 0
    planned: int = 0                 # planned by the completed and failed conversations
    checked: int = 0                 # of those, answered ok

    @property
    def started(self) -> int:
        return self.completed + self.failed + self.cut

    @property
    def applicable(self) -> bool:
        """Whether the scenario plans any follow-up at all."""
        return self.per_conversation > 0

    @property
    def share(self) -> float | None:
        """checked / planned; ``None`` when nothing was planned (not applicable, or no
        conversation of the scenario completed or failed)."""
        return self.checked / self.planned if self.planned else None

    def describe(self) -> str:
        """``"12 of 40 planned follow-ups checked (30%)"``, or why there is no share."""
        if not self.applicable:
            return "not applicable: the scenario plans no follow-up"
        if self.share is None:
            return "no conversation completed or failed (none started, or all were cut by the run's end)"
        return f"{self.checked:,} of {self.planned:,} planned follow-ups checked ({self.share:.0%})"


class CoverageTally:
    """Counts conversations as virtual users end them: one per run, shared by its users (who
    share one event loop, so plain counters suffice)."""

    def __init__(self, scenarios: Iterable[Scenario] = ()) -> None:
        self._by_name: dict[str, ScenarioCoverage] = {}
        for scenario in scenarios:
            self._entry(scenario)

    def _entry(self, scenario: Scenario) -> ScenarioCoverage:
        found = self._by_name.get(scenario.name)
        if found is None:
            found = self._by_name[scenario.name] = ScenarioCoverage(scenario.name, planned_follow_ups(scenario))
        return found

    def record(self, scenario: Scenario, outcome: ConversationOutcome, *, checked: int) -> None:
        """One conversation of ``scenario`` ended as ``outcome``, with ``checked`` planned
        follow-ups answered ok."""
        entry = self._entry(scenario)
        if outcome == "cut":
            self._by_name[scenario.name] = replace(entry, cut=entry.cut + 1)
            return
        self._by_name[scenario.name] = replace(
            entry, completed=entry.completed + (outcome == "completed"), failed=entry.failed + (outcome == "failed"),
            planned=entry.planned + entry.per_conversation, checked=entry.checked + checked)

    def result(self) -> dict[str, ScenarioCoverage]:
        """Scenario name -> its coverage so far, in the order the scenarios were first seen."""
        return dict(self._by_name)


def lowest(coverage: Mapping[str, ScenarioCoverage]) -> ScenarioCoverage | None:
    """The applicable scenario with the lowest share (the first of equals), or ``None`` when
    no applicable scenario has a share."""
    measured = [entry for entry in coverage.values() if entry.applicable and entry.share is not None]
    return min(measured, key=lambda entry: entry.share or 0.0) if measured else None


__all__ = ["ConversationOutcome", "CoverageTally", "ScenarioCoverage", "lowest", "planned_follow_ups"]
