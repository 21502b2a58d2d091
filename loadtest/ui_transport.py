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

``gradio_client`` is synchronous: the client is built in a thread, and each call is
submitted with its job API (``Client.submit``, which runs in the client's own threads)
and awaited with ``asyncio.wrap_future``, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from loadtest.transport import Reply, TransportError, TransportFactory, TransportTimeout

UI_PATH = "/ui/"


class UiTransport:
    """One virtual user's tab on the chat page at ``base_url`` + ``/ui/``."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._url = base_url.rstrip("/") + UI_PATH
        self._timeout = timeout
        self._client: Any = None
        self._held: str | None = None     # the backend session id this tab's last answer named
        self._lock = asyncio.Lock()       # builds the client once, even for a double submit

    async def _tab(self) -> Any:
        async with self._lock:
            if self._client is None:
                from gradio_client import Client

                try:
                    self._client = await asyncio.wait_for(asyncio.to_thread(
                        Client, self._url, verbose=False, download_files=False,
                        analytics_enabled=False, httpx_kwargs={"timeout": self._timeout}),
                        self._timeout)
                except asyncio.TimeoutError as exc:
                    raise TransportTimeout(f"the page gave no config within {self._timeout:g}s") from exc
                except Exception as exc:  # httpx errors, a page that is not Gradio
                    raise TransportError(f"cannot open {self._url}: {type(exc).__name__}: {exc}") from exc
            return self._client

    async def _call(self, api_name: str, *args: Any) -> Reply:
        client = await self._tab()
        try:
            job = client.submit(*args, api_name=api_name)
            outputs = await asyncio.wait_for(asyncio.wrap_future(job.future), self._timeout)
        except asyncio.TimeoutError as exc:
            raise TransportTimeout(f"no answer from {api_name} within {self._timeout:g}s") from exc
        except Exception as exc:  # the client's httpx and protocol errors, an event that raised
            raise TransportError(f"{api_name}: {type(exc).__name__}: {exc}") from exc
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
            client = await self._tab()
            client.reset_session()
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
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(client.close)


def ui_factory(base_url: str, *, timeout: float) -> TransportFactory:
    """A factory giving each virtual user its own tab (``UiTransport``) on ``base_url``."""
    return lambda user: UiTransport(base_url, timeout=timeout)


__all__ = ["UiTransport", "ui_factory"]
