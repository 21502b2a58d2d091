"""One browser tab on a Gradio app, for the harness: the one place a ``gradio_client.Client``
is opened, called and closed.

Terms:
- *tab*: one ``gradio_client.Client`` per virtual user, like one browser tab: its Gradio
  session (``session_hash``) is what the app keys its per-user state by. ``reset_session``
  opens a fresh Gradio session on the same client, as a reload does in a browser.

``gradio_client`` is synchronous: the client is built in a thread, and each call is
submitted with its job API (``Client.submit``, which runs in the client's own threads) and
awaited with ``asyncio.wrap_future``, so the event loop never blocks. It is imported only
when a client is built: it is the optional ``ui`` extra.

Used by Gradio target profiles (``loadtest.profiles.gradio``), our own chat page's among
them (the built-in ``beatdebate-chat-page``, ``simulate --through ui``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from typing import Any

from loadtest.transport import TransportError, TransportTimeout


class GradioAppError(Exception):
    """The app's event raised: it answered, with an error (``str()`` is what it said)."""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context (httpx's default trust) for every tab of the process: gradio_client
    opens a new httpx client for each call, and each would load the CA bundle again (about
    0.1 s of CPU per call, measured: 100 users of a two-core machine timed out waiting)."""
    import httpx  # as gradio_client: only once a tab is built (the optional ``ui`` extra)

    return httpx.create_ssl_context()


class GradioTab:
    """One virtual user's tab on the Gradio app at ``url``."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._client: Any = None
        self._lock = asyncio.Lock()       # builds the client once, even for a double submit

    async def client(self) -> Any:
        """The tab's ``gradio_client.Client``, built on first use."""
        async with self._lock:
            if self._client is None:
                # A load harness phones nobody: gradio_client sends telemetry from every Client
                # unless this is off, whatever ``analytics_enabled`` says (a thread per call).
                os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
                from gradio_client import Client

                try:
                    self._client = await asyncio.wait_for(asyncio.to_thread(
                        Client, self.url, verbose=False, download_files=False, ssl_verify=_tls_context(),
                        analytics_enabled=False, httpx_kwargs={"timeout": self.timeout}),
                        self.timeout)
                except TimeoutError as exc:
                    raise TransportTimeout(f"the app gave no config within {self.timeout:g}s") from exc
                except Exception as exc:  # httpx errors, a page that is not Gradio
                    raise TransportError(f"cannot open {self.url}: {type(exc).__name__}: {exc}") from exc
            return self._client

    async def reset(self) -> None:
        """A fresh Gradio session on this tab (a reload)."""
        (await self.client()).reset_session()

    async def submit(self, api_name: str, *inputs: Any) -> Any:
        """The outputs of ``api_name`` called with ``inputs``. Raises ``TransportTimeout``,
        ``TransportError`` (no answer), or ``GradioAppError`` (the event raised)."""
        client = await self.client()
        try:
            job = client.submit(*inputs, api_name=api_name)
            return await asyncio.wait_for(asyncio.wrap_future(job.future), self.timeout)
        except TimeoutError as exc:
            raise TransportTimeout(f"no answer from {api_name} within {self.timeout:g}s") from exc
        except Exception as exc:
            # gradio_client's AppError (matched by name: the optional package is imported only
            # to build a client): the app's event raised, so it answered, with an error.
            if type(exc).__name__ == "AppError":
                raise GradioAppError(str(exc)) from exc
            raise TransportError(f"{api_name}: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(client.close)


__all__ = ["GradioAppError", "GradioTab"]
