"""adopted-client-id, id-collision, weak-id (oracle/ids.py)."""

from __future__ import annotations

from oracle_build import Builder, chat, sid, summary

from loadtest.oracle import check
from loadtest.oracle.ids import made_up_ids
from loadtest.oracle.index import build_index


def test_an_answer_under_a_made_up_id_is_adopted_client_id() -> None:
    h = Builder()
    chat(h, "u1.c1", "s1", "Burial", pages=1)
    forged = h.first("u2.c1", "forged", "Songs by Mk.gee", artist="Mk.gee", sent="forged", created=True)
    later = h.more("u2.c1", "forged", anchor=forged, tracks_=None)
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"adopted-client-id": [
        ("bleeding", "u2.c1", (forged.index, later.index), (forged.index,))]})
    anomaly = verdict.anomalies["adopted-client-id"][0]
    assert anomaly.session == sid("forged")
    assert sid("forged") not in anomaly.explanation


def test_a_made_up_id_replaced_by_a_new_one_passes() -> None:
    h = Builder()
    first = h.first("u1.c1", "fresh", artist="Burial", sent="forged", created=True)
    h.more("u1.c1", "fresh", anchor=first)
    assert check(h.ops).valid is True


def test_an_expired_id_sent_again_is_not_made_up() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    h.more("u1.c1", "s1", anchor=first)
    ix = build_index(h.ops, {op.request_id: op for op in h.ops})
    assert made_up_ids(ix) == {}


def test_two_conversations_told_session_created_for_one_id_is_id_collision() -> None:
    h = Builder()
    a = chat(h, "u1.c1", "s1", "Burial", pages=1)
    b = h.first("u2.c1", "s1", "Songs by Burial", artist="Burial", created=True, turn=1,
                request_id="r-b")
    verdict = check(h.ops)
    found = summary(verdict)[1]
    assert found["id-collision"] == [("bleeding", "u2.c1", (b.index,), (a[0].index,))]
    assert verdict.anomalies["id-collision"][0].value == {"owner": "u1.c1", "intruder": "u2.c1", "created_twice": True}
    # Both were answered as turn 1 of one session: a lost update too.
    assert set(found) == {"id-collision", "duplicate-turn"}


def test_a_conversation_answered_in_someone_elses_session_is_id_collision() -> None:
    h = Builder()
    a = chat(h, "u1.c1", "s1", "Burial", pages=0)
    b = h.first("u2.c1", "s1", "Songs by Mk.gee", artist="Mk.gee", created=False)
    assert summary(check(h.ops)) == (False, {"id-collision": [("bleeding", "u2.c1", (b.index,), (a[0].index,))]})


def test_short_ids_are_weak() -> None:
    h = Builder()
    chat(h, "u1.c1", "=abc123", "Burial", pages=1)
    chat(h, "u2.c1", "=xyz789", "Mk.gee", pages=1)
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"weak-id": [("bleeding", "u1.c1", (0, 2), ())]})
    anomaly = verdict.anomalies["weak-id"][0]
    assert anomaly.session is None
    assert anomaly.value["reasons"] == ["2 id(s) shorter than 22 characters (shortest 6)"]
    assert "abc123" not in anomaly.explanation and "abc123" not in str(anomaly.value)


def test_sequential_ids_are_weak() -> None:
    h = Builder()
    for n in range(25):
        h.first(f"u{n}.c1", f"=session-counter-{n:020d}", artist="Burial", tracks_=())
    verdict = check(h.ops)
    reasons = verdict.anomalies["weak-id"][0].value["reasons"]
    assert reasons == ["24 of 24 consecutive ids increase (sequential)",
                       "25 of 25 ids share a 34-character prefix"]
    assert len(verdict.anomalies["weak-id"]) == 1


def test_ids_sharing_a_long_prefix_are_weak() -> None:
    h = Builder()
    for n in range(3):
        h.first(f"u{n}.c1", "=tenant42-" + sid(f"x{n}")[:30], artist="Burial", tracks_=())
    reasons = check(h.ops).anomalies["weak-id"][0].value["reasons"]
    assert reasons == ["3 of 3 ids share a 9-character prefix"]


def test_random_ids_are_not_weak() -> None:
    h = Builder()
    for n in range(60):
        first = h.first(f"u{n}.c1", f"s{n}", artist="Burial")
        h.more(f"u{n}.c1", f"s{n}", anchor=first)
    assert check(h.ops).valid is True


def test_every_answer_under_a_made_up_id_is_a_victim_whoever_got_it() -> None:
    h = Builder()
    forged = h.first("u1.c1", "forged", artist="Burial", sent="forged", created=True)
    h.first("u1.c1", "s1", artist="Burial", step="other", tracks_=())
    other = h.first("u2.c1", "forged", "Songs by Burial", artist="Burial", sent="forged", created=False,
                    tracks_=())
    found = summary(check(h.ops))[1]
    assert found == {"adopted-client-id": [("bleeding", "u1.c1", (forged.index, other.index), (forged.index,))]}
