"""Which server a run drives, and the rules on choosing it, shared by ``simulate``, ``gate`` and ``locust``.

Terms:
- *own target*: a server the caller names (``--target URL``, Locust's ``--host``, a Locust
  worker's master's host, an in-process app). Without one, the harness starts an
  *embedded server* (a ``beatdebate serve`` child process) for the run.
- *embedded server options*: ``--defect``, ``--store`` and ``--server-workers`` configure that
  child; with an own target they would silently do nothing, so they are refused.
- *surface*: what virtual users drive: ``api`` (the HTTP contract) or ``ui`` (the chat page,
  under ``UI_PATH``, driven by the built-in gradio profile ``beatdebate-chat-page``).
  A defect of the chat page (``DefectInfo.surface == "ui"``) is invisible to a run through
  the API, so asking for it there is refused too, rather than passing vacuously.

Every refusal is a ``UsageError`` naming the options.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatdebate_server.defects.catalog import DEFECTS
from loadtest.defaults import SERVER_WORKERS, STORE, Through
from loadtest.errors import UsageError

SURFACES: tuple[Through, ...] = ("api", "ui")
UI_PATH = "/ui/"        # where ``beatdebate serve --ui`` serves the chat page


@dataclass(frozen=True, slots=True)
class EmbeddedServer:
    """How to start the embedded server (used only when the run has no own target)."""

    defect: str | None = None
    store: str = STORE
    workers: int = SERVER_WORKERS

    @property
    def is_default(self) -> bool:
        return self.defect is None and self.store == STORE and self.workers == SERVER_WORKERS


def parse_surface(text: str) -> Through:
    """``--through``: ``api`` or ``ui``."""
    for surface in SURFACES:
        if text == surface:
            return surface
    raise UsageError(f"--through must be one of {', '.join(SURFACES)}, not {text!r}")


def surface_url(url: str, through: Through) -> str:
    """Where users reach ``through`` on the server at base URL ``url``: the API at its root,
    the chat page under ``UI_PATH``."""
    return url.rstrip("/") + UI_PATH if through == "ui" else url


def check_target(*, url: str | None, own_target: bool, server: EmbeddedServer, through: Through,
                 own_target_flag: str = "--target") -> None:
    """Refuse a choice of target that cannot run as asked (raises ``UsageError``).

    ``url`` is the own target's base URL when it has one; ``own_target`` says whether there is
    one at all; ``own_target_flag`` names it in the message (``--target``, ``--host``…).
    """
    if url is not None and not url.startswith(("http://", "https://")):
        raise UsageError(f"{own_target_flag} must be an http:// or https:// URL, not {url!r}")
    if own_target and not server.is_default:
        raise UsageError("--defect, --store and --server-workers configure the embedded server; "
                         f"they cannot be used with {own_target_flag}")
    if server.workers < 1:
        raise UsageError("--server-workers must be at least 1")
    if server.defect is None:
        return
    info = DEFECTS.get(server.defect)
    if info is None:
        raise UsageError(f"--defect: no defect {server.defect!r} (known: {', '.join(DEFECTS)})")
    # A chat page's defect needs users on the chat page; a defect of the API shows either way
    # (the chat page calls the API).
    if info.surface == "ui" and through != "ui":
        raise UsageError(f"--defect {info.name} breaks the chat page, which a run that drives only "
                         "the API never sees: use --through ui (beatdebate simulate --through ui)")


__all__ = ["SURFACES", "UI_PATH", "EmbeddedServer", "check_target", "parse_surface", "surface_url"]
