"""What every report says the same way: each property's status and the verdict line.

Terms:
- *status* of a property (per scenario, or over the whole run): ``violated`` (the checker
  found anomalies of it), ``held`` (it was exercised and none were found) or
  ``not_exercised`` (the run produced nothing that property could be judged on, so it
  proves nothing either way).
- *verdict line*: ``PASS``, ``FAIL: bleeding N, loss M``, ``UNKNOWN: nothing was checked`` or
  ``ERROR: the harness failed: …``.

The dashboard, the summary, the JSON report and the JUnit file all read from here, so that
they cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from loadtest.history import Op
from loadtest.oracle import explain
from loadtest.oracle.model import PROPERTIES, Anomaly
from loadtest.result import RunResult
from loadtest.thresholds import Threshold, ThresholdResult, evaluate, format_value

PropertyState = Literal["held", "violated", "not_exercised"]
Outcome = Literal["pass", "fail", "unknown", "error"]


@dataclass(frozen=True, slots=True)
class PropertyStatus:
    property: str
    cls: str                        # "bleeding" or "loss"
    description: str
    state: PropertyState
    count: int                      # anomalies found (0 unless violated)
    first: Anomaly | None = None    # the first witness, when violated


def known_properties() -> Mapping[str, tuple[str, str]]:
    """The oracle's ``PROPERTIES``: property -> (class, description)."""
    return PROPERTIES


Need = Literal["answers", "follow_ups", "history_reads", "refreshes", "client_ids"]

# What a property needs before a run may claim that it held: a property judged on
# follow-up answers proves nothing in a run without follow-ups, one judged on recorded
# history needs a history read. A property not listed needs an answer.
_NEEDS: Mapping[str, Need] = {
    "foreign-request-id": "history_reads",
    "foreign-anchor": "follow_ups",
    "foreign-content": "follow_ups",
    "refresh-leak": "refreshes",
    "adopted-client-id": "client_ids",
    "missing-turn": "history_reads",
    "turn-gap": "history_reads",
    "lost-context": "follow_ups",
    "wrong-anchor": "follow_ups",
    "off-subject": "follow_ups",
    "repeated-track": "follow_ups",
}


def _exercise(ops: Sequence[Op], scenario: str | None) -> Counter[Need]:
    """How many ok operations of each kind the run (or one scenario) gave the checker."""
    seen: Counter[Need] = Counter()
    for op in ops:
        if op.status != "ok" or (scenario is not None and op.scenario != scenario):
            continue
        if op.action == "recommend":
            seen["answers"] += 1
            seen["follow_ups"] += op.is_follow_up
            # A request carrying an id the server must not adopt (made-up or expired).
            seen["client_ids"] += op.session_sent is not None and op.expect.new_session is True
        elif op.action == "read_history":
            seen["history_reads"] += 1
        elif op.action == "delete_session":
            seen["refreshes"] += 1
    return seen


def property_statuses(
    result: RunResult,
    *,
    scenario: str | None = None,
    properties: Mapping[str, tuple[str, str]] | None = None,
) -> list[PropertyStatus]:
    """Every known property's status, in ``PROPERTIES`` order, for one scenario or the run.

    A property the oracle reported but ``PROPERTIES`` does not list is appended, so that
    no anomaly can go unreported.
    """
    catalog = dict(properties if properties is not None else known_properties())
    anomalies = result.verdict.anomalies
    for name, found in anomalies.items():
        if name not in catalog and found:
            catalog[name] = (found[0].cls, "(not listed in PROPERTIES)")
    seen = _exercise(result.ops, scenario) if result.verdict.valid != "unknown" else Counter()
    statuses: list[PropertyStatus] = []
    for name, (cls, description) in catalog.items():
        mine = [a for a in anomalies.get(name, ()) if scenario is None or a.scenario == scenario]
        if mine:
            state: PropertyState = "violated"
        else:
            state = "held" if seen[_NEEDS.get(name, "answers")] > 0 else "not_exercised"
        statuses.append(PropertyStatus(name, str(cls), description, state, len(mine),
                                       mine[0] if mine else None))
    return statuses


def class_counts(result: RunResult) -> Counter[str]:
    """Anomalies by class: ``{"bleeding": N, "loss": M}`` (both keys always present)."""
    counts: Counter[str] = Counter(bleeding=0, loss=0)
    for found in result.verdict.anomalies.values():
        for anomaly in found:
            counts[anomaly.cls] += 1
    return counts


def outcome(result: RunResult) -> Outcome:
    """The isolation outcome: a found violation outranks a harness failure (it is proven)."""
    if result.verdict.valid is False:
        return "fail"
    if result.harness_error is not None:
        return "error"
    if result.verdict.valid == "unknown":
        return "unknown"
    return "pass"


def verdict_line(result: RunResult) -> str:
    """``PASS`` / ``FAIL: bleeding N, loss M`` / ``UNKNOWN: nothing was checked`` / ``ERROR: …``."""
    state = outcome(result)
    if state == "fail":
        counts = class_counts(result)
        return f"FAIL: bleeding {counts['bleeding']}, loss {counts['loss']}"
    if state == "error":
        return f"ERROR: the harness failed: {result.harness_error}"
    if state == "unknown":
        return "UNKNOWN: nothing was checked"
    return "PASS"


def scenario_names(result: RunResult) -> list[str]:
    """The scenarios run, then any that only anomalies name, in first-seen order."""
    names = list(dict.fromkeys(result.scenarios))
    for found in result.verdict.anomalies.values():
        for anomaly in found:
            if anomaly.scenario not in names:
                names.append(anomaly.scenario)
    return names


def ops_by_index(ops: Sequence[Op]) -> Mapping[int, Op]:
    return {op.index: op for op in ops}


def witness_text(anomaly: Anomaly, ops: Mapping[int, Op], base_url: str | None) -> tuple[str, str | None]:
    """The explanation of a witness (``explain.describe``) and a curl command to reproduce it."""
    text = explain.describe(anomaly, ops)
    victim = next((ops[i] for i in anomaly.victim if i in ops), None)
    curl = explain.curl_for(victim, base_url) if victim is not None and base_url else None
    return text, curl


def target_url(result: RunResult, base_url: str | None) -> str | None:
    """The base URL a curl should use: the one given, else the run's target if it is a URL."""
    if base_url:
        return base_url
    return result.target if result.target.startswith(("http://", "https://")) else None


def format_ms(seconds: float) -> str:
    """A latency as a number of milliseconds: 3 significant digits below 100 ms, whole above."""
    return format_value("latency", seconds).removesuffix("ms")


def judge(result: RunResult, thresholds: Iterable[Threshold | ThresholdResult]) -> list[ThresholdResult]:
    """Thresholds as judged results: already-judged ones kept, the others evaluated now."""
    return [item if isinstance(item, ThresholdResult) else evaluate([item], result)[0] for item in thresholds]
