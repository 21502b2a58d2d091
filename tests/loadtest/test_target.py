"""``loadtest.target``: the rules on choosing a run's server, shared by simulate, gate and locust."""

from __future__ import annotations

import pytest

from beatdebate_server.defects.catalog import DEFECTS
from loadtest.errors import UsageError
from loadtest.target import EmbeddedServer, check_target, parse_surface


@pytest.mark.parametrize(("kw", "said"), [
    (dict(url="localhost:8000", own_target=True, server=EmbeddedServer()), "http:// or https://"),
    (dict(url="http://x", own_target=True, server=EmbeddedServer(defect="shared-session")),
     "configure the embedded server; they cannot be used with --target"),
    (dict(url=None, own_target=True, server=EmbeddedServer(workers=2)), "configure the embedded server"),
    (dict(url=None, own_target=False, server=EmbeddedServer(workers=0)), "--server-workers must be at least 1"),
    (dict(url=None, own_target=False, server=EmbeddedServer(defect="nope")), "no defect 'nope' (known: "),
])
def test_refusals_name_the_options(kw: dict, said: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UsageError) as caught:
        check_target(through="api", **kw)
    assert said in str(caught.value)


def test_a_chat_page_defect_needs_users_on_the_chat_page() -> None:
    ui_defects = [name for name, info in DEFECTS.items() if info.surface == "ui"]
    assert ui_defects, "the catalog has a defect of the chat page"
    for name in ui_defects:
        with pytest.raises(UsageError, match="use --through ui"):
            check_target(url=None, own_target=False, server=EmbeddedServer(defect=name), through="api")
        check_target(url=None, own_target=False, server=EmbeddedServer(defect=name), through="ui")
    for name in (name for name, info in DEFECTS.items() if info.surface == "api"):   # seen either way
        check_target(url=None, own_target=False, server=EmbeddedServer(defect=name), through="ui")


def test_a_target_of_its_own_with_the_defaults_is_fine() -> None:
    check_target(url="https://staging.example", own_target=True, server=EmbeddedServer(), through="api",
                 own_target_flag="--host")
    assert (parse_surface("api"), parse_surface("ui")) == ("api", "ui")
    with pytest.raises(UsageError, match="--through must be one of api, ui"):
        parse_surface("browser")
