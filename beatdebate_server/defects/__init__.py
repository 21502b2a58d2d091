"""Deliberate defects (``--defect NAME``): known ways to bleed context, on purpose.

They exist so that the isolation checks can be shown to fail when the server is wrong.
The production turn (``service/turn.py``) and the store seam (``SessionStore``) know
nothing of them: each defect is a wrapper around the store, the turn's ``Answering`` or the
service, declared in ``wrappers.py`` and composed only when the app is built with that
defect on, so the clean server has no extra layer at all.

- ``catalog.py``: the ONE table of names, descriptions and surfaces (what settings accept,
  what ``--help`` and the start-up warning say, what the harness must drive).
- ``wrappers.py``: ``Wrappers`` (the wrap points) and ``wrappers_for(name)``.
- ``shared_session.py``, ``lost_update.py``, ``unscoped_cache.py``, ``sticky_refresh.py``,
  ``stale_lock_append.py``: one defect each. ``ui-global-session`` wraps nothing of the backend: it is the chat
  page's session policy (``ui/sessions.py``).

This ``__init__`` re-exports the catalog only, so that reading the names stays cheap.
"""

from .catalog import DEFECTS as DEFECTS
from .catalog import DefectInfo as DefectInfo
from .catalog import DefectSurface as DefectSurface
from .catalog import defect_help as defect_help

__all__ = ["DEFECTS", "DefectInfo", "DefectSurface", "defect_help"]
