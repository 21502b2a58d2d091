"""``mount_ui(app, defect=...)``: put the chat page on a FastAPI app at ``/ui``.

Gradio is the optional extra ``ui``; ``require_gradio`` imports it (only then) and turns a
missing install into ``UiUnavailable``, which ``beatdebate serve`` reports in one line
(exit code 2) like any other setting it cannot serve.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..settings import ServeRefused

UI_PATH = "/ui"
INSTALL_HINT = "pip install 'beatdebate[ui]'"


class UiUnavailable(ServeRefused):
    """``--ui`` was asked for, but Gradio (the ``ui`` extra) is not installed."""


def require_gradio() -> ModuleType:
    """The ``gradio`` module, or ``UiUnavailable`` saying how to install it."""
    try:
        return importlib.import_module("gradio")
    except ImportError as exc:
        raise UiUnavailable(
            f"--ui needs Gradio, the optional extra 'ui', which is not installed ({exc}). "
            f"Install it with: {INSTALL_HINT}") from exc


def mount_ui(app: Any, *, defect: str | None = None, client_header: str | None = None) -> None:
    """Mount the chat page on ``app`` at ``UI_PATH``; ``defect`` is the server's ``--defect``
    (``ui-global-session`` makes every tab share one session id), ``client_header`` its
    ``--client-header`` (the page's calls carry each browser's, for the rate limits)."""
    gr = require_gradio()
    from .backend import Backend
    from .blocks import build_blocks
    from .render import CSS
    from .sessions import session_policy

    blocks = build_blocks(Backend(app, client_header=client_header),
                          sessions=session_policy(defect), client_header=client_header)
    # No server-side run history ("runs" keeps every tab's inputs in one place) and no
    # SSR node process; the API link stays, for `simulate --through ui` and other clients.
    gr.mount_gradio_app(app, blocks, path=UI_PATH, footer_links=["api"], run_history=False,
                        ssr_mode=False, mcp_server=False, css=CSS)


__all__ = ["INSTALL_HINT", "UI_PATH", "UiUnavailable", "mount_ui", "require_gradio"]
