"""The property registry: its entries, checkable(), evidence gating, validity, and the docs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from oracle_build import Builder, chat, summary

from loadtest.history import Expect
from loadtest.oracle import ALL_EVIDENCE, PROPERTIES, REGISTRY, Evidence, IncrementalChecker, check, checkable
from loadtest.oracle.model import EVIDENCE, Finding
from loadtest.oracle.properties import Exercise, exercised, missing_evidence

DOC = Path(__file__).parents[3] / "docs" / "report-schema.md"
# What the original BeatDebate back end shows (no turns, anchors, history, server-minted ids).
ORIGINAL: frozenset[Evidence] = frozenset(
    {"session_id", "follow_up", "intent", "item_ids", "item_subjects", "deterministic"})


def test_every_entry_is_complete_and_the_registry_is_in_report_order() -> None:
    assert list(REGISTRY) == list(PROPERTIES)
    for name, prop in REGISTRY.items():
        assert prop.name == name and PROPERTIES[name] == (prop.cls, prop.description)
        assert prop.evidence and prop.evidence <= ALL_EVIDENCE, name
        assert prop.exercise in get_args(Exercise), name
    classes = [prop.cls for prop in REGISTRY.values()]
    assert classes == sorted(classes, key=("bleeding", "loss").index)   # bleeding first, then loss


def test_checkable_names_the_properties_a_target_can_be_judged_on_in_report_order() -> None:
    assert checkable(ALL_EVIDENCE) == tuple(REGISTRY)
    assert checkable(frozenset()) == ()
    assert checkable({"text"}) == ("foreign-canary", "lost-canary")
    assert checkable(ORIGINAL) == ("foreign-content", "refresh-leak", "adopted-client-id", "id-collision",
                                   "nondeterministic-answer", "off-subject", "expectation-failed")
    assert missing_evidence(REGISTRY["stale-anchor"], ORIGINAL) == ("turn", "anchor")


def test_a_property_whose_evidence_is_not_shown_is_not_judged() -> None:
    h = Builder()
    h.first("u1.c1", "s1", artist="Burial")
    h.more("u1.c1", "s1", anchor=None, tracks_=(), content=())
    assert list(check(h.ops).anomalies) == ["lost-context"]
    # A target without anchors: every follow-up lacks one, which proves nothing.
    verdict = check(h.ops, evidence=ALL_EVIDENCE - {"anchor"})
    assert verdict.anomalies == {} and verdict.evidence == ALL_EVIDENCE - {"anchor"}


def test_an_expectation_on_what_the_target_does_not_show_is_not_judged() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", kind="discovery",
                    expect=Expect(kind="by_artist", new_session=False))
    h.more("u1.c1", "s1", anchor=first)
    assert check(h.ops).anomalies["expectation-failed"][0].value == {
        "kind": {"expected": "by_artist", "actual": "discovery"},
        "session_created": {"expected": False, "actual": True}}
    verdict = check(h.ops, evidence=ALL_EVIDENCE - {"session_created"})
    assert verdict.anomalies["expectation-failed"][0].value == {"kind": {"expected": "by_artist", "actual": "discovery"}}


def test_a_verdict_of_a_property_not_judged_hides_nothing() -> None:
    h = Builder()
    old = chat(h, "u1.c1", "s1", "Burial", pages=1)
    h.delete("u1.c1", "s1")
    h.subject("u1.c2", artist="Burial")
    leak = h.more("u1.c2", "s2", anchor=old[0], expect_anchor="none", step="after-refresh")
    assert summary(check(h.ops)) == (False, {"refresh-leak": [("bleeding", "u1.c2", (leak.index,), (old[0].index,))]})
    # Without item subjects refresh-leak is not judged: the anchor on another conversation is foreign.
    assert summary(check(h.ops, evidence=ALL_EVIDENCE - {"item_subjects"})) == (
        False, {"foreign-anchor": [("bleeding", "u1.c2", (leak.index,), (old[0].index,))]})


def test_observe_reports_nothing_early_for_a_property_it_does_not_judge() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial", pages=0)
    chat(h, "u2.c1", "s2", "Mk.gee", pages=0)
    h.more("u2.c1", "s2", anchor=burial[0])
    checker = IncrementalChecker(evidence=ALL_EVIDENCE - {"anchor"})
    assert [anomaly for op in h.ops for anomaly in checker.observe(op)] == []
    assert "foreign-anchor" not in checker.finish().anomalies
    assert "foreign-anchor" in check(h.ops).anomalies


def test_a_run_must_judge_something_its_target_can_show() -> None:
    h = Builder()
    chat(h, "u1.c1", "s1", "Burial", pages=1)
    assert check(h.ops).valid is True
    assert check(h.ops, evidence=frozenset()).valid == "unknown"       # nothing checkable
    assert check(h.ops, evidence={"text"}).valid == "unknown"          # no canary planted
    h.say("u1.c1", "s1", "Remember cnaaaaaaaaaa", text="Noted.", canary="cnaaaaaaaaaa")
    assert check(h.ops, evidence={"text"}).valid is True
    first_queries = Builder()
    first_queries.first("u1.c1", "s1", artist="Burial")
    assert check(first_queries.ops, evidence=ORIGINAL).valid == "unknown"   # follow-ups checkable, none sent


def test_exercised_counts_completed_operations_of_each_kind() -> None:
    h = Builder()
    chat(h, "u1.c1", "s1", "Burial", pages=1)
    # Not answered as a follow-up, but the step expects one: it still exercises follow-ups.
    h.more("u1.c1", "s1", anchor=None, follow_up=None, expect=Expect(follow_up="more_tracks"), step="lost")
    h.read("u1.c1", "s1")
    h.delete("u1.c1", "s1")
    h.say("u2.c1", "s2", "Remember cnaaaaaaaaaa", text="Noted.", canary="cnaaaaaaaaaa")
    h.first("u3.c1", "s3", status="fail")
    assert exercised(h.ops) == {"answers": 4, "follow_ups": 2, "history_reads": 1, "refreshes": 1,
                                "client_ids": 0, "canaries": 1}
    assert exercised(h.ops, scenario="other") == {}


def test_a_detector_reporting_another_property_is_refused() -> None:
    finding = Finding(property="lost-context", session=None, conversation="u1.c1", scenario="chat", victim=(0,))
    assert REGISTRY["lost-context"].anomaly(finding).cls == "loss"
    with pytest.raises(ValueError, match="the wrong-anchor detector reported a lost-context finding"):
        REGISTRY["wrong-anchor"].anomaly(finding)


def test_every_finding_of_a_busy_history_belongs_to_its_detector() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial")
    chat(h, "u2.c1", "s2", "Mk.gee")
    h.more("u2.c1", "s2", anchor=burial[0], step="leak")
    h.more("u1.c1", "s1", anchor=None, tracks_=(), content=(), step="lost")
    h.read("u1.c1", "s1", recorded=[burial[0]], turn_count=1)
    found = summary(check(h.ops, history_limit=50))[1]
    assert set(found) == {"foreign-anchor", "lost-context", "missing-turn", "turn-gap"}


def _table(heading: str, first_column: str) -> list[list[str]]:
    """The rows of the first table under ``heading`` whose header starts with ``first_column``."""
    text = DOC.read_text()
    section = text[text.index(heading):]
    start = section.index(f"| {first_column} |")
    rows = []
    for line in section[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_the_docs_list_the_registry() -> None:
    rows = _table("## Properties", "property")
    assert [(_names(name), cls, _names(needs), _names(exercise), description)
            for name, cls, needs, exercise, description in rows] == [
        ([prop.name], prop.cls, [item for item in EVIDENCE if item in prop.evidence], [prop.exercise],
         prop.description) for prop in REGISTRY.values()]
    assert [_names(row[0]) for row in _table("## Properties", "evidence")] == [[item] for item in EVIDENCE]
    assert [_names(row[0]) for row in _table("## Properties", "exercise")] == [[item] for item in get_args(Exercise)]
