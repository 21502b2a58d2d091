"""What every report says the same way: each property's status and the verdict line.

Terms:
- *status* of a property (per scenario, or over the whole run): ``violated`` (the checker
  found anomalies of it), ``allowed`` (it found some, but the caller allows the property:
  ``--allow``, or a profile's ``[properties] allow``; reported, never failing), ``not_checkable`` (the target does not show all the evidence the
  property needs, so the checker did not judge it: "not checkable with this profile"),
  ``held`` (it was exercised and none were found) or ``not_exercised`` (the run produced
  nothing that property could be judged on, so it proves nothing either way). What a
  property needs and is exercised by comes from the oracle's registry.
- *verdict line*: ``PASS``, ``FAIL: bleeding N, loss M``, ``UNKNOWN: nothing was checked`` or
  ``ERROR: the harness failed: …``.

The dashboard, the summary, the JSON report and the JUnit file all read from here, so that
they cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from loadtest.history import Op
from loadtest.oracle import explain
from loadtest.oracle.model import Anomaly, Evidence
from loadtest.oracle.properties import PROPERTIES, REGISTRY, Exercise, exercised, missing_evidence
from loadtest.result import RunResult
from loadtest.thresholds import Threshold, ThresholdResult, evaluate, format_value

PropertyState = Literal["held", "violated", "allowed", "not_exercised", "not_checkable"]
Outcome = Literal["pass", "fail", "unknown", "error"]


@dataclass(frozen=True, slots=True)
class PropertyStatus:
    property: str
    cls: str                        # "bleeding" or "loss"
    description: str
    state: PropertyState
    count: int                      # anomalies found (0 unless violated)
    first: Anomaly | None = None    # the first witness, when violated
    missing: tuple[Evidence, ...] = ()  # the evidence the target does not show (not_checkable)


def known_properties() -> Mapping[str, tuple[str, str]]:
    """The oracle's ``PROPERTIES``: property -> (class, description)."""
    return PROPERTIES


def property_statuses(
    result: RunResult,
    *,
    scenario: str | None = None,
    properties: Mapping[str, tuple[str, str]] | None = None,
    evidence: Iterable[Evidence] | None = None,
) -> list[PropertyStatus]:
    """Every known property's status, in registry order, for one scenario or the run.

    ``evidence`` is what the target showed (default: what the verdict was judged with). A
    property the oracle reported but the registry does not list is appended, so that no
    anomaly can go unreported.
    """
    catalog = dict(properties if properties is not None else known_properties())
    anomalies = result.verdict.anomalies
    for name, found in anomalies.items():
        if name not in catalog and found:
            catalog[name] = (found[0].cls, "(not listed in the property registry)")
    shown = frozenset(evidence if evidence is not None else result.verdict.evidence)
    seen: Counter[Exercise] = exercised(result.ops, scenario=scenario) \
        if result.verdict.valid != "unknown" else Counter()
    statuses: list[PropertyStatus] = []
    for name, (cls, description) in catalog.items():
        mine = [a for a in anomalies.get(name, ()) if scenario is None or a.scenario == scenario]
        prop = REGISTRY.get(name)
        missing = missing_evidence(prop, shown) if prop is not None else ()
        if mine:
            # A found violation is proven, whatever the profile; the caller may allow it.
            state: PropertyState = "allowed" if name in result.verdict.allowed else "violated"
        elif missing:
            state = "not_checkable"
        else:
            state = "held" if seen[prop.exercise if prop is not None else "answers"] > 0 else "not_exercised"
        statuses.append(PropertyStatus(name, str(cls), description, state, len(mine),
                                       mine[0] if mine else None, missing))
    return statuses


def class_counts(result: RunResult) -> Counter[str]:
    """Anomalies that fail the run, by class: ``{"bleeding": N, "loss": M}`` (both keys always
    present; anomalies of allowed properties are not counted)."""
    counts: Counter[str] = Counter(bleeding=0, loss=0)
    for found in result.verdict.failing.values():
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
    allowed = [f"{name} ×{len(found)}" for name, found in result.verdict.anomalies.items()
               if name in result.verdict.allowed]
    return "PASS" + (f" (allowed: {', '.join(allowed)})" if allowed else "")


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


def witness_text(anomaly: Anomaly, ops: Mapping[int, Op], base_url: str | None,
                 replay: Callable[[Op, str], str | None] = explain.curl_for) -> tuple[str, str | None]:
    """The explanation of a witness (``explain.describe``) and a command to reproduce it
    (``replay``: the contract's curl, or a target profile's: ``report.replay.replay_for``)."""
    text = explain.describe(anomaly, ops)
    victim = next((ops[i] for i in anomaly.victim if i in ops), None)
    curl = replay(victim, base_url) if victim is not None and base_url else None
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
