"""foreign-anchor, refresh-leak (anchor), wrong-anchor, lost-context."""

from __future__ import annotations

from oracle_build import Builder, chat, sid, summary, tracks

from loadtest.history import Anchor
from loadtest.oracle import Anomaly, Checked, Verdict, check
from loadtest.oracle.explain import hash_id


def test_anchor_on_another_users_request_is_foreign_anchor_with_its_witness() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial")
    chat(h, "u2.c1", "s2", "Mk.gee")
    victim = h.more("u2.c1", "s2", anchor=burial[0], step="more3", tracks_=tracks("Mk.gee", start=9))
    assert check(h.ops) == Verdict(
        valid=False,
        anomalies={"foreign-anchor": (Anomaly(
            property="foreign-anchor", cls="bleeding", session=sid("s2"), conversation="u2.c1",
            scenario="chat", victim=(victim.index,), source=(burial[0].index,),
            explanation=(f"u2.c1 (session #{hash_id(sid('s2'))}) turn 4 'More tracks' anchored on"
                         f" u1.c1's request r0 'Songs by Burial' (session #{hash_id(sid('s1'))})"),
            value={"anchor_request_id": "r0", "anchor_turn": 1, "sent_by": "u1.c1"}),)},
        checked=Checked(operations=7, sessions=2, follow_ups=5, history_reads=0))


def test_anchor_on_a_request_nobody_sent_is_foreign_anchor_without_source() -> None:
    h = Builder()
    chat(h, "u1.c1", "s1", "Burial", pages=0)
    bogus = h.more("u1.c1", "s1", anchor=Anchor(turn=1, request_id="r-nobody"))
    assert summary(check(h.ops)) == (False, {"foreign-anchor": [("bleeding", "u1.c1", (bogus.index,), ())]})


def test_anchor_on_own_request_from_another_session_is_foreign_anchor() -> None:
    h = Builder()
    old = h.first("u1.c1", "s1", artist="Burial")
    # The session expired: the server started s2 and the follow-up must not reach back.
    h.first("u1.c1", "s2", step="again", sent="s1", created=True)
    late = h.more("u1.c1", "s2", anchor=old, expect_anchor="again")
    assert summary(check(h.ops)) == (False, {"foreign-anchor": [("bleeding", "u1.c1", (late.index,), (old.index,))]})


def test_follow_up_without_anchor_after_acknowledged_subject_is_lost_context() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    lost = h.more("u1.c1", "s1", anchor=None, tracks_=(), content=())
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"lost-context": [("loss", "u1.c1", (lost.index, first.index), ())]})
    assert verdict.anomalies["lost-context"][0].value == {"subject_request_id": "r0", "subject_turn": 1}


def test_no_anchor_is_fine_when_the_step_expects_none() -> None:
    h = Builder()
    h.first("u1.c1", "s1", artist="Burial")
    h.more("u1.c1", "s1", anchor=None, expect_anchor="none", tracks_=(), content=())
    assert check(h.ops).valid is True


def test_no_anchor_is_fine_when_the_subject_was_not_yet_acknowledged() -> None:
    h = Builder()
    # Sent together (two tabs): the first query's answer came back after the follow-up left.
    h.first("u1.c1", "s1", artist="Burial", at=(0.0, 5.0))
    h.more("u1.c1", "s1", anchor=None, tracks_=(), content=(), sent=True, at=(1.0, 2.0))
    assert check(h.ops).valid is True


def test_no_anchor_is_fine_once_history_limit_trimmed_the_subject_turn() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    for page in range(3):
        h.more("u1.c1", "s1", anchor=first, step=f"m{page}", tracks_=tracks("Burial", start=3 * (page + 1)))
    h.more("u1.c1", "s1", anchor=None, step="late", tracks_=(), content=())  # turn 5
    assert check(h.ops, history_limit=4).valid is True
    assert "lost-context" in check(h.ops).anomalies


