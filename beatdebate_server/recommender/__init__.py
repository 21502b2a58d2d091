"""Query understanding and recommending: a pure core, no I/O, no clocks, no randomness.

The server calls exactly this surface (see ``engine.Recommender``):

    recommender = Recommender(catalog)            # builds every index once
    intent = recommender.understand("Songs by Mk.gee")
    answer = recommender.recommend(intent, session.turns, limit=10)

``answer`` depends only on the catalog, the query and that session's own turns: that is the
contract's determinism clause, and it is what lets the harness compare sessions.
"""
