"""Gradio targets: a chat app's API endpoint, one Gradio session per conversation.

Terms:
- *tab*: one ``gradio_client.Client`` per virtual user, like one browser tab: its Gradio
  session (``session_hash``) is what the app keys its per-user state by (``gr.State``,
  ``gr.Request.session_hash``). A new conversation is a new Gradio session on the same
  client (``reset_session``), as a reload is in a browser.
- *conversation id*: the app never sees an id of ours, so the harness makes one per
  conversation (a uuid4, ``minted_by = "client"``) and the transport opens a fresh Gradio
  session whenever a call carries an id other than the one its session was opened for.
- *call*: ``Client.submit(*inputs, api_name=...)``; its outputs (one value, or a list for
  several) are the answer the profile's selectors read (``text = "@"`` for a chat reply).
  An app whose event raised answers ``500`` with the error (an answer, so a ``fail``);
  anything else that goes wrong is ``TransportError`` (``unknown``).

``gradio_client`` is synchronous: the client is built in a thread, and each call is
submitted with its job API and awaited with ``asyncio.wrap_future``, so the event loop never
blocks (as ``loadtest.ui_transport`` does). ``gradio_client`` is imported only when a
client is built: it is the optional ``ui`` extra.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from loadtest.exchange import Request, answered_with
from loadtest.history import Op
from loadtest.profiles.answer import AnswerReader
from loadtest.profiles.model import Profile
from loadtest.scenario import QueryStep
from loadtest.transport import Reply, TransportError, TransportTimeout

GRADIO_METHOD = "GRADIO"     # Request.method of a Gradio call (statistics name it by api_name)


class GradioTransport:
    """One virtual user's tab on the Gradio app at ``url`` (see module doc)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._client: Any = None
        self._opened_for: str | None = None     # the conversation id the current Gradio session serves
        self._lock = asyncio.Lock()             # builds the client once, even for a double submit

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
                    raise TransportTimeout(f"the app gave no config within {self._timeout:g}s") from exc
                except Exception as exc:  # httpx errors, a page that is not Gradio
                    raise TransportError(f"cannot open {self._url}: {type(exc).__name__}: {exc}") from exc
            return self._client

    async def call(self, api_name: str, inputs: Sequence[Any], *, conversation: str | None) -> Reply:
        """``api_name`` with ``inputs`` in the Gradio session of ``conversation``."""
        client = await self._tab()
        if conversation != self._opened_for:
            if self._opened_for is not None:
                client.reset_session()          # a new conversation: a fresh Gradio session
            self._opened_for = conversation
        try:
            job = client.submit(*inputs, api_name=api_name)
            outputs = await asyncio.wait_for(asyncio.wrap_future(job.future), self._timeout)
        except asyncio.TimeoutError as exc:
            raise TransportTimeout(f"no answer from {api_name} within {self._timeout:g}s") from exc
        except Exception as exc:
            # gradio_client's AppError (matched by name: the optional package is imported only
            # to build a client): the app's event raised, so it answered, with an error.
            if type(exc).__name__ == "AppError":
                return Reply(500, {}, {"detail": str(exc)})
            raise TransportError(f"{api_name}: {type(exc).__name__}: {exc}") from exc
        return Reply(200, {}, list(outputs) if isinstance(outputs, tuple) else outputs)

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(client.close)


def gradio_factory(url: str, *, timeout: float) -> Callable[[int], GradioTransport]:
    """A factory giving each virtual user its own tab (``GradioTransport``) on ``url``."""
    return lambda user: GradioTransport(url, timeout=timeout)


class GradioExchange:
    """The exchange of a ``gradio`` profile: only queries; no create, history or delete (a
    new chat is a new conversation id, hence a new Gradio session)."""

    requires_session = False

    def __init__(self, profile: Profile) -> None:
        assert profile.kind == "gradio" and profile.gradio is not None
        self.profile = profile
        self._api_name = profile.gradio.api_name
        self._inputs = profile.gradio.inputs
        self._answer = AnswerReader(profile.answer, deterministic=profile.deterministic)

    def new_session_id(self) -> str | None:
        return str(uuid.uuid4())

    def recommend(self, step: QueryStep, fields: Mapping[str, str], *, rid: str, session_id: str | None,
                  max_recommendations: int) -> Request:
        query = step.query.format_map(fields)
        values = {"query": query, "session_id": session_id or "", "request_id": rid,
                  "max_recommendations": step.max_recommendations or max_recommendations}
        inputs = [self._fill(value, values) for value in self._inputs]
        return Request("recommend", GRADIO_METHOD, self._api_name, rid, session_id, {"inputs": inputs},
                       sent_query=query, route_name=self._api_name)

    @staticmethod
    def _fill(value: Any, values: Mapping[str, Any]) -> Any:
        if not isinstance(value, str) or "{" not in value:
            return value
        for name, found in values.items():
            if value == "{" + name + "}":
                return found
        return value.format_map(values)

    def create_session(self, *, rid: str) -> None:
        return None

    def read_history(self, session_id: str, *, rid: str) -> None:
        return None

    def delete_session(self, session_id: str, *, rid: str) -> None:
        return None

    def send(self, transport: GradioTransport, request: Request) -> Awaitable[Reply]:
        assert request.body is not None
        return transport.call(request.path, request.body["inputs"], conversation=request.session_sent)

    def answered(self, base: Mapping[str, Any], *, reply: Reply, completed_at: float) -> Op:
        sent = base["session_sent"]

        def parse(outputs: Any) -> dict[str, Any]:
            fields = self._answer.read(outputs)
            fields["session"] = sent        # the conversation's own id: the app names none
            return fields

        return answered_with(parse, base, status=reply.status, body=reply.body, completed_at=completed_at)


__all__ = ["GRADIO_METHOD", "GradioExchange", "GradioTransport", "gradio_factory"]
