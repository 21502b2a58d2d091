"""What a run does with a profile: which properties fail it, and which scenarios it runs by default.

One home for the rules that ``simulate``, ``gate``, ``check`` and ``locust`` all apply:
- *allowed*: the profile's ``[properties] allow`` and the caller's ``--allow``, less the
  profile's ``deny`` and the caller's ``--deny``: a deny always wins, wherever it is written.
- *default scenarios*: what a run asks for; else, for a target that is not ours, its
  profile's ``[run] scenarios``; else the built-in mix.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtest.errors import UsageError
from loadtest.profiles.load import PROPERTY_NAMES
from loadtest.profiles.model import Profile
from loadtest.scenario import DEFAULT_BUILTIN, Scenario, load_builtin


def check_property_names(names: Sequence[str]) -> None:
    """Raise ``UsageError`` for a name in ``--allow``/``--deny`` that is no property."""
    for name in names:
        if name not in PROPERTY_NAMES:
            raise UsageError(f"unknown property {name!r} in --allow/--deny; known: {', '.join(PROPERTY_NAMES)}")


def allowed_properties(profile: Profile, *, allow: Sequence[str] = (), deny: Sequence[str] = ()) -> frozenset[str]:
    """The properties whose violations are reported without failing the run (module doc)."""
    spec = profile.properties
    return frozenset((*spec.allow, *allow)) - frozenset((*spec.deny, *deny))


def default_scenarios(profile: Profile, asked: tuple[Scenario, ...] = ()) -> tuple[Scenario, ...]:
    """The scenarios of a run that asked for ``asked`` (module doc)."""
    if asked:
        return asked
    if profile.kind != "contract" and profile.run.scenarios:
        return tuple(scenario for name in profile.run.scenarios for scenario in load_builtin(name))
    return load_builtin(DEFAULT_BUILTIN)


__all__ = ["allowed_properties", "check_property_names", "default_scenarios"]
