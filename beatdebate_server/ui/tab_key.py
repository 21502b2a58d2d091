"""The tab key: a secret that only the browser tab holds, binding the tab's conversation
to that tab (issue 16, finding 6).

Gradio keys a tab's server-side ``gr.State`` by a ``session_hash`` that the page makes with
``Math.random`` (not a secure source; about 52 bits) and that travels in URLs
(``/gradio_api/queue/data?session_hash=…``, so in proxy logs). A client that presents
another tab's hash gets that tab's state, and so could read its conversation (``/history``)
or act in it. Gradio offers no hook to choose the hash, so the page adds a second key:

- *tab key*: 256 bits from the browser's ``crypto.getRandomValues``, made when the page
  loads and kept in a hidden field of that tab only. Every event sends it in its body,
  never in a URL.
- *binding*: the first event that brings a key binds the tab's state to it (the state
  keeps only its SHA-256); from then on an event must bring the same key, or it is refused
  with ``403`` and touches nothing.
- *API clients* (``gradio_client``, ``simulate --through ui``) may pass a key as the last
  input of each endpoint. One that passes none binds nothing, and its state is as safe as
  its ``session_hash``: ``gradio_client`` makes that with ``uuid4``, from a secure source.

The check is pure: ``check(bound, presented)``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

# Runs in the browser when the page loads: 32 bytes from the secure source, as hex.
KEY_JS = ("() => { const bytes = new Uint8Array(32); crypto.getRandomValues(bytes); "
          "return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join(''); }")
REFUSED = {"status": 403, "body": {"detail": "this tab's conversation is bound to another "
                                             "tab key"}}


@dataclass(frozen=True, slots=True)
class KeyCheck:
    allowed: bool
    bound: str | None  # the digest the tab's state keeps from now on


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def check(bound: str | None, presented: str | None) -> KeyCheck:
    """Whether an event that brings ``presented`` may act on a state bound to ``bound``
    (a digest, or None: not bound yet), and the binding afterwards."""
    key = (presented or "").strip()
    if bound is None:
        return KeyCheck(allowed=True, bound=digest(key) if key else None)
    allowed = bool(key) and hmac.compare_digest(bound, digest(key))
    return KeyCheck(allowed=allowed, bound=bound)


__all__ = ["KEY_JS", "REFUSED", "KeyCheck", "check", "digest"]
