"""Loading a profile: a built-in name or a TOML file, validated, every error with file:line and key.

Terms:
- *built-in*: a profile file shipped in the ``scenarios`` package under ``profiles/``
  (``contract``, ``beatdebate-original``, ``our-server-by-profile``,
  ``beatdebate-chat-page``); ``load_profile`` takes such a name or a path.
- *error*: ``ProfileError``, whose ``str()`` reads ``file:line: [table] key: why``, e.g.
  ``mine.toml:12: [answer] item_id: unknown field (known: …)``; a TOML syntax error keeps
  ``tomllib``'s own line. ``tomllib`` keeps no positions, so the line of a key is found again
  in the raw text (the scenario loader's ``_KeyLines``: one home for that scan).

Beyond the shape (pydantic, ``extra="forbid"``), a profile must hang together: every
selector compiles, templates use only the known placeholders, a server that mints ids has
an answer that names them, a tab that holds the id is never sent one, answers read in the
contract's shape take no selectors, and so on (``_check``).
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
import types
import typing
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from loadtest.oracle import PROPERTIES
from loadtest.profiles.model import (
    PLACEHOLDERS,
    AnswerSpec,
    CallSpec,
    GradioSpec,
    Profile,
    names_session,
    sends_session_id,
    template_strings,
)
from loadtest.profiles.selector import SelectorError, compile_selector
from loadtest.scenario import BUILTIN_PACKAGE, _KeyLines, builtin_names

PROFILES_DIR = "profiles"          # under the scenarios package
# Properties a profile may allow or deny: the checker's, and those its text checks add.
PROPERTY_NAMES: tuple[str, ...] = tuple(dict.fromkeys((*PROPERTIES, "stale-anchor", "foreign-canary", "lost-canary")))

Loc = Sequence[str | int]


class ProfileError(ValueError):
    """A profile that cannot be used; ``str()`` reads ``file:line: [table] key: why``."""

    def __init__(self, reason: str, *, source: str, line: int | None = None, field: str | None = None) -> None:
        self.source, self.line, self.field, self.reason = source, line, field, reason
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


def field_name(loc: Loc) -> str:
    """``("answer", "item", "id")`` → ``[answer.item] id``; ``("kind",)`` → ``kind``."""
    parts = [p for p in loc]
    last = max((i for i, p in enumerate(parts) if isinstance(p, str)), default=-1)
    if last < 0:
        return ""
    key = str(parts[last]) + "".join(f"[{p}]" for p in parts[last + 1:])
    table = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in parts[:last]).replace(".[", "[")
    return f"[{table}] {key}" if table else key


# ---- the shape -------------------------------------------------------------------------

def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model that holds the last key of ``loc``."""
    model: type[BaseModel] = Profile
    for part in loc[:-1]:
        if not isinstance(part, str) or part not in model.model_fields:
            continue
        inner = _submodel(model.model_fields[part].annotation)
        if inner is None:
            return None
        model = inner
    return model


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    return None


def _tidy(loc: Loc) -> list[str | int]:
    # pydantic names union members in the path ("str", "list[str]"): not keys of the file
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "int", "bool", "float"}))]


