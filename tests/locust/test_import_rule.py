"""Only the locustfile imports Locust: the import monkey-patches the interpreter with gevent."""

from __future__ import annotations

import ast
from pathlib import Path

from beatdebate_locust import REPO

LOCUSTFILE = REPO / "scenarios" / "locustfile.py"


def _imports_locust(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        if any(name == "locust" or name.startswith("locust.") for name in names):
            return True
    return False


def test_no_module_but_the_locustfile_imports_locust() -> None:
    sources = [REPO / "cli.py", *(p for folder in ("beatdebate_server", "loadtest", "scenarios", "tests")
                                  for p in (REPO / folder).rglob("*.py"))]
    offenders = [str(p.relative_to(REPO)) for p in sources if p != LOCUSTFILE and _imports_locust(p)]
    assert offenders == []
    assert _imports_locust(LOCUSTFILE)
