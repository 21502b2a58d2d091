"""Where the chat page keeps a tab's session id: the tab's own ``gr.State`` (clean), or one
id shared by every tab (``--defect ui-global-session``).

Handlers never touch the id directly: they ``read`` it from the policy, given the tab's
state, and store what ``adopt`` returns back into the tab's state.
"""

from __future__ import annotations

from typing import Protocol

UI_DEFECT = "ui-global-session"


class SessionPolicy(Protocol):
    def read(self, tab_session: str | None) -> str | None:
        """The session id this tab's next request carries (None: let the backend mint one)."""
        ...

    def adopt(self, session_id: str | None) -> str | None:
        """Record the id the backend answered with (None: the tab's chat was ended);
        returns the value for the tab's ``gr.State``."""
        ...


class TabSessions:
    """The fix of the design note (§4.1.1): the id lives in each tab's ``gr.State`` only."""

    def read(self, tab_session: str | None) -> str | None:
        return tab_session

    def adopt(self, session_id: str | None) -> str | None:
        return session_id


class GlobalSession:
    """DELIBERATE DEFECT (``ui-global-session``): the original front end's single
    ``self.session_id``, one id for every tab. Every tab's turns land in one backend session,
    so a tab's "More tracks" follows up on whatever any tab asked last."""

    def __init__(self) -> None:
        self._shared: str | None = None

    def read(self, tab_session: str | None) -> str | None:
        return self._shared

    def adopt(self, session_id: str | None) -> str | None:
        self._shared = session_id
        return session_id


def session_policy(defect: str | None) -> SessionPolicy:
    """The policy for the server's ``--defect`` (only ``ui-global-session`` concerns the UI)."""
    return GlobalSession() if defect == UI_DEFECT else TabSessions()


__all__ = ["UI_DEFECT", "GlobalSession", "SessionPolicy", "TabSessions", "session_policy"]
