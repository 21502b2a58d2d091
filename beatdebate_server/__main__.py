"""``python -m beatdebate_server``: ``beatdebate serve`` with settings from the environment."""

from __future__ import annotations

import sys

from .serve import ServeRefused, serve
from .settings import Settings


def main() -> int:
    try:
        serve(Settings())
    except ServeRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
