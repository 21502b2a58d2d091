"""The one table of defect names: what the settings accept and what help texts list."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from beatdebate_server.defects.catalog import DEFECTS, defect_help
from beatdebate_server.settings import Settings


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_the_settings_accept_every_name_of_the_catalog(name: str) -> None:
    assert Settings(defect=name).defect == name
    assert f"[bold]{name}[/]" in defect_help()


@pytest.mark.parametrize("spelling", ["", "none", " None "])
def test_no_defect_is_spelled_empty_or_none(spelling: str) -> None:
    assert Settings(defect=spelling).defect is None


def test_a_name_outside_the_catalog_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(defect="nope")
    [error] = caught.value.errors()
    assert error["loc"] == ("defect",)
    assert "unknown defect 'nope'" in error["msg"]
    assert all(name in error["msg"] for name in DEFECTS)
