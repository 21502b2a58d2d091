"""``python -m beatdebate_server``: run the server; the options of ``beatdebate serve``.

One flag per ``Settings`` field (``session_ttl`` is ``--session-ttl``, a bool is
``--ui``/``--no-ui``), with the field's description as its help. A flag given wins over its
``BEATDEBATE_*`` variable, which wins over the default; pydantic validates all of them, so
this launcher accepts exactly what ``Settings`` does. Exit codes: 0 after a graceful
shutdown, 2 for settings that cannot be served (a bad value, or ``ServeRefused``).

This is how the load harness starts its embedded server: it needs the installed package
only, not a checkout or the ``beatdebate`` command line.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from .defects.catalog import DEFECTS
from .serve import ServeRefused, serve, settings_from_options
from .settings import Settings


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser(prog: str = "python -m beatdebate_server") -> argparse.ArgumentParser:
    """The command line: every option defaults to None, meaning "not given"."""
    defects = "\n".join(textwrap.fill(f"{info.name}: {info.description}", width=88,
                                       initial_indent="  ", subsequent_indent="    ")
                         for info in DEFECTS.values())
    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the session-aware recommender over HTTP (contract v1) until SIGTERM\n"
                    "or Ctrl-C. Every option can also be set as a BEATDEBATE_* environment\n"
                    "variable (e.g. BEATDEBATE_STORE); an option given here wins.",
        epilog=f"deliberate defects (--defect NAME):\n{defects}\n\n"
               "Exit code 2: settings that cannot be served.")
    for name, field in Settings.model_fields.items():
        if field.annotation is bool:  # --ui / --no-ui
            shown = "yes" if field.default else "no"
            parser.add_argument(_flag(name), dest=name, default=None,
                                action=argparse.BooleanOptionalAction,
                                help=f"{field.description} [default: {shown}]")
        else:
            shown = "none" if field.default is None else str(field.default)
            parser.add_argument(_flag(name), dest=name, default=None,
                                metavar="NAME" if name == "defect" else name.upper(),
                                help=f"{field.description} [default: {shown}]")
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m beatdebate_server") -> int:
    """Parse ``argv``, then serve until shut down; the process's exit code. ``beatdebate serve``
    is this launcher under another ``prog`` name: one home for the server's options."""
    args = build_parser(prog).parse_args(argv)
    given: dict[str, Any] = {name: value for name, value in vars(args).items()
                             if value is not None}
    try:
        serve(settings_from_options(given))
    except ServeRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
