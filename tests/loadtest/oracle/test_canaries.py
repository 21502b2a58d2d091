"""foreign-canary and lost-canary (oracle/canaries.py), judged as for a chat app: text only."""

from __future__ import annotations

from dataclasses import replace

from oracle_build import Builder, sid, summary

from loadtest.history import Op
from loadtest.oracle import Anomaly, Checked, Evidence, Verdict, check
from loadtest.oracle.explain import hash_id

TEXT_ONLY: frozenset[Evidence] = frozenset({"text"})
A = "cnaaaaaaaaaa"      # canaries as loadtest.canary makes them: "cn" and 10 base32 letters
B = "cnbbbbbbbbbb"
RECALL = "What code word did I give you?"


def _plant(h: Builder, conv: str, session: str, canary: str, **kwargs: object) -> Op:
    return h.say(conv, session, f"Remember this code word: {canary}", text="Noted.", canary=canary,
                 step="plant", **kwargs)  # type: ignore[arg-type]


def _recall(h: Builder, conv: str, session: str, canary: str, text: str) -> Op:
    return h.say(conv, session, RECALL, text=text, canary=canary, expect_canary=True, step="recall")


def test_another_conversations_canary_in_an_answer_is_foreign_canary_with_its_witness() -> None:
    h = Builder()
    planted = _plant(h, "u1.c1", "s1", A)
    _plant(h, "u2.c1", "s2", B)
    victim = _recall(h, "u2.c1", "s2", B, f"You gave me {B}. Someone else said ({A}).")
    assert check(h.ops, evidence=TEXT_ONLY) == Verdict(
        valid=False,
        anomalies={"foreign-canary": (Anomaly(
            property="foreign-canary", cls="bleeding", session=sid("s2"), conversation="u2.c1",
            scenario="chat", victim=(victim.index,), source=(planted.index,),
            explanation=(f"u2.c1 (session #{hash_id(sid('s2'))}) turn 2 {RECALL!r} answered with u1.c1's"
                         f" canary, planted by u1.c1's request r0 'Remember this code word: {A}'"),
            value={"canary": A, "planted_by": "u1.c1"}),)},
        checked=Checked(operations=3, sessions=2, follow_ups=0, history_reads=0),
        evidence=TEXT_ONLY)


def test_each_conversation_getting_its_own_canary_back_holds() -> None:
    h = Builder()
    _plant(h, "u1.c1", "s1", A)
    _plant(h, "u2.c1", "s2", B)
    _recall(h, "u1.c1", "s1", A, f"Your code word is {A}.")
    _recall(h, "u2.c1", "s2", B, f"It was {B}!")
    assert check(h.ops, evidence=TEXT_ONLY).valid is True


def test_an_answer_without_its_own_canary_is_lost_canary() -> None:
    h = Builder()
    planted = _plant(h, "u1.c1", "s1", A)
    forgot = _recall(h, "u1.c1", "s1", A, "I do not remember any code word.")
    verdict = check(h.ops, evidence=TEXT_ONLY)
    assert summary(verdict) == (False, {"lost-canary": [("loss", "u1.c1", (forgot.index, planted.index), ())]})
    assert verdict.anomalies["lost-canary"][0].value == {"canary": A, "planted_request_id": planted.request_id}


def test_an_empty_answer_has_lost_its_canary_but_one_without_text_is_not_judged() -> None:
    h = Builder()
    _plant(h, "u1.c1", "s1", A)
    _recall(h, "u1.c1", "s1", A, "")
    assert list(check(h.ops, evidence=TEXT_ONLY).anomalies) == ["lost-canary"]
    h.ops[-1] = replace(h.ops[-1], text=None)   # a target whose answers carry no text at all
    assert check(h.ops, evidence=TEXT_ONLY).anomalies == {}


def test_a_canary_the_target_never_acknowledged_cannot_be_lost() -> None:
    h = Builder()
    _plant(h, "u1.c1", "s1", A, status="fail")
    _recall(h, "u1.c1", "s1", A, "Which code word?")
    # Asked for while its plant was still in flight: the target may not have held it yet.
    _plant(h, "u2.c1", "s2", B, at=(10.0, 13.0))
    h.say("u2.c1", "s2", RECALL, text="Which code word?", canary=B, expect_canary=True, at=(12.0, 12.5))
    assert "lost-canary" not in check(h.ops, evidence=TEXT_ONLY).anomalies


def test_the_canary_of_the_conversation_before_a_refresh_is_foreign() -> None:
    h = Builder()
    planted = _plant(h, "u1.c1", "s1", A)
    h.delete("u1.c1", "s1")
    leak = h.say("u1.c2", "s2", "Hello again", text=f"Welcome back! Your code word was {A}.")
    assert summary(check(h.ops, evidence=TEXT_ONLY)) == (
        False, {"foreign-canary": [("bleeding", "u1.c2", (leak.index,), (planted.index,))]})
