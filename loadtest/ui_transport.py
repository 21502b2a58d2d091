"""A transport through the chat page (``simulate --through ui``): each virtual user is one
browser tab, driven over Gradio's client protocol.

Terms:
- *tab*: one ``gradio_client.Client`` = one Gradio session (``session_hash``) = one set of
  ``gr.State`` on the server, exactly what a browser tab gets. The tab, not the harness,
  holds the backend session id: the page's handlers read it from the tab's state.
- *envelope*: the last output of each UI endpoint, ``{"status", "body"}``: the backend's
  raw answer behind the event (``docs/ui.md``). It becomes the ``Reply``, so the users
  record the same ``Op`` history as through the API and the same checker judges it; a
  front end that bleeds (``--defect ui-global-session``) shows up as bleeding.

The four contract calls map to the page's API endpoints: ``recommend`` → ``/ask``,
``delete_session`` → ``/new_chat`` (the "New chat" button), ``create_session`` →
``/start_session``, ``read_session`` → ``/history``. The request id travels in the page's
hidden request-id field, which the page sends as ``X-Request-ID``.

A tab can only carry the id it holds. When the harness asks to send another one (a
made-up or expired id), the nearest thing a browser can do is what this transport does:
open a fresh tab (``reset_session``) and ask there; the answer starts a new session.

The tab itself (a ``gradio_client.Client`` built off the event loop, calls submitted and
awaited without blocking it) is ``loadtest.gradio_tab``, shared with Gradio target profiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadtest.gradio_tab import GradioAppError, GradioTab
from loadtest.transport import Reply, TransportError, TransportFactory

UI_PATH = "/ui/"


class UiTransport:
    """One virtual user's tab on the chat page at ``base_url`` + ``/ui/``."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._tab = GradioTab(base_url.rstrip("/") + UI_PATH, timeout=timeout, what="page")
        self._held: str | None = None     # the backend session id this tab's last answer named

    async def _call(self, api_name: str, *args: Any) -> Reply:
        try:
            outputs = await self._tab.submit(api_name, *args)
        except GradioAppError as exc:   # the page's handlers answer errors in the envelope, never raise
            raise TransportError(f"{api_name}: {exc}") from exc
        envelope = outputs[-1] if isinstance(outputs, (tuple, list)) else outputs
        if not isinstance(envelope, Mapping) or not isinstance(envelope.get("status"), int):
            raise TransportError(f"{api_name} returned no answer envelope: {envelope!r:.200}")
        body = envelope.get("body")
        return Reply(status=envelope["status"], headers={}, body=body)

    def _remember(self, reply: Reply, *, forget: bool = False) -> Reply:
        if forget:
            self._held = None
        elif 200 <= reply.status < 300 and isinstance(reply.body, Mapping):
            session = reply.body.get("session_id")
            if isinstance(session, str):
                self._held = session
        return reply

    async def recommend(self, body: Mapping[str, Any], *, request_id: str) -> Reply:
        if body.get("session_id") != self._held:
            # An id this tab does not hold (made up, expired): a fresh tab, as a browser would.
            await self._tab.reset()
            self._held = None
        limit = body.get("max_recommendations") or 10
        return self._remember(await self._call("/ask", body["query"], limit, request_id))

    async def create_session(self, *, request_id: str) -> Reply:
        return self._remember(await self._call("/start_session", request_id))

    async def read_session(self, session_id: str, *, request_id: str) -> Reply:
        return await self._call("/history", request_id)

    async def delete_session(self, session_id: str, *, request_id: str) -> Reply:
        reply = await self._call("/new_chat", request_id)
        return self._remember(reply, forget=True)

    async def aclose(self) -> None:
        await self._tab.aclose()


def ui_factory(base_url: str, *, timeout: float) -> TransportFactory:
    """A factory giving each virtual user its own tab (``UiTransport``) on ``base_url``."""
    return lambda user: UiTransport(base_url, timeout=timeout)


__all__ = ["UiTransport", "ui_factory"]
