"""The packages' ``__all__`` lists what they export, and every name in it exists."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["beatdebate_server", "beatdebate_server.store",
                                    "beatdebate_server.http", "beatdebate_server.http.routers",
                                    "beatdebate_server.service", "beatdebate_server.defects",
                                    "beatdebate_server.session", "beatdebate_server.serve"])
def test_all_names_exist(module: str) -> None:
    imported = importlib.import_module(module)
    assert imported.__all__
    for name in imported.__all__:
        assert getattr(imported, name) is not None


def test_the_package_exports_create_app_and_settings_lazily() -> None:
    import beatdebate_server
    from beatdebate_server.http.app import create_app
    from beatdebate_server.settings import Settings

    assert beatdebate_server.create_app is create_app
    assert beatdebate_server.Settings is Settings
    with pytest.raises(AttributeError):
        beatdebate_server.nope  # noqa: B018
