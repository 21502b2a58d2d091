"""Profile tests share the harness tests' helpers (``fakes``) one folder up."""

from __future__ import annotations

import sys
from pathlib import Path

HARNESS_TESTS = str(Path(__file__).resolve().parent.parent)
if HARNESS_TESTS not in sys.path:
    sys.path.insert(0, HARNESS_TESTS)
