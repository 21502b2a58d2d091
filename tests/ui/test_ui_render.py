"""What the page shows: ``render.py`` (pure) and the session policies (``sessions.py``)."""

from __future__ import annotations

from beatdebate_server.ids import hash_id, mint_session_id
from beatdebate_server.ui.render import (
    NEW_CONVERSATION, cards_html, error_text, reply_text, status_line,
)
from beatdebate_server.ui.sessions import GlobalSession, TabSessions, session_policy


def test_the_status_line_shows_the_short_hash_never_the_id() -> None:
    session = mint_session_id()
    line = status_line(session, turn=2)
    assert line == f"Session {hash_id(session)} · turn 2"
    assert session not in line
    assert status_line(None) == NEW_CONVERSATION


def _answer(**overrides: object) -> dict[str, object]:
    track = {"track_id": "t1", "title": "Candy <script>", "artist": "Mk.gee",
             "tags": ["indie", "hip hop"], "explanation": "By Mk.gee, as you asked",
             "preview_url": "https://previews.example/1.mp3"}
    return {"session_id": "s" * 22, "turn": 1, "recommendations": [track],
            "context": {"anchor": None}, "notice": None, **overrides}


def test_cards_show_title_artist_tags_explanation_and_preview_escaped() -> None:
    html = cards_html(_answer())
    assert html.count('class="track-card"') == 1
    assert "Candy &lt;script&gt;" in html and "<script>" not in html
    assert 'data-artist="Mk.gee"' in html and 'data-tags="indie|hip hop"' in html
    assert "By Mk.gee, as you asked" in html
    assert 'href="https://previews.example/1.mp3"' in html


def test_a_preview_link_is_only_an_http_url() -> None:
    answer = _answer()
    answer["recommendations"][0]["preview_url"] = "javascript:alert(1)"  # type: ignore[index]
    assert "javascript:" not in cards_html(answer) and "Preview" not in cards_html(answer)


def test_no_tracks_is_an_empty_panel() -> None:
    assert "track-card" not in cards_html(None).replace("track-cards-empty", "")


def test_the_chat_message_says_what_was_followed_up_on_and_any_notice() -> None:
    anchor = {"turn": 1, "query": "Songs by Mk.gee", "request_id": "r1"}
    text = reply_text(_answer(context={"anchor": anchor}, notice="Candidates exhausted"))
    assert text.splitlines()[0] == "Candidates exhausted"
    assert "Following up on “Songs by Mk.gee” (turn 1)." in text
    assert "1 track (cards below): **Candy &lt;script&gt;** (Mk.gee)" in text
    empty = reply_text(_answer(recommendations=[], notice="Nothing to follow up on yet"))
    assert empty == "Nothing to follow up on yet"


def test_an_error_answer_is_one_readable_line() -> None:
    body = {"detail": [{"msg": "String should have at most 500 characters"}]}
    assert error_text(422, body) == ("Sorry, the recommender answered HTTP 422: "
                                     "String should have at most 500 characters")
    assert error_text(503, None) == "Sorry, the recommender answered HTTP 503."


def test_tab_sessions_keep_each_tabs_own_id() -> None:
    policy = TabSessions()
    assert policy.read("tab-a-session-id") == "tab-a-session-id"
    assert policy.adopt("new-id") == "new-id"
    assert policy.read("tab-b-session-id") == "tab-b-session-id"   # nothing carried over
    assert isinstance(session_policy(None), TabSessions)
    assert isinstance(session_policy("shared-session"), TabSessions)  # a backend defect


def test_the_global_session_defect_gives_every_tab_the_last_adopted_id() -> None:
    policy = session_policy("ui-global-session")
    assert isinstance(policy, GlobalSession)
    assert policy.read("tab-a-session-id") is None
    policy.adopt("shared-id")
    assert policy.read("tab-b-session-id") == "shared-id"   # tab b's own id is ignored
    assert policy.read(None) == "shared-id"
