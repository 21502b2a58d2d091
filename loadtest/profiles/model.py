"""Target profiles: how the harness talks to a session service, and what its answers can prove.

Terms:
- *profile*: one TOML file (format: ``docs/profiles.md``) validated into ``Profile``. Its
  ``kind`` says how requests travel: ``contract`` (the native path of ``docs/api-contract.md``),
  ``http`` (any JSON-over-HTTP service, described by templates and selectors) or ``gradio``
  (a Gradio app's API endpoint, one Gradio session per conversation).
- *template*: a request part (path, header value, body value, Gradio input) whose strings
  may hold ``{query}``, ``{session_id}``, ``{max_recommendations}`` and ``{request_id}``.
- *selector*: a JMESPath expression (``loadtest.profiles.selector``) that picks one field
  of an answer, or of an item of it.
- *format*: how an answer is read: ``selectors`` (the ``[answer]`` selectors, the default) or
  ``contract`` (the answer is in ``docs/api-contract.md``'s own shape, read by the native
  parsers: every piece of the contract's evidence but text).
- *envelope* (gradio): ``[gradio] status`` and ``body``, selectors into a Gradio call's
  outputs giving an HTTP-like status and the answer the ``[answer]`` selectors read, for an
  app that hands back the raw answer behind each event.
- *evidence*: what a profile's answers can prove (the checker's ``Evidence`` vocabulary),
  derived only from the selectors and settings it has (``evidence``): a profile cannot
  claim a property it gives the checker no data for.
- *minted_by*: who makes session ids: ``server`` (the client sends none at the start and
  carries the one answered), ``client`` (the harness makes a uuid4 per conversation) or
  ``either`` (the server makes one when none is sent and takes a client's as given).
- *held_by*: who carries the id from one request to the next: ``harness`` (it travels in
  the templates or a cookie; a gradio profile's conversation id opens a Gradio session of
  its own) or ``tab`` (gradio only: the app's per-tab state holds the id its backend
  minted, so the harness never sends one; asking to carry another id opens a fresh Gradio
  session, as a new browser tab would).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from loadtest.history import FOLLOW_UP_FLAG
from loadtest.oracle.model import EVIDENCE, Evidence

# The native path reads every contract field; a contract answer has no prose, so no text.
CONTRACT_EVIDENCE: frozenset[Evidence] = frozenset(EVIDENCE) - {"text"}

Kind = Literal["contract", "http", "gradio"]
MintedBy = Literal["server", "client", "either"]
HeldBy = Literal["harness", "tab"]
AnswerFormat = Literal["selectors", "contract"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
PLACEHOLDERS = ("query", "session_id", "max_recommendations", "request_id")
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

Selector = str             # a JMESPath expression; validated when the profile is loaded


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionSpec(_Strict):
    """Where the session id comes from and how it travels besides the templates."""

    minted_by: MintedBy | None = None          # default: server (http, a tab), client (gradio)
    held_by: HeldBy = "harness"
    cookie: str | None = Field(default=None, min_length=1)   # the id travels in this cookie
    absent: Literal["omit", "null"] = "omit"   # a body value "{session_id}" with no id


class CallSpec(_Strict):
    """One HTTP call, as templates."""

    method: Method = "POST"
    path: str = Field(min_length=1)
    headers: dict[str, str] = {}
    body: dict[str, Any] | None = None


class RecommendSpec(CallSpec):
    max_recommendations: int = Field(10, ge=1, le=1000)   # the most the service accepts


class CreateSessionSpec(CallSpec):
    session_id: Selector = "session_id"


class RecordedTurnSpec(_Strict):
    turn: Selector | None = None
    request_id: Selector | None = None
    query: Selector | None = None
    anchor_turn: Selector | None = None
    track_ids: Selector | None = None


class HistorySelectors(_Strict):
    """Selectors into a history read's answer (an HTTP call's or a Gradio call's)."""

    session_id: Selector | None = None
    turn_count: Selector | None = None
    turns: Selector | None = None
    turn: RecordedTurnSpec = RecordedTurnSpec()


class ReadHistorySpec(CallSpec, HistorySelectors):
    method: Method = "GET"


class DeleteSessionSpec(CallSpec):
    method: Method = "DELETE"


