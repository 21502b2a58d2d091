"""The HTTP contract's bodies as pydantic models (contract v1; field names are fixed).

Requests are validated strictly: a JSON string is not an integer and ``"yes"`` is not a
boolean, so a client that sends the wrong type hears ``422`` instead of a guess. Response
models document ``/openapi.json``; the hot path builds the same shape as plain data.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from ..ids import REQUEST_ID_PATTERN, SESSION_ID_PATTERN
from ..session import Source

IntentKind = Literal["by_artist", "artist_similarity", "genre_mood", "contextual",
                     "discovery", "follow_up"]
FollowUp = Literal["more_tracks", "more_like_these", "more_from_artist"]

MAX_QUERY_CHARS = 500
MAX_BODY_BYTES = 16 * 1024

SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN, min_length=16,
                                             max_length=128)]
RequestId = Annotated[str, StringConstraints(pattern=REQUEST_ID_PATTERN, min_length=1,
                                             max_length=128)]
# What "trimming" removes: Python's whitespace and ECMAScript's ``\s`` together, spelled
# out, so that the documented pattern means the same to every regex engine that reads it
# (JSON Schema's ``\s`` is ECMAScript's; Python's ``str.strip`` also strips \x1c-\x1f, \x85).
_WHITESPACE = ("\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003"
               "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
_NOT_ONLY_WHITESPACE = ("[^\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a"
                        "\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]")
Entities = dict[str, list[str]]


class RecommendationRequest(BaseModel):
    """``POST /recommendations``. Unknown fields (an old front end's extras) are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")

    query: str = Field(description="What to recommend: 1–500 characters after trimming "
                                   "whitespace.",
                       examples=["Songs by Mk.gee", "More tracks"],
                       json_schema_extra={"minLength": 1, "maxLength": MAX_QUERY_CHARS,
                                          "pattern": _NOT_ONLY_WHITESPACE})
    session_id: SessionId | None = Field(
        default=None,
        description="A session id the server returned earlier; absent or null starts a "
                    "new session. An id the server does not hold starts a new session "
                    "under a new id.")
    max_recommendations: int = Field(default=10, ge=1, le=50, strict=False)
    include_previews: bool = True

    @field_validator("query", mode="before")
    @classmethod
    def _trimmed_query(cls, value: object) -> object:
        # The length rule applies after trimming (contract), so it is checked here rather
        # than by constraints on the raw string; errors keep pydantic's types.
        if not isinstance(value, str):
            return value  # strict ``str`` validation reports the type
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                # A lone surrogate (``"\\ud800"`` in JSON): no text, and no answer could
                # echo it back as UTF-8.
                raise PydanticCustomError("string_unicode",
                                          "Input should be a valid string: lone surrogates "
                                          "are not text") from None
        query = value.strip(_WHITESPACE)
        if not query:
            raise PydanticCustomError("string_too_short",
                                      "String should have at least 1 character after "
                                      "trimming whitespace", {"min_length": 1})
        if len(query) > MAX_QUERY_CHARS:
            raise PydanticCustomError("string_too_long",
                                      "String should have at most {max_length} characters "
                                      "after trimming whitespace",
                                      {"max_length": MAX_QUERY_CHARS})
        return query

    @field_validator("max_recommendations", mode="before")
    @classmethod
    def _json_integer(cls, value: object) -> object:
        # JSON Schema's integer: 8 and 8.0 are, "8" and true are not (8.5 fails later).
        if isinstance(value, bool | str):
            raise ValueError("must be a JSON integer")
        return value


class IntentView(BaseModel):
    kind: IntentKind
    follow_up: FollowUp | None
    entities: Entities


class AnchorView(BaseModel):
    turn: int = Field(ge=1)
    request_id: str
    query: str
    kind: IntentKind
    entities: Entities


class ContextView(BaseModel):
    anchor: AnchorView | None = Field(
        description="The earlier turn of this session a follow-up was resolved against.")


class RecommendationView(BaseModel):
    track_id: str
    title: str
    artist: str
    tags: list[str]
    score: float
    explanation: str
    album: str | None = None
    popularity: int | None = None
    preview_url: str | None = None


class RecommendationResponse(BaseModel):
    session_id: str
    request_id: str
    turn: int = Field(ge=1)
    session_created: bool
    intent: IntentView
    context: ContextView
    recommendations: list[RecommendationView]
    source: Source
    fallback_reason: str | None
    notice: str | None = None


class SessionCreated(BaseModel):
    session_id: str
    created_at: str = Field(description="ISO 8601, UTC.")
    expires_at: str = Field(description="When the session expires if it stays idle.")


class TurnView(BaseModel):
    turn: int = Field(ge=1)
    request_id: str
    query: str
    intent: IntentView
    anchor_turn: int | None
    track_ids: list[str]
    at: str
    source: Source = "primary"


class SessionHistory(BaseModel):
    session_id: str
    created_at: str
    last_active_at: str
    expires_at: str
    turn_count: int = Field(ge=0, description="All turns ever; ``turns`` keeps the last few.")
    turns: list[TurnView]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    store: Literal["memory", "redis"]
    sessions: int | None = None
    detail: str | None = None


class ErrorDetail(BaseModel):
    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    413: {"model": ErrorDetail, "description": f"Request body over {MAX_BODY_BYTES} bytes."},
    503: {"model": ErrorDetail, "description": "The session store is unreachable; "
                                               "nothing was written."},
}
# The routes that start sessions or take turns are rate-limited per client (throttle.py).
LIMITED_RESPONSES: dict[int | str, dict[str, object]] = {
    **ERROR_RESPONSES,
    429: {"model": ErrorDetail, "description": "Past this client's rate of new sessions or "
                                               "turns; nothing was written. Retry-After says "
                                               "when to try again.",
          "headers": {"Retry-After": {"description": "Seconds to wait.",
                                      "schema": {"type": "integer", "minimum": 1}}}},
}
