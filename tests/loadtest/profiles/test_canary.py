"""Canaries: their shape, made from the user's RNG, planted through scenarios, carried on ops."""

from __future__ import annotations

import random
import time

import httpx
import orjson
import pytest
from profile_build import Sink

from loadtest.canary import CANARY_PATTERN, find_canaries, make_canary, uses_canary
from loadtest.history import Expect
from loadtest.personas import Persona
from loadtest.scenario import QueryStep, ScenarioError, load_builtin, parse_scenarios
from loadtest.transport import HttpxTransport
from loadtest.users import UserSettings, VirtualUser


def test_a_canary_has_the_agreed_shape_and_comes_from_the_rng() -> None:
    made = [make_canary(random.Random(seed)) for seed in range(200)]
    assert all(CANARY_PATTERN.fullmatch(c) for c in made)
    assert all(c.startswith("cn") and len(c) == 12 for c in made)
    assert len(set(made)) == len(made)
    assert make_canary(random.Random(7)) == make_canary(random.Random(7))


def test_canaries_are_found_in_text_and_nothing_else_is() -> None:
    one, two = make_canary(random.Random(1)), make_canary(random.Random(2))
    assert find_canaries(f"Your code words are {one}, {two}.") == (one, two)
    assert find_canaries(f"x{one}") == ()               # part of a longer word
    assert find_canaries("cnABCDEFGHIJ and cn0189abcdef, a cancan") == ()


def test_the_canary_recall_scenario() -> None:
    (scenario,) = load_builtin("canary-recall")
    plant, recall = [s for s in scenario.steps if isinstance(s, QueryStep)]
    assert uses_canary(plant.query) and not uses_canary(recall.query)
    assert recall.expect == Expect(canary=True)
    assert scenario.needs == ()                      # the canary is not a persona field
    assert scenario.conversations == 2


@pytest.mark.parametrize(("text", "message"), [
    ('name = "c"\n[[steps]]\nquery = "What code word?"\nexpect = { canary = true }\n',
     "<memory>:4: steps[0].expect.canary: no earlier query of this conversation plants {canary}"),
    ('name = "c"\n[[steps]]\nquery = "Remember {canary}"\n[[steps]]\nrefresh = true\n'
     '[[steps]]\nquery = "What code word?"\nexpect = { canary = true }\n',
     "<memory>:8: steps[2].expect.canary: no earlier query of this conversation plants {canary}"),
    ('name = "c"\n[[steps]]\nquery = "Remember {canary}"\nexpect = { canary = "maybe" }\n',
     "<memory>:4: steps[0].expect.canary: Input should be a valid boolean"),
])
def test_a_canary_expectation_needs_an_earlier_plant(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenarios(text)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_canary_scenario_with_explicit_needs_does_not_list_the_canary() -> None:
    (scenario,) = parse_scenarios('name = "c"\nneeds = ["artist"]\n[[steps]]\nquery = "{artist}: remember {canary}"\n')
    assert scenario.needs == ("artist",)


@pytest.mark.anyio
async def test_a_user_plants_its_conversations_canary_and_carries_it() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content) if request.content else {}
        queries.append(body.get("query", ""))
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.method == "GET":
            return httpx.Response(200, json={"session_id": "s" * 20, "turn_count": 0, "turns": []})
        return httpx.Response(200, json={"session_id": "s" * 20, "turn": 1, "recommendations": []})

    (scenario,) = load_builtin("canary-recall")
    sink = Sink()
    user = VirtualUser(4, transport=HttpxTransport("http://x", timeout=5, transport=httpx.MockTransport(handler)),
                       persona=Persona("p", {"artist": "Burial"}), rng=random.Random(3), sink=sink,
                       settings=UserSettings(run_tag="t", started=time.monotonic(), think_scale=0))
    await user.run_iteration(scenario)
    await user.aclose()
    ops = sorted(sink.ops, key=lambda op: op.index)
    plants = [op for op in ops if op.step == "plant"]
    assert len(plants) == 2
    first, second = (op.canary for op in plants)
    assert first is not None and second is not None and first != second
    assert [op.query for op in plants] == [f"Remember this code word: {first}", f"Remember this code word: {second}"]
    for op in ops:
        own = first if op.conversation == plants[0].conversation else second
        assert op.canary == own, (op.step, op.conversation)
    recall = next(op for op in ops if op.step == "recall")
    assert recall.expect.canary is True and recall.query == "What code word did I give you?"
