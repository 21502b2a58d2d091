"""The deliberate defects by name: what each one breaks, and where it lives.

One table, read by the settings (which names are valid), by every ``--help`` that takes
``--defect`` (``defect_help``), by the start-up warning and by the harness (which surface a
defect needs: a defect of the chat page is invisible to a run that drives only the API).
Importing this module is cheap: no FastAPI, no store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

DefectSurface = Literal["api", "ui"]


@dataclass(frozen=True, slots=True)
class DefectInfo:
    name: str
    description: str           # one line: what bleeds, and how
    surface: DefectSurface     # "ui": only a run through the chat page can see it


DEFECTS: Mapping[str, DefectInfo] = {info.name: info for info in (
    DefectInfo("shared-session", "one global session for everybody, as the original front end had: "
                                 "every request, whatever id it carries, lands in one shared session", "api"),
    DefectInfo("lost-update", "turns are read and answered without the session lock, and a turn "
                              "whose number another one took meanwhile is dropped after it was "
                              "answered: concurrent turns of one session are lost", "api"),
    DefectInfo("unscoped-cache", "follow-up answers are cached by query text alone: one session's "
                                 "'More tracks' gets another session's page and anchor", "api"),
    DefectInfo("sticky-refresh", "a new session inherits the turns of the last deleted one, so a "
                                 "refreshed tab keeps its old context", "api"),
    DefectInfo("stale-lock-append", "with the Redis store, an append checks neither the turn lock's lease "
                                    "nor the turn count it read: a turn that outlived its lock (a stalled "
                                    "worker), or two workers' turns on one session, get one number", "api"),
    DefectInfo("ui-global-session", "the chat page (--ui) keeps ONE session id for every browser tab, as "
                                    "the original front end did; the backend itself is clean", "ui"),
)}


def defect_help() -> str:
    """The defects for a ``--help`` text (Rich markup): ``name`` (what it breaks); …"""
    return "; ".join(f"[bold]{info.name}[/] ({info.description})" for info in DEFECTS.values())


__all__ = ["DEFECTS", "DefectInfo", "DefectSurface", "defect_help"]
