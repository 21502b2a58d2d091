"""Make ``import loadtest`` the package under test, not this folder.

This folder is named like the package. pytest (prepend import mode) puts ``tests/`` on
``sys.path`` for the root ``conftest.py``, and there ``loadtest/`` (this folder, no
``__init__``) would become a namespace package that hides the real one. Putting the
checkout first makes the regular package win. ``pythonpath = ["."]`` under
``[tool.pytest.ini_options]`` would make this file unnecessary.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
_found = sys.modules.get("loadtest")
if _found is not None and getattr(_found, "__file__", None) is None:   # a namespace import happened first
    for _name in [n for n in sys.modules if n == "loadtest" or n.startswith("loadtest.")]:
        del sys.modules[_name]