class ItemSpec(_Strict):
    """Per item of ``answer.items``: its identity and its subject fields."""

    id: Selector | list[Selector] | None = None    # a list: a tuple identity (artist + title)
    artist: Selector | None = None
    tags: list[Selector] = []                       # each gives a string or a list of strings


class AnchorSpec(_Strict):
    at: Selector                                    # the anchor object; null: no anchor
    turn: Selector | None = None
    request_id: Selector | None = None
    query: Selector | None = None
    kind: Selector | None = None
    entities: Selector | None = None


class AnswerSpec(_Strict):
    """Selectors into a recommend answer (the parsed JSON body, or a Gradio app's outputs or
    envelope body), or ``format = "contract"``: the contract's own shape, no selectors."""

    session_id: Selector | None = None
    session_header: str | None = Field(default=None, min_length=1)   # the id in an answer header
    session_created: Selector | None = None
    turn: Selector | None = None
    kind: Selector | None = None
    follow_up: Selector | None = None               # a kind string, or a flag (FOLLOW_UP_FLAG)
    followed_query: Selector | None = None          # an echo of the query followed up on
    entities: Selector | None = None
    source: Selector | None = None
    notice: Selector | None = None
    text: Selector | None = None
    items: Selector | None = None
    item: ItemSpec | None = None
    anchor: AnchorSpec | None = None
    format: AnswerFormat = "selectors"             # "contract": the contract's own shape, no selectors


class GradioCallSpec(_Strict):
    """One more endpoint of a Gradio app, for an action besides the query."""

    api_name: str = Field(pattern=r"^/")
    inputs: list[Any] = []                          # positional arguments: templates or fixed values
    # The envelope where this endpoint's outputs differ (a single output comes back bare,
    # not in a list); None: as [gradio] says.
    status: Selector | None = None
    body: Selector | None = None


class GradioCreateSessionSpec(GradioCallSpec):
    session_id: Selector = "session_id"             # in the answer (after the envelope)


class GradioReadHistorySpec(GradioCallSpec, HistorySelectors):
    pass


class GradioSpec(_Strict):
    api_name: str = Field(pattern=r"^/")            # the query's endpoint
    inputs: list[Any] = ["{query}"]                 # positional arguments: templates or fixed values
    status: Selector | None = None                  # envelope: an HTTP-like status in the outputs
    body: Selector | None = None                    # envelope: the answer in the outputs
    create_session: GradioCreateSessionSpec | None = None
    read_history: GradioReadHistorySpec | None = None
    delete_session: GradioCallSpec | None = None

    def calls(self) -> dict[str, GradioCallSpec]:
        """The per-action endpoints the profile names, by table name."""
        found = {"create_session": self.create_session, "read_history": self.read_history,
                 "delete_session": self.delete_session}
        return {name: call for name, call in found.items() if call is not None}


class PropertiesSpec(_Strict):
    allow: list[str] = []                           # violations of these do not fail the run
    deny: list[str] = []                            # these are judged even if the profile allows them


class RunSpec(_Strict):
    scenarios: list[str] = []                       # built-in scenarios judged by default


class Profile(_Strict):
    # Where it was loaded from (a built-in's name, or a file's absolute path), so that a report
    # or a re-check can load it again; set by ``load_profile``, not by the file.
    _source: str = PrivateAttr(default="")
    name: str = Field(pattern=NAME)
    description: str = ""
    kind: Kind = "http"
    deterministic: bool = False
    session: SessionSpec = SessionSpec()
    recommend: RecommendSpec | None = None
    create_session: CreateSessionSpec | None = None
    read_history: ReadHistorySpec | None = None
    delete_session: DeleteSessionSpec | None = None
    gradio: GradioSpec | None = None
    answer: AnswerSpec = AnswerSpec()
    properties: PropertiesSpec = PropertiesSpec()
    run: RunSpec = RunSpec()

    @property
    def source(self) -> str:
        """What ``load_profile`` takes to load this profile again ("" for one parsed from text)."""
        return self._source

    @property
    def minted_by(self) -> MintedBy:
        if self.session.minted_by is not None:
            return self.session.minted_by
        return "client" if self.kind == "gradio" and not self.tab_holds_session else "server"

    @property
    def tab_holds_session(self) -> bool:
        """Whether the app's per-tab state carries the session id (``held_by = "tab"``)."""
        return self.session.held_by == "tab"

    @property
    def history_selectors(self) -> HistorySelectors | None:
        """How a history read's answer is read (its call's selectors), or None: no history call."""
        if self.gradio is not None:
            return self.gradio.read_history
        return self.read_history


