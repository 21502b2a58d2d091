"""curl_for, describe and the session hash."""

from __future__ import annotations

import json
import shlex

from oracle_build import Builder, chat, sid

from beatdebate_server.ids import hash_id as server_hash_id
from loadtest.oracle import check, curl_for, describe, explain


def test_the_session_hash_is_the_servers() -> None:
    assert explain.hash_id(sid("s1")) == server_hash_id(sid("s1"))
    assert explain.session_ref(sid("s1")) == f"#{server_hash_id(sid('s1'))}"
    assert explain.session_ref(None) == "no session"


def test_curl_for_a_recommendation_replays_method_path_body_and_request_id() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", "Songs by Sigur Rós", artist="Sigur Rós")
    more = h.more("u1.c1", "s1", anchor=first)
    assert curl_for(first, "http://127.0.0.1:8000/") == (
        "curl -sS -i -X POST http://127.0.0.1:8000/recommendations"
        " -H 'Content-Type: application/json' -H 'X-Request-ID: r0'"
        " --data '{\"query\": \"Songs by Sigur Rós\", \"session_id\": null}'")
    argv = shlex.split(curl_for(more, "http://t"))
    assert argv[:6] == ["curl", "-sS", "-i", "-X", "POST", "http://t/recommendations"]
    assert argv[argv.index("-H", 7) + 1] == "X-Request-ID: r1"
    assert json.loads(argv[-1]) == {"query": "More tracks", "session_id": sid("s1")}


def test_curl_for_session_endpoints() -> None:
    h = Builder()
    chat(h, "u1.c1", "s1", "Burial", pages=0)
    read = h.read("u1.c1", "s1")
    delete = h.delete("u1.c1", "s1")
    create = h.create("u2.c1", "s2")
    assert curl_for(read, "http://t") == f"curl -sS -i -X GET http://t/sessions/{sid('s1')} -H 'X-Request-ID: r1'"
    assert curl_for(delete, "http://t") == f"curl -sS -i -X DELETE http://t/sessions/{sid('s1')} -H 'X-Request-ID: r2'"
    assert curl_for(create, "http://t") == "curl -sS -i -X POST http://t/sessions -H 'X-Request-ID: r3'"


def test_describe_shows_each_witness_op_without_raw_session_ids() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial", pages=0)
    chat(h, "u2.c1", "s2", "Mk.gee", pages=0)
    h.more("u2.c1", "s2", anchor=burial[0], step="more")
    anomaly = check(h.ops).anomalies["foreign-anchor"][0]
    text = describe(anomaly, {op.index: op for op in h.ops})
    lines = text.splitlines()
    assert lines[0] == f"foreign-anchor (bleeding): {anomaly.explanation}"
    assert "  victim op 2: u2.c1 (session #" in text and "  source op 0: u1.c1 (session #" in text
    assert "invoked 2.000 completed 2.500" in text
    assert "anchor turn 1 request r0 'Songs by Burial'" in text
    assert "tracks burial-0 (Burial), burial-1 (Burial), burial-2 (Burial)" in text
    assert sid("s1") not in text and sid("s2") not in text
    assert sid("s1") not in anomaly.explanation


def test_describe_tolerates_ops_it_does_not_have() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial", pages=0)
    chat(h, "u2.c1", "s2", "Mk.gee", pages=0)
    h.more("u2.c1", "s2", anchor=burial[0])
    anomaly = check(h.ops).anomalies["foreign-anchor"][0]
    assert "source op 0: (not in history)" in describe(anomaly, {})
