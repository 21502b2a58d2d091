"""Selectors: the plain-path fast path answers exactly as JMESPath does; the rest is JMESPath."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest

from loadtest.profiles.selector import SelectorError, compile_selector

DOCUMENTS: list[Any] = [
    {"session_id": "s1", "intent": {"kind": "by_artist", "follow_up": None}, "turn": 2,
     "metadata": {"context_decision": {"is_followup": True}}, "true": "a key named true"},
    {"intent": "not an object", "metadata": None},
    {"intent": {"kind": ["a", "list"]}, "metadata": {"context_decision": []}},
    [{"session_id": "in a list"}],
    "just text",
    None,
    42,
]
PLAIN = ["session_id", "intent.kind", "intent.follow_up", "metadata.context_decision.is_followup",
         "missing", "missing.deeper.still", "turn", "true", "_private", "@"]


@pytest.mark.parametrize("expression", PLAIN)
def test_a_plain_path_takes_the_fast_path_and_agrees_with_jmespath(expression: str) -> None:
    selector = compile_selector(expression)
    assert selector.plain is True
    for document in DOCUMENTS:
        assert selector.search(document) == jmespath.search(expression, document), (expression, document)


@pytest.mark.parametrize(("expression", "document", "expected"), [
    ("recommendations[0].title", {"recommendations": [{"title": "Creep"}]}, "Creep"),
    ("recommendations[?source=='primary'].title",
     {"recommendations": [{"title": "A", "source": "primary"}, {"title": "B", "source": "fallback"}]}, ["A"]),
    ("length(recommendations)", {"recommendations": [1, 2, 3]}, 3),
    ("join(', ', reasoning)", {"reasoning": ["one", "two"]}, "one, two"),
    ("a.{artists: artists, genres: genres}", {"a": {"artists": ["X"], "genres": ["rock"], "moods": []}},
     {"artists": ["X"], "genres": ["rock"]}),
    ("a.{artists: artists}", {"a": None}, None),
    ('"quoted key"', {"quoted key": 1}, 1),
    ("items[*].artist", {"items": [{"artist": "X"}, {"title": "no artist"}]}, ["X"]),
    ("missing[0]", {}, None),
])
def test_any_other_expression_is_jmespath(expression: str, document: Any, expected: Any) -> None:
    selector = compile_selector(expression)
    assert selector.plain is False
    assert selector.search(document) == expected


def test_surrounding_spaces_do_not_matter() -> None:
    assert compile_selector("  intent.kind ").search({"intent": {"kind": "k"}}) == "k"


@pytest.mark.parametrize("expression", ["recommendations[", "a..b", "[?x==]", "foo(", "a.b.", ""])
def test_a_bad_expression_says_so(expression: str) -> None:
    with pytest.raises(SelectorError, match="not a JMESPath expression"):
        compile_selector(expression)
