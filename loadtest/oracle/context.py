"""The context of one check: what every detector reads, and what detectors share.

Terms:
- *shared judgement*: a judgement that several properties read, made once per check
  (``Context.shared``). Each follow-up gets one anchor verdict (``foreign-anchor``,
  ``refresh-leak``, ``wrong-anchor`` or ``lost-context``), each answer one content verdict;
  a property's detector reports the verdicts of its own name, and a later judgement that
  must not report an op twice (``off-subject`` after ``lost-context``, ``foreign-content``
  after ``refresh-leak``) reads the earlier one through ``shared`` too. So the order in
  which detectors run does not matter, and every dependency is a visible call.
- *judged*: the properties this check reports (those the evidence makes checkable). A
  verdict of a property that is not judged never hides an op from another property: it
  would be reported nowhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from loadtest.oracle.index import HistoryIndex
from loadtest.oracle.model import Evidence

T = TypeVar("T")


class Context:
    """One check's tables (``ix``), its ``history_limit``, the ``evidence`` the target shows,
    the properties ``judged``, and the shared judgements made so far."""

    def __init__(self, ix: HistoryIndex, *, history_limit: int | None, evidence: frozenset[Evidence],
                 judged: frozenset[str]) -> None:
        self.ix = ix
        self.history_limit = history_limit
        self.evidence = evidence
        self.judged = judged
        self._shared: dict[Callable[[Context], object], object] = {}

    def shared(self, judgement: Callable[[Context], T]) -> T:
        """``judgement(self)``, made on first use and kept for every later caller."""
        if judgement not in self._shared:
            self._shared[judgement] = judgement(self)
        return cast(T, self._shared[judgement])
