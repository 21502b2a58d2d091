"""What the chat page shows: pure functions from backend answers to text and HTML.

Every value that came from the catalog or a user is escaped; a preview link is shown only
for an ``http(s)`` URL. The status line shows ``hash_id(session_id)`` (the stand-in the
server's logs use), never the id itself: the id is the only key to a session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ..ids import hash_id

NEW_CONVERSATION = "New conversation: no session yet"
CHAT_PREVIEW = 3  # tracks named in the chat message; the cards show them all


def status_line(session_id: str | None, *, turn: int | None = None) -> str:
    """``Session 3f2a9c0d1e4b · turn 2``: tells tabs apart without showing the id."""
    if session_id is None:
        return NEW_CONVERSATION
    line = f"Session {hash_id(session_id)}"
    return f"{line} · turn {turn}" if turn is not None else line


def error_text(status: int, body: Any) -> str:
    detail = body.get("detail") if isinstance(body, Mapping) else None
    if isinstance(detail, list):  # FastAPI's validation errors
        detail = "; ".join(str(item.get("msg", item)) if isinstance(item, Mapping) else str(item)
                           for item in detail)
    return f"Sorry, the recommender answered HTTP {status}" + (f": {detail}" if detail else ".")


def reply_text(body: Mapping[str, Any]) -> str:
    """The assistant's chat message (Markdown) for a ``200`` recommendation answer."""
    tracks: Sequence[Mapping[str, Any]] = body.get("recommendations") or ()
    anchor = (body.get("context") or {}).get("anchor")
    lines: list[str] = []
    if body.get("notice"):
        lines.append(str(body["notice"]))
    if anchor is not None and anchor.get("query"):
        lines.append(f"Following up on “{anchor['query']}” (turn {anchor.get('turn')}).")
    if tracks:
        shown = ", ".join(f"**{_md(t.get('title'))}** ({_md(t.get('artist'))})"
                          for t in tracks[:CHAT_PREVIEW])
        more = "…" if len(tracks) > CHAT_PREVIEW else ""
        lines.append(f"{len(tracks)} track{'s' if len(tracks) != 1 else ''} (cards below): "
                     f"{shown}{more}")
    elif not body.get("notice"):
        lines.append("No tracks found.")
    return "\n".join(lines)


def cards_html(body: Mapping[str, Any] | None) -> str:
    """The latest answer's tracks as cards (title, artist, tags, explanation, preview)."""
    tracks: Sequence[Mapping[str, Any]] = (body or {}).get("recommendations") or ()
    if not tracks:
        return '<div id="track-cards-empty" class="track-cards-empty">No tracks to show.</div>'
    return '<div class="track-cards">' + "".join(_card(t) for t in tracks) + "</div>"


def _card(track: Mapping[str, Any]) -> str:
    title, artist = escape(str(track.get("title", ""))), escape(str(track.get("artist", "")))
    tags = "".join(f'<span class="track-tag">{escape(str(tag))}</span>'
                   for tag in track.get("tags") or ())
    preview = track.get("preview_url")
    link = (f'<a class="track-preview" href="{escape(preview)}" target="_blank" '
            f'rel="noopener noreferrer">▶ Preview</a>'
            if isinstance(preview, str) and preview.startswith(("https://", "http://")) else "")
    return (f'<div class="track-card" data-track-id="{escape(str(track.get("track_id", "")))}" '
            f'data-artist="{artist}" data-tags="{escape("|".join(map(str, track.get("tags") or ())))}">'
            f'<div class="track-title">{title}</div><div class="track-artist">{artist}</div>'
            f'<div class="track-tags">{tags}</div>'
            f'<div class="track-explanation">{escape(str(track.get("explanation", "")))}</div>'
            f"{link}</div>")


def _md(value: Any) -> str:
    """Text safe inside Markdown emphasis (the chatbot renders Markdown, sanitised)."""
    text = escape(str(value or ""), quote=False)
    return "".join("\\" + c if c in "\\`*_[]|~" else c for c in text)


CSS = """
.track-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px; }
.track-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px;
              background: var(--background-fill-secondary); }
.track-title { font-weight: 600; }
.track-artist { opacity: .8; margin-bottom: 4px; }
.track-tag { display: inline-block; font-size: 11px; padding: 1px 6px; margin: 1px;
             border-radius: 9px; background: var(--background-fill-primary); }
.track-explanation { font-size: 12px; margin-top: 6px; opacity: .85; }
#session-status { font-size: 12px; opacity: .8; }
"""

__all__ = ["CSS", "NEW_CONVERSATION", "cards_html", "error_text", "reply_text", "status_line"]