def _reason(error: Any, loc: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = f" (known: {', '.join(model.model_fields)})" if model is not None else ""
        return "unknown field" + known
    if kind == "missing":
        return "required"
    if kind == "literal_error":
        return "must be one of " + ", ".join(re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", "")))
    return str(error["msg"]).removeprefix("Value error, ")


# ---- loading ---------------------------------------------------------------------------

def parse_profile(text: str, *, source: str = "<memory>") -> Profile:
    """Parse and check one profile file's text. Raises ``ProfileError``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ProfileError(f"not valid TOML ({exc})", source=source,
                           line=int(found.group(1)) if found else None) from None
    lines = _KeyLines(text)
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = _tidy(first["loc"])
        where = lines.line(loc[:-1] if first["type"] == "missing" else loc) or 1
        raise ProfileError(_reason(first, loc), source=source, line=where, field=field_name(loc) or None) from None

    def fail(loc: Loc, reason: str) -> ProfileError:
        return ProfileError(reason, source=source, line=lines.line(loc) or 1, field=field_name(loc))

    _check(profile, fail)
    return profile


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name, or a profile file by path. Raises ``ProfileError``."""
    candidate = Path(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in builtin_profile_names():
        resource = resources.files(BUILTIN_PACKAGE).joinpath(PROFILES_DIR, f"{name_or_path}.toml")
        profile = parse_profile(resource.read_text(encoding="utf-8"), source=f"builtin:{name_or_path}.toml")
        profile._source = name_or_path
        return profile
    if not candidate.suffix and not candidate.exists():
        raise ProfileError(f"no built-in profile {str(name_or_path)!r} (built-ins: {', '.join(builtin_profile_names())};"
                           " or give a path to a .toml file)", source=str(name_or_path))
    try:
        text = candidate.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read: {exc.strerror or exc}", source=str(candidate)) from None
    profile = parse_profile(text, source=str(candidate))
    profile._source = str(candidate.resolve())
    return profile


@functools.cache
def contract_profile() -> Profile:
    """The built-in ``contract`` profile (the default of every run), read once."""
    return load_profile("contract")


CHAT_PAGE_PROFILE = "beatdebate-chat-page"


@functools.cache
def chat_page_profile() -> Profile:
    """The built-in ``beatdebate-chat-page`` profile (our own chat page, ``--through ui``), read once."""
    return load_profile(CHAT_PAGE_PROFILE)


def builtin_profile_names() -> list[str]:
    """The names of the profiles shipped in the ``scenarios`` package."""
    root = resources.files(BUILTIN_PACKAGE).joinpath(PROFILES_DIR)
    return sorted(item.name.removesuffix(".toml") for item in root.iterdir() if item.name.endswith(".toml"))


# ---- hanging together ------------------------------------------------------------------

Fail = Callable[[Loc, str], ProfileError]
_CALLS = ("recommend", "create_session", "read_history", "delete_session")


def _check(profile: Profile, fail: Fail) -> None:
    _check_kind(profile, fail)
    _check_selectors(profile, fail)
    for name in _CALLS:
        call = getattr(profile, name)
        if call is not None:
            _check_call(call, [name], fail)
    if profile.gradio is not None:
        _check_gradio(profile, profile.gradio, fail)
    _check_format(profile, fail)
    _check_session(profile, fail)
    _check_properties(profile, fail)
    known = builtin_names()
    for index, name in enumerate(profile.run.scenarios):
        if name not in known:
            raise fail(["run", "scenarios", index], f"no built-in scenario {name!r} (built-ins: {', '.join(known)})")


def _check_kind(profile: Profile, fail: Fail) -> None:
    given = [name for name in (*_CALLS, "gradio") if getattr(profile, name) is not None]
    if profile.kind == "contract":
        extra = given + [name for name in ("answer", "session") if getattr(profile, name) != type(getattr(profile, name))()]
        if extra:
            raise fail([extra[0]], "a contract profile takes no request or answer tables: the native path speaks the contract")
    elif profile.kind == "http":
        if profile.recommend is None:
            raise fail(["kind"], "an http profile needs a [recommend] table")
        if profile.gradio is not None:
            raise fail(["gradio"], "only a gradio profile takes a [gradio] table")
    else:
        if profile.gradio is None:
            raise fail(["kind"], "a gradio profile needs a [gradio] table (api_name, inputs)")
        for name in _CALLS:
            if getattr(profile, name) is not None:
                raise fail([name], f"a gradio profile calls endpoints of its app: [gradio.{name}] (api_name, inputs)"
                                   if name != "recommend" else "a gradio profile sends its query with [gradio]")
        if profile.session.cookie is not None:
            raise fail(["session", "cookie"], "a gradio profile's conversation is its Gradio session; no cookie")
        if profile.tab_holds_session:
            if profile.minted_by != "server":
                raise fail(["session", "minted_by"], "held_by = \"tab\": the app's backend makes the ids"
                                                     " (minted_by = \"server\")")
        elif profile.minted_by != "client":
            raise fail(["session", "minted_by"], "a gradio profile's conversations are made by the client"
                                                 " (or held by the tab: [session] held_by = \"tab\")")
    if profile.kind != "gradio" and profile.tab_holds_session:
        raise fail(["session", "held_by"], "only a gradio profile's tab can hold the session id;"
                                           " an http service's travels in a template or a cookie")
    if profile.recommend is not None and not any("{query}" in s for s in template_strings(profile.recommend)):
        raise fail(["recommend"], "no template sends {query}")
    if profile.gradio is not None and not any(isinstance(v, str) and "{query}" in v for v in profile.gradio.inputs):
        raise fail(["gradio", "inputs"], "no input sends {query}")


def _check_selectors(profile: Profile, fail: Fail) -> None:
    def compile_at(loc: Loc, expression: str) -> None:
        try:
            compile_selector(expression)
        except SelectorError as exc:
            raise fail(loc, str(exc)) from None

    def walk(model: BaseModel, loc: list[str | int], skip: frozenset[str] = frozenset()) -> None:
        for name, value in model:
            if name in skip or value is None:
                continue
            if isinstance(value, BaseModel):
                walk(value, [*loc, name])
            elif isinstance(value, str):
                compile_at([*loc, name], value)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    compile_at([*loc, name, index], item)

    walk(profile.answer, ["answer"], frozenset({"session_header", "format"}))
    if profile.create_session is not None:
        compile_at(["create_session", "session_id"], profile.create_session.session_id)
    gradio = profile.gradio
    if gradio is not None:
        for loc, table in ((["gradio"], gradio), *((["gradio", n], c) for n, c in gradio.calls().items())):
            for name in ("status", "body"):
                if getattr(table, name) is not None:
                    compile_at([*loc, name], getattr(table, name))
        if gradio.create_session is not None:
            compile_at(["gradio", "create_session", "session_id"], gradio.create_session.session_id)
    history = profile.history_selectors
    if history is not None:
        at: list[str | int] = ["gradio", "read_history"] if gradio is not None else ["read_history"]
        for name in ("session_id", "turn_count", "turns"):
            if getattr(history, name) is not None:
                compile_at([*at, name], getattr(history, name))
        walk(history.turn, [*at, "turn"])
    answer: AnswerSpec = profile.answer
    if answer.item is not None and answer.items is None:
        raise fail(["answer", "item"], "describes items, but [answer] has no items selector")
    if answer.items is not None and (answer.item is None or answer.item.id is None):
        raise fail(["answer", "items"], "needs [answer.item] id: a field, or a list of fields, naming each item")


def _check_call(call: CallSpec, loc: list[str | int], fail: Fail) -> None:
    if not call.path.startswith("/"):
        raise fail([*loc, "path"], "must start with /")
    _check_template(call.path, [*loc, "path"], fail)
    for name, value in call.headers.items():
        _check_template(value, [*loc, "headers", name], fail)

    def walk(value: Any, at: list[str | int]) -> None:
        if isinstance(value, str):
            _check_template(value, at, fail)
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, [*at, key])
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, [*at, index])

    if call.body is not None:
        walk(call.body, [*loc, "body"])


def _check_gradio(profile: Profile, gradio: GradioSpec, fail: Fail) -> None:
    calls: list[tuple[list[str | int], list[Any]]] = [(["gradio"], gradio.inputs)]
    calls += [(["gradio", name], call.inputs) for name, call in gradio.calls().items()]
    for loc, inputs in calls:
        for index, value in enumerate(inputs):
            if not isinstance(value, str):
                continue
            _check_template(value, [*loc, "inputs", index], fail)
            if profile.tab_holds_session and "{session_id}" in value:
                raise fail([*loc, "inputs", index], "held_by = \"tab\": the tab holds the session id,"
                                                    " the harness never sends it")
    if gradio.create_session is not None and not profile.tab_holds_session:
        raise fail(["gradio", "create_session"], "the harness makes each conversation's id (held_by = \"harness\"):"
                                                 " there is no session to create; a tab that holds the id may have one"
                                                 " ([session] held_by = \"tab\")")
    if profile.tab_holds_session and not names_session(profile):
        raise fail(["answer"], "held_by = \"tab\", but no answer names the session the tab holds:"
                               " set [answer] session_id, or read answers in the contract's shape"
                               " ([answer] format = \"contract\")")


def _check_format(profile: Profile, fail: Fail) -> None:
    """Answers read in the contract's shape take no selectors: the native parsers read them."""
    if profile.answer.format != "contract":
        return
    written = _selectors_written(profile)
    if written:
        raise fail(written[0], "format = \"contract\": the contract's own fields are read; no selectors")


def _selectors_written(profile: Profile) -> list[list[str | int]]:
    """Where the file sets a selector of an answer: ``[answer]``, and the create and history calls."""
    answer = sorted(profile.answer.model_fields_set - {"format"})
    found: list[list[str | int]] = [["answer", key] for key in answer]
    tables: list[tuple[list[str | int], Any, set[str]]] = [
        (["create_session"], profile.create_session, set(CallSpec.model_fields)),
        (["read_history"], profile.read_history, set(CallSpec.model_fields)),
    ]
    if profile.gradio is not None:
        call_keys = {"api_name", "inputs", "status", "body"}      # where it is, not what it says
        tables += [(["gradio", "create_session"], profile.gradio.create_session, call_keys),
                   (["gradio", "read_history"], profile.gradio.read_history, call_keys)]
    for loc, table, call_keys in tables:
        if table is not None:
            found += [[*loc, key] for key in sorted(table.model_fields_set - call_keys)]
    return found


def _check_template(text: str, loc: Loc, fail: Fail) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise fail(loc, f"bad placeholder ({exc}); write {{{{ and }}}} for literal braces") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise fail(loc, f"unknown placeholder {{{name}}} (known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})")


def _check_session(profile: Profile, fail: Fail) -> None:
    if profile.kind != "http":
        return
    minted_by = profile.minted_by
    if minted_by in ("server", "either") and not names_session(profile):
        raise fail(["answer"], f"minted_by = {minted_by!r}, but no answer names the session:"
                               " set [answer] session_id or session_header, or [session] cookie")
    if not sends_session_id(profile):
        raise fail(["session"], "no template sends {session_id} and no cookie carries it: every request would start afresh")
    recommend = profile.recommend
    assert recommend is not None
    if "{session_id}" in recommend.path and minted_by != "client" and profile.create_session is None:
        raise fail(["recommend", "path"], "needs a session id before the first query: add [create_session],"
                                          " or make the ids on the client (minted_by = \"client\")")
    for name in ("read_history", "delete_session"):
        call = getattr(profile, name)
        if call is not None and not any("{session_id}" in s for s in template_strings(call)) \
                and profile.session.cookie is None:
            raise fail([name], "does not say which session: no {session_id} in its templates")


def _check_properties(profile: Profile, fail: Fail) -> None:
    for key in ("allow", "deny"):
        for index, name in enumerate(getattr(profile.properties, key)):
            if name not in PROPERTY_NAMES:
                raise fail(["properties", key, index], f"no property {name!r} (known: {', '.join(PROPERTY_NAMES)})")
    both = sorted(set(profile.properties.allow) & set(profile.properties.deny))
    if both:
        raise fail(["properties", "deny"], f"both allowed and denied: {', '.join(both)}")


__all__ = ["CHAT_PAGE_PROFILE", "PROPERTY_NAMES", "ProfileError", "builtin_profile_names", "chat_page_profile",
           "contract_profile", "field_name", "load_profile", "parse_profile"]
