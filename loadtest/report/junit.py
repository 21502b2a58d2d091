"""JUnit XML for CI: one testcase per isolation property per scenario, plus thresholds.

Layout (the subset that Jenkins, GitLab, GitHub test reporters and Azure all read):

    <testsuites name="beatdebate" tests= failures= errors= skipped= time=>
      <testsuite name="beatdebate.isolation.<scenario>" ...>
        <testcase classname="beatdebate.isolation.<scenario>" name="<property>">
          <failure type="bleeding|loss" message="N violations: ...">witness + curl</failure>
          | <skipped message="not exercised ..."/>
          | <skipped message="not checkable with this profile: needs <evidence>"/>
      <testsuite name="beatdebate.thresholds"> one testcase per threshold
      <testsuite name="beatdebate.coverage"> one testcase per scenario: its follow-ups planned and
                                         checked (system-out); a <failure> where it falls short of a
                                         coverage threshold; <skipped> where it plans no follow-up
      <testsuite name="beatdebate.run"> "checked" (fails when nothing was checked) and
                                         "harness" (an error when the harness failed); with a
                                         nemesis, "faults" (its windows, in system-out)
A failure whose witness falls in a fault window of the nemesis ends with that window's note.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from loadtest.oracle.explain import fault_note
from loadtest.oracle.model import Evidence
from loadtest.report.replay import replay_for
from loadtest.report.status import (
    judge,
    ops_by_index,
    property_statuses,
    scenario_names,
    target_url,
    witness_text,
)
from loadtest.result import RunResult
from loadtest.thresholds import Threshold, ThresholdResult

ISOLATION_CLASS = "beatdebate.isolation"


def _suite(parent: ET.Element, name: str, timestamp: str, seconds: float) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=name, timestamp=timestamp, time=f"{seconds:.3f}")


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")


def _tally(element: ET.Element, cases: Iterable[ET.Element]) -> tuple[int, int, int, int]:
    tests = failures = errors = skipped = 0
    for case in cases:
        tests += 1
        failures += case.find("failure") is not None
        errors += case.find("error") is not None
        skipped += case.find("skipped") is not None
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("errors", str(errors))
    element.set("skipped", str(skipped))
    return tests, failures, errors, skipped


def build_junit(
    result: RunResult,
    *,
    thresholds: Iterable[Threshold | ThresholdResult] = (),
    base_url: str | None = None,
    properties: Mapping[str, tuple[str, str]] | None = None,
    evidence: Iterable[Evidence] | None = None,
) -> ET.ElementTree:
    """The JUnit tree; ``evidence`` is what the target showed (default: the verdict's)."""
    timestamp = dt.datetime.fromtimestamp(result.started_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", name="beatdebate", time=f"{result.elapsed:.3f}")
    ops = ops_by_index(result.ops)
    url = target_url(result, base_url)
    replay = replay_for(result.settings)
    for scenario in scenario_names(result):
        classname = f"{ISOLATION_CLASS}.{scenario}"
        suite = _suite(root, classname, timestamp, result.elapsed)
        for status in property_statuses(result, scenario=scenario, properties=properties, evidence=evidence):
            case = _case(suite, classname, status.property)
            if status.state == "allowed" and status.first is not None:
                # Reported, not failing: the caller allows this property (--allow, or the profile).
                out = ET.SubElement(case, "system-out")
                out.text = (f"allowed: {status.count} violation(s), not failing the run: "
                            f"{status.first.explanation or witness_text(status.first, ops, url)[0]}")
            elif status.first is not None:
                text, curl = witness_text(status.first, ops, url, replay)
                failure = ET.SubElement(case, "failure", type=status.cls,
                                        message=f"{status.count} violation(s): {status.first.explanation or text}")
                note = fault_note(status.first, ops, result.faults)
                failure.text = text + (f"\n  {note}" if note else "") + (f"\n\nreproduce:\n{curl}" if curl else "")
            elif status.state == "not_checkable":
                ET.SubElement(case, "skipped",
                              message=f"not checkable with this profile: needs {', '.join(status.missing)}")
            elif status.state == "not_exercised":
                ET.SubElement(case, "skipped", message=f"not exercised in {scenario}: {status.description}")
        _tally(suite, suite.iter("testcase"))

    judged = judge(result, thresholds)
    if judged:
        suite = _suite(root, "beatdebate.thresholds", timestamp, result.elapsed)
        for item in judged:
            case = _case(suite, "beatdebate.thresholds", item.threshold.text)
            if not item.passed:
                failure = ET.SubElement(case, "failure", type="threshold",
                                        message=f"{item.threshold.text}: observed {item.observed_text}"
                                                + (f" ({item.note})" if item.note else ""))
                failure.text = failure.get("message")
        _tally(suite, suite.iter("testcase"))

    if result.coverage:
        _coverage_suite(root, result, judged, timestamp)

    # A run that checked nothing, or whose harness failed, must not read as green in CI.
    suite = _suite(root, "beatdebate.run", timestamp, result.elapsed)
    checked = _case(suite, "beatdebate.run", "checked")
    if result.verdict.valid == "unknown":
        ET.SubElement(checked, "failure", type="unknown", message="nothing was checked: the verdict is unknown")
    harness = _case(suite, "beatdebate.run", "harness")
    if result.faults:   # what the nemesis did, for whoever reads a failure above
        ET.SubElement(_case(suite, "beatdebate.run", "faults"), "system-out").text = "\n".join(
            f"{w.name} {w.start:.1f}–{w.end:.1f} s: {w.detail}" for w in result.faults)
    if result.harness_error is not None:
        error = ET.SubElement(harness, "error", type="harness", message=result.harness_error)
        error.text = result.harness_error
    _tally(suite, suite.iter("testcase"))
    _tally(root, root.iter("testcase"))
    ET.indent(root)
    return ET.ElementTree(root)


def _coverage_suite(root: ET.Element, result: RunResult, judged: Sequence[ThresholdResult], timestamp: str) -> None:
    """One test case per scenario (``loadtest.coverage``): which one fell short of a coverage
    threshold, so that CI names the scenario whose conversations stopped before their follow-ups."""
    classname = "beatdebate.coverage"
    suite = _suite(root, classname, timestamp, result.elapsed)
    limits = [item.threshold for item in judged if item.threshold.metric == "coverage"]
    for name in sorted(result.coverage):
        entry = result.coverage[name]
        case = _case(suite, classname, name)
        counts = (f"conversations: {entry.started} started, {entry.completed} completed, {entry.failed} failed, "
                  f"{entry.cut} cut by the run's end; {entry.describe()}")
        if not entry.applicable or entry.share is None:
            ET.SubElement(case, "skipped", message=entry.describe())
            continue
        share = entry.share
        breached = [limit for limit in limits if not limit.holds(share)]
        if breached:
            failure = ET.SubElement(case, "failure", type="coverage",
                                    message=f"coverage {share:.1%} breaches {', '.join(t.text for t in breached)}")
            failure.text = counts
        else:
            ET.SubElement(case, "system-out").text = counts
    _tally(suite, suite.iter("testcase"))


def write_junit(
    result: RunResult,
    path: Path,
    *,
    thresholds: Iterable[Threshold | ThresholdResult] = (),
    base_url: str | None = None,
    properties: Mapping[str, tuple[str, str]] | None = None,
    evidence: Iterable[Evidence] | None = None,
) -> None:
    """Write the JUnit XML file to ``path`` (parents created)."""
    tree = build_junit(result, thresholds=thresholds, base_url=base_url, properties=properties,
                       evidence=evidence)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
