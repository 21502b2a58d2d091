"""Only the locustfile imports Locust: the import monkey-patches the interpreter with gevent.

"The locustfile" is what Locust loads (``scenarios/locustfile.py``, a few lines) and the
``loadtest.locustfile`` package it imports: a module may import Locust only when its path
has a part named ``locustfile``. Nothing outside those imports the package, so neither the
command line nor ``loadtest``'s ``__init__`` can load Locust; and the package's Locust-free
modules (which the preflight's child process and these tests load) stay free of it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from beatdebate_locust import REPO

ENTRY = REPO / "scenarios" / "locustfile.py"
PACKAGE = REPO / "loadtest" / "locustfile"
LOCUST_FREE = ("__init__", "merged", "options", "preflight", "process", "wire")   # modules of PACKAGE without Locust
PATCHING = ("locust", "gevent", "flask")                          # Locust and what it brings along


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _imports(path: Path, *tops: str) -> bool:
    return any(name == top or name.startswith(top + ".") for name in _imported(path) for top in tops)


def _project_sources() -> list[Path]:
    return [REPO / "cli.py", *(p for folder in ("beatdebate_server", "loadtest", "scenarios", "tests")
                              for p in (REPO / folder).rglob("*.py"))]


def _in_locustfile(path: Path) -> bool:
    return any(part in ("locustfile", "locustfile.py") for part in path.relative_to(REPO).parts)


def test_no_module_but_the_locustfile_imports_locust() -> None:
    offenders = [str(p.relative_to(REPO)) for p in _project_sources()
                 if not _in_locustfile(p) and _imports(p, "locust")]
    assert offenders == []
    # Not vacuous: the user and the hooks do import it, and the entry loads both.
    assert _imports(PACKAGE / "user.py", "locust") and _imports(PACKAGE / "hooks.py", "locust")
    assert {"loadtest.locustfile.user", "loadtest.locustfile.hooks"} <= _imported(ENTRY)


def test_nothing_outside_the_locustfile_imports_its_package() -> None:
    # Tests may load its Locust-free modules (checked below); the project's own code may not load any.
    sources = [p for p in _project_sources() if not _in_locustfile(p) and "tests" not in p.relative_to(REPO).parts]
    offenders = [str(p.relative_to(REPO)) for p in sources if _imports(p, "loadtest.locustfile")]
    assert offenders == []
    assert not _imports(REPO / "loadtest" / "__init__.py", "loadtest.locustfile")


def test_the_locust_free_modules_import_neither_locust_nor_its_locust_modules() -> None:
    locust_modules = [f"loadtest.locustfile.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem not in LOCUST_FREE]
    assert locust_modules, "the package has modules that import Locust"
    for name in LOCUST_FREE:
        path = PACKAGE / f"{name}.py"
        assert not _imports(path, *PATCHING, *locust_modules), path


def test_the_command_line_and_the_launcher_load_no_locust() -> None:
    # In a fresh interpreter: what `beatdebate --help`, `beatdebate locust` (up to the child) and
    # the tests import must leave the process unpatched.
    probe = ("import sys, cli, loadtest, loadtest.locust_runner, loadtest.locustfile.options, "
             "loadtest.locustfile.preflight, loadtest.locustfile.process, loadtest.locustfile.wire, "
             "loadtest.locustfile.merged\n"
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {PATCHING!r}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr
