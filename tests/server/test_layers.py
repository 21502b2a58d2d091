"""Imports point one way: every module of the server imports only its own layer and those
below it (``beatdebate_server/__init__.py`` lists the layers), counting imports anywhere
in a file, inside functions and ``TYPE_CHECKING`` blocks too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import beatdebate_server

PACKAGE = Path(beatdebate_server.__file__).parent

# Layer of each part of the package, lowest first; the longest matching prefix decides.
LAYERS: dict[str, int] = {
    "ids": 0, "logs": 0, "settings": 0, "defects": 0, "defects.catalog": 0,
    "redaction": 0, "limits": 0,
    "catalog": 1, "session": 1, "recommender": 1,
    "store": 2, "store.redis_batch": 2,
    "service": 3,
    "defects.wrappers": 4, "defects.passthrough": 4, "defects.shared_session": 4,
    "defects.lost_update": 4, "defects.unscoped_cache": 4, "defects.sticky_refresh": 4,
    "defects.stale_lock_append": 4,
    "defects.stale_lock_append": 4,
    "http": 5, "ui": 5,
    "serve": 6, "__main__": 6, "": 6,  # the launcher, and the package's front door
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    name = module
    while name not in LAYERS:
        name = name.rpartition(".")[0]
    return LAYERS[name]


def _imports(path: Path, module: str) -> set[str]:
    """The package's modules that ``path`` imports, relative to the package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)]
                names = [".".join(["beatdebate_server", *base, *([node.module] if node.module
                                                                    else [])])]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            if name == "beatdebate_server" or name.startswith("beatdebate_server."):
                found.add(name.removeprefix("beatdebate_server").removeprefix("."))
    return found


MODULES = {_module(path): path for path in sorted(PACKAGE.rglob("*.py"))
           if "data" not in path.relative_to(PACKAGE).parts}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_layer_and_below(module: str) -> None:
    upward = {imported for imported in _imports(MODULES[module], module)
              if _layer(imported) > _layer(module)}
    assert not upward, f"{module} (layer {_layer(module)}) imports {sorted(upward)}"


def test_nothing_but_the_command_line_imports_the_launcher() -> None:
    importers = {module for module, path in MODULES.items()
                 if any(imported == "serve" for imported in _imports(path, module))}
    assert importers == {"__main__"}


def test_the_recommender_and_the_stores_share_records_not_each_other() -> None:
    for module, path in MODULES.items():
        imported = _imports(path, module)
        if module.startswith("recommender"):
            assert not any(name.startswith("store") for name in imported), module
        if module == "store.base":
            assert "session" in imported  # the records come from the domain core


def test_every_part_of_the_package_has_a_layer() -> None:
    assert {module.partition(".")[0] for module in MODULES} <= set(LAYERS)
