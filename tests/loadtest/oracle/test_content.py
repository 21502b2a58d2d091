"""foreign-content, off-subject, refresh-leak (content), repeated-track."""

from __future__ import annotations

from oracle_build import Builder, chat, sid, summary, tracks

from loadtest.history import TrackSeen
from loadtest.oracle import check
from loadtest.oracle.content import fits, normalise


def test_tracks_of_another_conversations_artist_are_foreign_content() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial", pages=1)
    mkgee = h.first("u2.c1", "s2", "Songs by Mk.gee", artist="Mk.gee")
    victim = h.more("u2.c1", "s2", anchor=mkgee, tracks_=tracks("Burial", start=20))
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"foreign-content": [("bleeding", "u2.c1", (victim.index,), (burial[0].index,))]})
    anomaly = verdict.anomalies["foreign-content"][0]
    assert anomaly.session == sid("s2")
    assert anomaly.value == {"rules": ["artist"], "subject": {"artist": "Mk.gee"}, "fits": {"artist": "Burial"},
                             "track_ids": ["burial-20", "burial-21", "burial-22"]}
    assert "the subject of u1.c1" in anomaly.explanation


def test_foreign_content_names_the_latest_subject_turn_sent_before_the_answer() -> None:
    h = Builder()
    early = h.first("u1.c1", "s1", artist="Burial")
    late = h.first("u3.c1", "s3", artist="Burial")
    mkgee = h.first("u2.c1", "s2", "Songs by Mk.gee", artist="Mk.gee")
    victim = h.more("u2.c1", "s2", anchor=mkgee, tracks_=tracks("Burial", start=20))
    h.first("u4.c1", "s4", artist="Burial")  # sent after the answer: cannot be its source
    found = summary(check(h.ops))[1]["foreign-content"]
    assert found == [("bleeding", "u2.c1", (victim.index,), (late.index,))]
    assert early.index != late.index


def test_content_fitting_only_a_later_conversation_is_off_subject() -> None:
    h = Builder()
    mkgee = h.first("u2.c1", "s2", "Songs by Mk.gee", artist="Mk.gee")
    victim = h.more("u2.c1", "s2", anchor=mkgee, tracks_=tracks("Burial"))
    h.first("u4.c1", "s4", artist="Burial")
    assert summary(check(h.ops)) == (False, {"off-subject": [("loss", "u2.c1", (victim.index,), ())]})


def test_genre_rule_matches_tags_and_finds_the_foreign_genre() -> None:
    h = Builder()
    techno = h.first("u1.c1", "s1", "Some techno", genre="techno", kind="genre_mood",
                     tracks_=tracks("Surgeon", genre="techno"))
    jazz = h.first("u2.c1", "s2", "Some jazz", genre="jazz", kind="genre_mood",
                   tracks_=tracks("Coltrane", genre="jazz"))
    fine = h.more("u2.c1", "s2", anchor=jazz, content=("genre",), tracks_=tracks("Mingus", genre="Jazz"))
    leak = h.more("u2.c1", "s2", anchor=jazz, content=("genre",), step="more2",
                  tracks_=tracks("Blawan", genre="techno"))
    assert fine.index < leak.index
    assert summary(check(h.ops)) == (False, {"foreign-content": [("bleeding", "u2.c1", (leak.index,), (techno.index,))]})


def test_content_nobody_asked_for_is_off_subject() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    odd = h.more("u1.c1", "s1", anchor=first, tracks_=tracks("Nobody In Particular"))
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"off-subject": [("loss", "u1.c1", (odd.index,), ())]})
    assert verdict.anomalies["off-subject"][0].value["artists"] == ["Nobody In Particular"]


def test_off_subject_is_not_reported_twice_for_a_lost_context() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    lost = h.more("u1.c1", "s1", anchor=None, tracks_=tracks("Popular Person"))
    assert summary(check(h.ops)) == (False, {"lost-context": [("loss", "u1.c1", (lost.index, first.index), ())]})


