"""The surface the server codes against: names, signatures, and ``__all__`` kept honest."""

from __future__ import annotations

import inspect

import beatdebate_server.recommender as recommender_package
from beatdebate_server.recommender import Answer, Intent, Pick, Recommender


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(recommender_package)
              if not name.startswith("_") and not inspect.ismodule(getattr(recommender_package, name))}
    assert set(recommender_package.__all__) == public
    assert {"Recommender", "Intent", "Answer", "Pick"} <= public


def test_recommend_and_fallback_take_limit_by_keyword_only() -> None:
    for method in (Recommender.recommend, Recommender.fallback):
        parameters = inspect.signature(method).parameters
        assert list(parameters) == ["self", "intent", "turns", "limit"]
        assert parameters["limit"].kind is inspect.Parameter.KEYWORD_ONLY


def test_records_are_frozen() -> None:
    for record in (Intent, Answer, Pick):
        assert record.__dataclass_params__.frozen  # type: ignore[attr-defined]
