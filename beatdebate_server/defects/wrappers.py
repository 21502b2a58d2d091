"""Where a deliberate defect plugs in, and which defect plugs in where.

``Wrappers`` declares the three wrap points of the server; ``create_app`` applies the ones
of its ``--defect`` once, while it builds the app, and never per request:

- ``store(store) -> SessionStore``: wraps the session store that the routes and the
  service use (``lost-update``, ``sticky-refresh``, ``stale-lock-append``);
- ``answers(answers) -> Answering``: wraps the answering step of every turn
  (``unscoped-cache``);
- ``service(service, store) -> SessionService``: wraps the service that the routes call
  (``shared-session``).

With no defect, every wrap point is empty and each ``wrap_*`` hands back what it is given:
the clean server runs the production objects themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..service.answers import Answering
from ..service.turn import SessionService
from ..store.base import SessionStore
from .catalog import DEFECTS
from .lost_update import LostUpdate
from .shared_session import SharedSession
from .stale_lock_append import StaleLockAppend
from .sticky_refresh import StickyRefresh
from .unscoped_cache import UnscopedCache

StoreWrap = Callable[[SessionStore], SessionStore]
AnswersWrap = Callable[[Answering], Answering]
ServiceWrap = Callable[[SessionService, SessionStore], SessionService]


@dataclass(frozen=True, slots=True)
class Wrappers:
    """A defect's wrappers; None at a wrap point leaves that part of the server clean."""

    store: StoreWrap | None = None
    answers: AnswersWrap | None = None
    service: ServiceWrap | None = None

    def wrap_store(self, store: SessionStore) -> SessionStore:
        return store if self.store is None else self.store(store)

    def wrap_answers(self, answers: Answering) -> Answering:
        return answers if self.answers is None else self.answers(answers)

    def wrap_service(self, service: SessionService, store: SessionStore) -> SessionService:
        return service if self.service is None else self.service(service, store)


NO_DEFECT = Wrappers()

_BY_NAME: Mapping[str, Wrappers] = {
    "shared-session": Wrappers(service=SharedSession),
    "lost-update": Wrappers(store=LostUpdate),
    "unscoped-cache": Wrappers(answers=UnscopedCache),
    "sticky-refresh": Wrappers(store=StickyRefresh),
    "stale-lock-append": Wrappers(store=StaleLockAppend),
    # The chat page's defect (``ui/sessions.py``): the backend stays clean.
    "ui-global-session": NO_DEFECT,
}


def wrappers_for(name: str | None) -> Wrappers:
    """The wrappers of the defect called ``name`` (a name of ``catalog.DEFECTS``), or
    ``NO_DEFECT`` for None. Raises ``ValueError`` for a name the catalog does not know."""
    if name is None:
        return NO_DEFECT
    if name not in DEFECTS:
        raise ValueError(f"unknown defect {name!r}; known: {', '.join(DEFECTS)}")
    return _BY_NAME[name]


__all__ = ["NO_DEFECT", "AnswersWrap", "ServiceWrap", "StoreWrap", "Wrappers", "wrappers_for"]