def test_names_compare_without_case_or_accents() -> None:
    assert normalise(" Sigur Rós ") == "sigur ros"
    assert fits((TrackSeen("t1", "SIGUR ROS", ("Post-Rock",)),), {"artist": "Sigur Rós", "genre": "post-rock"},
                ("artist", "genre"))
    assert not fits((), {"artist": "x"}, ("artist",))
    h = Builder()
    first = h.first("u1.c1", "s1", "Songs by Sigur Rós", artist="Sigur Rós", tracks_=tracks("Sigur Rós"))
    h.more("u1.c1", "s1", anchor=first, tracks_=tracks("sigur ros", start=3))
    assert check(h.ops).valid is True


def test_refreshed_conversation_showing_the_old_subject_is_refresh_leak() -> None:
    h = Builder()
    old = chat(h, "u1.c1", "s1", "Burial", pages=1)
    h.delete("u1.c1", "s1")
    h.subject("u1.c2", artist="Burial")
    leak = h.more("u1.c2", "s2", anchor=None, expect_anchor="none", content=(),
                  tracks_=tracks("Burial", start=30), step="after-refresh")
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"refresh-leak": [("bleeding", "u1.c2", (leak.index,), (old[0].index,))]})
    assert verdict.anomalies["refresh-leak"][0].value == {
        "old_conversation": "u1.c1", "via": "content", "rules": ["artist"], "old_subject": {"artist": "Burial"}}


def test_a_track_shown_again_in_a_follow_up_page_is_repeated_track() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", tracks_=tracks("Burial"))
    again = h.more("u1.c1", "s1", anchor=first, tracks_=tracks("Burial", start=2))  # burial-2 again
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"repeated-track": [("loss", "u1.c1", (again.index, first.index), ())]})
    assert verdict.anomalies["repeated-track"][0].value == {
        "track_ids": ["burial-2"], "first_shown": {"burial-2": first.index}, "anchor_request_id": "r0"}


def test_two_tabs_following_up_at_once_must_not_repeat_each_other() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    tab1 = h.more("u1.c1", "s1", anchor=first, tracks_=tracks("Burial", start=3), at=(2.0, 3.0))
    tab2 = h.more("u1.c1", "s1", anchor=first, tracks_=tracks("Burial", start=4), step="tab2", at=(2.0, 3.1))
    assert summary(check(h.ops)) == (False, {"repeated-track": [("loss", "u1.c1", (tab2.index, tab1.index), ())]})


def test_a_page_with_a_notice_may_start_over() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", tracks_=tracks("Burial"))
    h.more("u1.c1", "s1", anchor=first, tracks_=tracks("Burial", start=0), notice="candidates exhausted")
    assert check(h.ops).valid is True


def test_pages_chained_through_follow_up_anchors_count_as_one_run() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", tracks_=tracks("Burial"))
    more = h.more("u1.c1", "s1", anchor=first, tracks_=tracks("Burial", start=3))
    again = h.more("u1.c1", "s1", anchor=more, step="more2", expect_anchor="more",
                   tracks_=tracks("Burial", start=1, n=1))
    assert summary(check(h.ops)) == (False, {"repeated-track": [("loss", "u1.c1", (again.index, first.index), ())]})


def test_pages_after_a_request_of_unknown_outcome_are_not_judged_for_repeats() -> None:
    # The lost follow-up may have been the page that ran out and started a fresh round.
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", tracks_=tracks("Burial"))
    h.more("u1.c1", "s1", anchor=first, status="unknown", sent=True)
    h.more("u1.c1", "s1", anchor=first, step="again", tracks_=tracks("Burial", start=0))
    assert check(h.ops).valid is True


def test_pages_before_a_request_of_unknown_outcome_are_still_judged() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", tracks_=tracks("Burial"))
    again = h.more("u1.c1", "s1", anchor=first, tracks_=tracks("Burial", start=2))
    h.more("u1.c1", "s1", anchor=first, status="unknown", sent=True, step="lost")
    assert summary(check(h.ops)) == (False, {"repeated-track": [("loss", "u1.c1", (again.index, first.index), ())]})