def _strings(value: Any) -> list[str]:
    """Every string inside a template value (tables and arrays walked)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def template_strings(call: CallSpec) -> list[str]:
    """The path, header values and body strings of ``call``: where placeholders may be."""
    return [call.path, *call.headers.values(), *_strings(call.body)]


def sends_session_id(profile: Profile) -> bool:
    """Whether the service is ever sent the session id (a template or the cookie)."""
    if profile.kind == "contract":
        return True
    if profile.session.cookie is not None:
        return True
    calls = [c for c in (profile.recommend, profile.create_session, profile.read_history,
                         profile.delete_session) if c is not None]
    strings = [s for call in calls for s in template_strings(call)]
    if profile.gradio is not None:
        strings += gradio_input_strings(profile.gradio)
    return any("{session_id}" in s for s in strings)


def gradio_input_strings(gradio: GradioSpec) -> list[str]:
    """The strings of every Gradio call's inputs: where placeholders may be."""
    return [s for inputs in (gradio.inputs, *(c.inputs for c in gradio.calls().values())) for s in _strings(inputs)]


def names_session(profile: Profile) -> bool:
    """Whether a recommend answer names the session it was recorded in."""
    answer = profile.answer
    return (answer.format == "contract" or answer.session_id is not None or answer.session_header is not None
            or profile.session.cookie is not None)


def evidence(profile: Profile) -> frozenset[Evidence]:
    """What ``profile``'s answers can prove: only what a selector or a setting provides."""
    if profile.kind == "contract":
        return CONTRACT_EVIDENCE
    if profile.answer.format == "contract":
        # The contract's fields, read by the native parsers; a history needs its call, weak
        # ids are the server's to answer for only where the server makes them, and same
        # answers to same queries are what the profile says (the contract promises them).
        found = set(CONTRACT_EVIDENCE)
        if profile.history_selectors is None:
            found.discard("history")
        if profile.minted_by != "server":
            found.discard("server_ids")
        if not profile.deterministic:
            found.discard("deterministic")
        return frozenset(found)
    answer, item, found = profile.answer, profile.answer.item, set[Evidence]()
    if names_session(profile) or (profile.minted_by == "client" and sends_session_id(profile)):
        found.add("session_id")
    if names_session(profile) and profile.minted_by == "server":
        found.add("server_ids")
    if answer.session_created is not None:
        found.add("session_created")
    if answer.turn is not None:
        found.add("turn")
    if answer.anchor is not None and answer.anchor.request_id is not None and answer.anchor.turn is not None:
        found.add("anchor")
    if answer.follow_up is not None:
        found.add("follow_up")
    if answer.kind is not None:
        found.add("intent")
    if answer.items is not None and item is not None:
        if item.id is not None:
            found.add("item_ids")
        if item.artist is not None or item.tags:
            found.add("item_subjects")
    history = profile.history_selectors
    if history is not None and history.turns is not None and history.turn.turn is not None \
            and history.turn.request_id is not None:
        found.add("history")
    if answer.text is not None:
        found.add("text")
    if profile.deterministic:
        found.add("deterministic")
    return frozenset(found)


__all__ = [
    "CONTRACT_EVIDENCE", "EVIDENCE", "FOLLOW_UP_FLAG", "PLACEHOLDERS", "AnchorSpec", "AnswerFormat", "AnswerSpec",
    "CallSpec", "CreateSessionSpec", "DeleteSessionSpec", "Evidence", "GradioCallSpec", "GradioCreateSessionSpec",
    "GradioReadHistorySpec", "GradioSpec", "HeldBy", "HistorySelectors", "ItemSpec",
    "Kind", "MintedBy", "Profile", "PropertiesSpec", "ReadHistorySpec", "RecommendSpec",
    "RecordedTurnSpec", "RunSpec", "SessionSpec", "evidence", "gradio_input_strings", "names_session",
    "sends_session_id", "template_strings",
]