def test_own_anchor_on_the_wrong_step_is_wrong_anchor() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", "Songs by Burial", artist="Burial")
    second = h.first("u1.c1", "s1", "Burial deep cuts", step="second")
    wrong = h.more("u1.c1", "s1", anchor=first, expect_anchor="second", content=())
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"wrong-anchor": [("loss", "u1.c1", (wrong.index, second.index, first.index), ())]})
    assert verdict.anomalies["wrong-anchor"][0].value == {
        "expected_step": "second", "expected_request_id": second.request_id, "anchor_request_id": first.request_id}


def test_an_anchor_where_none_is_expected_is_wrong_anchor() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    wrong = h.more("u1.c1", "s1", anchor=first, expect_anchor="none", content=())
    assert summary(check(h.ops)) == (False, {"wrong-anchor": [("loss", "u1.c1", (wrong.index, first.index), ())]})


def test_anchor_on_the_old_conversation_after_refresh_is_refresh_leak() -> None:
    h = Builder()
    old = chat(h, "u1.c1", "s1", "Burial", pages=1)
    h.delete("u1.c1", "s1")
    h.subject("u1.c2", artist="Burial")
    leak = h.more("u1.c2", "s2", anchor=old[0], expect_anchor="none", step="after-refresh")
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"refresh-leak": [("bleeding", "u1.c2", (leak.index,), (old[0].index,))]})
    assert verdict.anomalies["refresh-leak"][0].value["via"] == "anchor"


def test_clean_refresh_passes() -> None:
    h = Builder()
    chat(h, "u1.c1", "s1", "Burial", pages=1)
    h.delete("u1.c1", "s1")
    h.subject("u1.c2", artist="Burial")
    h.more("u1.c2", "s2", anchor=None, expect_anchor="none", tracks_=(), content=(),
           notice="nothing to follow up on")
    chat(h, "u1.c2", "s2", "Burial", pages=1, prefix="again")
    assert check(h.ops).valid is True


def test_a_first_query_answered_with_a_foreign_anchor_is_judged_too() -> None:
    h = Builder()
    burial = h.first("u1.c1", "s1", artist="Burial")
    odd = h.first("u2.c1", "s2", "Songs by Mk.gee", artist="Mk.gee")
    odd = type(odd)(**{**{f: getattr(odd, f) for f in odd.__dataclass_fields__},
                       "anchor": Anchor(turn=1, request_id=burial.request_id)})
    h.ops[odd.index] = odd
    h.more("u2.c1", "s2", anchor=odd)
    assert summary(check(h.ops)) == (False, {"foreign-anchor": [("bleeding", "u2.c1", (odd.index,), (burial.index,))]})


def test_an_anchor_on_an_own_turn_the_session_had_trimmed_is_stale_anchor() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    for page in range(2):
        h.more("u1.c1", "s1", anchor=first, step=f"m{page}", tracks_=tracks("Burial", start=3 * (page + 1)))
    stale = h.more("u1.c1", "s1", anchor=first, step="late", tracks_=tracks("Burial", start=9))  # turn 4 on turn 1
    verdict = check(h.ops, history_limit=2)   # answering turn 4, the session holds turns 2 and 3
    assert summary(verdict) == (False, {"stale-anchor": [("loss", "u1.c1", (stale.index, first.index), ())]})
    assert verdict.anomalies["stale-anchor"][0].value == {
        "anchor_request_id": first.request_id, "anchor_turn": 1, "history_limit": 2}
    assert check(h.ops, history_limit=3).valid is True   # turn 1 is still held
    assert check(h.ops).valid is True                    # nothing is ever trimmed


def test_an_anchor_on_an_own_request_of_unknown_outcome_is_never_wrong() -> None:
    # "Burial deep cuts" timed out, yet took effect: the follow-up rightly anchors on it,
    # although the scenario expected the first query (it assumed every request answered).
    h = Builder()
    first = h.first("u1.c1", "s1", "Songs by Burial", artist="Burial")
    lost = h.first("u1.c1", "s1", "Burial deep cuts", step="second", status="unknown", sent=True)
    h.more("u1.c1", "s1", anchor=Anchor(turn=2, request_id=lost.request_id), expect_anchor="first")
    h.more("u1.c1", "s1", anchor=Anchor(turn=2, request_id=lost.request_id), expect_anchor="none", step="none")
    assert check(h.ops).valid is True
    assert first.status == "ok"
