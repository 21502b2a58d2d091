"""Query understanding and recommending: a pure core, no I/O, no clocks, no randomness.

The server calls exactly this surface (see ``engine.Recommender``):

    recommender = Recommender(catalog)            # builds every index once
    intent = recommender.understand("Songs by Mk.gee")
    answer = recommender.recommend(intent, session.turns, limit=10)
    answer = recommender.fallback(intent, session.turns, limit=10)   # the simpler path

``answer`` depends only on the catalog, the query and that session's own turns: that is the
contract's determinism clause, and it is what lets the harness compare sessions.

Modules: ``intent`` (query → Intent, with ``vocabulary`` and ``names``), ``followup``
(resolving a follow-up against the session's turns), ``candidates`` (one lazy list per
subject), ``index`` (built once per catalog), ``engine`` (the Recommender), ``fallback``.
"""

from .engine import Recommender as Recommender
from .model import Answer as Answer
from .model import FollowUp as FollowUp
from .model import Intent as Intent
from .model import Kind as Kind
from .model import Modifier as Modifier
from .model import Pick as Pick

__all__ = ["Answer", "FollowUp", "Intent", "Kind", "Modifier", "Pick", "Recommender"]
