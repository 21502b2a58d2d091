"""Fixtures for the example services: each ``examples/<name>/app.py`` loaded from its path.

The examples are not a package (each is one file a user runs), so tests load them with
``importlib``, once per test run, under the name ``example_<name>``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load_example(name: str) -> ModuleType:
    module_name = f"example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / name / "app.py")
    assert spec is not None and spec.loader is not None, f"no example {name!r}"
    module = importlib.util.module_from_spec(spec)
    # Registered before running: dataclasses resolve string annotations through sys.modules.
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def original_example() -> ModuleType:
    """``examples/beatdebate_original/app.py``."""
    return _load_example("beatdebate_original")


@pytest.fixture(scope="session")
def gradio_example() -> ModuleType:
    """``examples/gradio_chat/app.py``."""
    return _load_example("gradio_chat")
