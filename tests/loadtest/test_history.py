"""Reading operations back: the fast path for parsed JSON gives exactly ``op_from_dict``'s ``Op``."""

from __future__ import annotations

import orjson

from loadtest.history import (
    Anchor, Expect, Op, RecordedTurn, TrackSeen, op_from_dict, op_from_parsed, op_to_dict,
)

FULL = Op(index=7, user=3, conversation="u3.c2", scenario="follow-up-isolation", step="more", action="recommend",
          status="ok", invoked_at=1.25, completed_at=1.5, request_id="r-7", session_sent="s1", session="s1",
          http_status=200, query="More tracks", subject={"artist": "Mk.gee"},
          expect=Expect(kind="by_artist", follow_up="more_tracks", anchor="first", content=("artist",)),
          turn=2, session_created=False, kind="by_artist", follow_up="more_tracks",
          entities={"artist": ("Mk.gee",)},
          anchor=Anchor(turn=1, request_id="r-6", query="Songs by Mk.gee", kind="by_artist",
                        entities={"artist": ("Mk.gee",)}),
          tracks=(TrackSeen("t1", "Mk.gee", ("indie", "lo-fi")), TrackSeen("t2", "Mk.gee")),
          source="primary", notice=None, turn_count=2,
          recorded=(RecordedTurn(turn=1, request_id="r-6", query="Songs by Mk.gee", track_ids=("t0",)),),
          error=None, canary="cw-1", text="some text")


def parsed(op: Op) -> dict:
    return orjson.loads(orjson.dumps(op_to_dict(op)))


def test_the_fast_path_rebuilds_the_same_op_as_op_from_dict() -> None:
    assert op_from_parsed(parsed(FULL)) == op_from_dict(parsed(FULL)) == FULL
    bare = Op(index=0, user=0, conversation="u0.c1", scenario="s", step="first", action="create_session",
              status="fail", invoked_at=0.0, completed_at=None, request_id="r-0", error="connection")
    assert op_from_parsed(parsed(bare)) == bare


def test_a_dict_without_every_field_takes_the_general_path() -> None:
    raw = parsed(FULL)
    del raw["canary"], raw["text"]       # a history written before those fields existed
    op = op_from_parsed(raw)
    assert (op.canary, op.text) == (None, None)
    assert op.anchor == FULL.anchor and op.recorded == FULL.recorded and op.tracks == FULL.tracks
