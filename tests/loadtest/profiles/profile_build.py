"""Small builders for profile tests: a profile from a few lines, an op base, a sink."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from loadtest.exchange import Request, op_base
from loadtest.history import Op
from loadtest.profiles import Profile, parse_profile


def profile(text: str) -> Profile:
    return parse_profile('name = "t"\n' + text, source="t.toml")


def base(request: Request, *, index: int = 0) -> dict[str, Any]:
    return op_base(request, index=index, user=1, conversation="u1.c1", scenario="s", step=request.action,
                   invoked_at=0.0, subject={"artist": "Radiohead"})


class Sink:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self._n = 0

    def next_index(self) -> int:
        self._n += 1
        return self._n - 1

    def complete(self, op: Op) -> None:
        self.ops.append(op)


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def example_app(name: str) -> ModuleType:
    """``examples/<name>/app.py`` as a module (the examples are scripts, not a package)."""
    module_name = f"profile_tests_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / name / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module      # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[module_name]
