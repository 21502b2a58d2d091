"""The chat page as a Gradio ``Blocks``: what a tab shows and the events it fires.

Per tab, Gradio holds three ``gr.State`` values: the tab's session id, the digest of its
tab key (``tab_key.py``) and its transcript, bounded (``transcript.py``). Handlers are
``async`` and take everything they need as inputs, returning the new state: nothing about
a conversation lives on this module or on any object here. The one deliberate exception is
the ``GlobalSession`` policy of ``--defect ui-global-session``.

API endpoints (``gradio_client``; the last output of each is the *envelope*
``{"status", "body"}`` of the backend answer behind it; see ``docs/ui.md``). The last input
of each, ``tab_key``, is optional (default empty): the page's own secret, see ``tab_key.py``.

- ``/ask`` (message, tracks per answer, request id, tab key) → (box, chat, cards, status,
  envelope)
- ``/new_chat`` (request id, tab key) → (chat, cards, status, envelope): DELETE the tab's
  session
- ``/start_session`` (request id, tab key) → (chat, cards, status, envelope): POST /sessions
- ``/history`` (request id, tab key) → (envelope): GET the tab's session's recorded history

An event whose tab key does not match the one the tab is bound to answers the envelope
``{"status": 403, ...}`` and changes nothing. This module imports Gradio: only
``mount_ui`` imports it, after ``require_gradio``.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from .backend import Backend, BackendAnswer, Origin
from .render import NEW_CONVERSATION, cards_html, error_text, reply_text, status_line
from .sessions import SessionPolicy
from .tab_key import KEY_JS, REFUSED, check
from .transcript import Message, extend, message

DEFAULT_TRACKS = 10
_NO_SESSION = BackendAnswer(404, {"detail": "this tab has no session yet"})


def _request_id(value: str | None) -> str | None:
    # The browser leaves the hidden field empty (the backend mints an id); an API client
    # may pass its own X-Request-ID to trace the turn it causes.
    return (value or "").strip() or None


def build_blocks(backend: Backend, *, sessions: SessionPolicy,
                 client_header: str | None = None) -> gr.Blocks:
    """The page. ``sessions`` says where a tab's session id lives (``sessions.py``);
    ``client_header`` is the server's ``--client-header``, passed on to the backend."""

    def origin(request: gr.Request | None) -> Origin | None:
        client = getattr(request, "client", None)
        if request is None or client is None:
            return None
        forwarded = request.headers.get(client_header) if client_header else None
        return Origin(host=str(client.host), forwarded=forwarded)

    # Each handler's parameters: the API's inputs (the tab key last, optional), then the
    # tab's states, then the request Gradio injects. Its outputs end with the states.
    async def ask(text: str, tracks: float, request_id: str, tab_key: str | None = None,
                  tab_session: str | None = None, tab_lock: str | None = None,
                  transcript: list[Message] | None = None,
                  request: gr.Request | None = None) -> tuple[Any, ...]:
        query = (text or "").strip()
        if not query:
            return (gr.skip(),) * 8
        key = check(tab_lock, tab_key)
        if not key.allowed:
            return (*(gr.skip(),) * 4, REFUSED, *(gr.skip(),) * 3)
        session_id = sessions.read(tab_session)
        answer = await backend.recommend(query, session_id=session_id,
                                         limit=int(tracks or DEFAULT_TRACKS),
                                         request_id=_request_id(request_id),
                                         origin=origin(request))
        asked = message("user", query)
        if not answer.ok or not isinstance(answer.body, dict):
            chat = extend(transcript or [], asked,
                          message("assistant", error_text(answer.status, answer.body)))
            return ("", chat, gr.skip(), status_line(session_id), answer.envelope(),
                    sessions.adopt(session_id), key.bound, chat)
        body = answer.body
        # Adopt whatever id the backend answered with (contract, "Sessions").
        new_session = sessions.adopt(body.get("session_id"))
        chat = extend(transcript or [], asked, message("assistant", reply_text(body)))
        return ("", chat, cards_html(body), status_line(new_session, turn=body.get("turn")),
                answer.envelope(), new_session, key.bound, chat)

    async def new_chat(request_id: str, tab_key: str | None = None, tab_session: str | None = None,
                       tab_lock: str | None = None,
                       request: gr.Request | None = None) -> tuple[Any, ...]:
        key = check(tab_lock, tab_key)
        if not key.allowed:
            return (*(gr.skip(),) * 3, REFUSED, *(gr.skip(),) * 3)
        session_id = sessions.read(tab_session)
        answer = _NO_SESSION
        if session_id is not None:
            answer = await backend.delete_session(session_id, request_id=_request_id(request_id),
                                                  origin=origin(request))
        return ([], cards_html(None), NEW_CONVERSATION, answer.envelope(), sessions.adopt(None),
                key.bound, [])

    async def start_session(request_id: str, tab_key: str | None = None,
                            tab_session: str | None = None, tab_lock: str | None = None,
                            request: gr.Request | None = None) -> tuple[Any, ...]:
        key = check(tab_lock, tab_key)
        if not key.allowed:
            return (*(gr.skip(),) * 3, REFUSED, *(gr.skip(),) * 3)
        answer = await backend.create_session(request_id=_request_id(request_id),
                                              origin=origin(request))
        if not answer.ok or not isinstance(answer.body, dict):
            return (gr.skip(), gr.skip(), gr.skip(), answer.envelope(), tab_session, key.bound,
                    gr.skip())
        session_id = sessions.adopt(answer.body.get("session_id"))
        return ([], cards_html(None), status_line(session_id), answer.envelope(), session_id,
                key.bound, [])

    async def history(request_id: str, tab_key: str | None = None, tab_session: str | None = None,
                      tab_lock: str | None = None,
                      request: gr.Request | None = None) -> tuple[Any, ...]:
        key = check(tab_lock, tab_key)
        if not key.allowed:
            return REFUSED, gr.skip()
        session_id = sessions.read(tab_session)
        if session_id is None:
            return _NO_SESSION.envelope(), key.bound
        answer = await backend.read_session(session_id, request_id=_request_id(request_id),
                                            origin=origin(request))
        return answer.envelope(), key.bound

    # Built before the ``with``: gradio's ``__enter__`` is untyped, so ``as`` would give Any.
    blocks = gr.Blocks(title="BeatDebate", analytics_enabled=False)
    with blocks:
        tab_session = gr.State(None)     # this tab's backend session id (None: not started)
        tab_lock = gr.State(None)        # the digest of the tab key it is bound to (tab_key.py)
        transcript = gr.State([])        # this tab's chat messages, bounded (transcript.py)
        gr.Markdown("## BeatDebate\nAsk for music: *Songs by Mk.gee*, *Electronic music*, "
                    "then *More tracks*. Each tab is its own conversation.")
        status = gr.Markdown(NEW_CONVERSATION, elem_id="session-status")
        chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=320)
        with gr.Row():
            box = gr.Textbox(placeholder="Songs by Mk.gee", show_label=False, scale=5,
                             elem_id="query-box", max_lines=1)
            send = gr.Button("Send", variant="primary", scale=1, elem_id="send-btn")
        with gr.Row():
            tracks = gr.Slider(1, 50, value=DEFAULT_TRACKS, step=1, label="Tracks per answer",
                               elem_id="tracks-per-answer")
            clear = gr.Button("New chat", elem_id="new-chat-btn")
        cards = gr.HTML(cards_html(None), elem_id="track-cards")
        # For API clients only (never shown: the body names the tab's raw session id).
        raw = gr.JSON(label="answer", visible=False)
        request_id = gr.Textbox(visible=False)
        # The tab key: made in the browser when the page loads, held by this tab only.
        tab_key = gr.Textbox(visible=False)
        blocks.load(None, None, [tab_key], js=KEY_JS, api_visibility="private")
        start_button = gr.Button(visible=False)     # API only: /start_session
        history_button = gr.Button(visible=False)   # API only: /history

        # No concurrency limit: each event awaits the backend without blocking the loop,
        # and the backend serialises the turns of one session itself (contract).
        ask_io: dict[str, Any] = dict(
            inputs=[box, tracks, request_id, tab_key, tab_session, tab_lock, transcript],
            outputs=[box, chatbot, cards, status, raw, tab_session, tab_lock, transcript],
            concurrency_limit=None)
        send.click(ask, api_name="ask", **ask_io)
        box.submit(ask, api_visibility="private", **ask_io)
        reset_io: dict[str, Any] = dict(
            inputs=[request_id, tab_key, tab_session, tab_lock],
            outputs=[chatbot, cards, status, raw, tab_session, tab_lock, transcript],
            concurrency_limit=None)
        clear.click(new_chat, api_name="new_chat", **reset_io)
        chatbot.clear(new_chat, api_visibility="private", **reset_io)  # its trash icon, too
        start_button.click(start_session, api_name="start_session", **reset_io)
        history_button.click(history, inputs=[request_id, tab_key, tab_session, tab_lock],
                             outputs=[raw, tab_lock], api_name="history",
                             concurrency_limit=None)
    return blocks


__all__ = ["build_blocks"]
