"""Mounting the chat page: only with ``--ui``, and a clear error without Gradio."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from beatdebate_server.http.app import create_app
from beatdebate_server.settings import Settings, workers_refusal
from beatdebate_server.ui import UiUnavailable, require_gradio
from loadtest.embedded import embedded_server

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as client:
            yield client


async def test_without_ui_there_is_no_page(ui_catalog: Path) -> None:
    async with _client(Settings(catalog=ui_catalog)) as client:
        assert (await client.get("/ui/")).status_code == 404
        assert (await client.get("/ui/config")).status_code == 404
        assert (await client.get("/health")).status_code == 200


async def test_with_ui_the_page_and_its_api_are_served(ui_catalog: Path) -> None:
    async with _client(Settings(catalog=ui_catalog, ui=True)) as client:
        page = await client.get("/ui/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        config = (await client.get("/ui/config")).json()
        api_names = {d.get("api_name") for d in config["dependencies"]}
        assert {"ask", "new_chat", "start_session", "history"} <= api_names
        assert (await client.get("/health")).status_code == 200   # the API is unchanged


def test_a_real_server_without_ui_answers_404_at_ui(ui_catalog: Path) -> None:
    with embedded_server(extra_args=["--catalog", str(ui_catalog)]) as url:
        assert httpx.get(f"{url}/ui/").status_code == 404
        assert httpx.get(f"{url}/health").status_code == 200


def test_ui_without_gradio_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)   # `import gradio` now raises ImportError
    with pytest.raises(UiUnavailable, match=r"pip install 'beatdebate\[ui\]'"):
        require_gradio()


def test_serve_ui_without_gradio_exits_2_with_the_install_hint(
        monkeypatch: pytest.MonkeyPatch, ui_catalog: Path) -> None:
    from cli import app

    monkeypatch.setitem(sys.modules, "gradio", None)
    outcome = CliRunner().invoke(app, ["serve", "--ui", "--catalog", str(ui_catalog),
                                       "--port", "0"])
    assert outcome.exit_code == 2
    assert "--ui needs Gradio" in outcome.output
    assert "pip install 'beatdebate[ui]'" in outcome.output


def test_ui_is_refused_with_several_workers() -> None:
    refusal = workers_refusal(Settings(ui=True, workers=2, store="redis://127.0.0.1:6379/0"))
    assert refusal is not None and "--ui" in refusal


def test_the_ui_defect_leaves_the_backend_clean() -> None:
    from beatdebate_server.defects.catalog import DEFECTS
    from beatdebate_server.defects.wrappers import NO_DEFECT, wrappers_for

    assert DEFECTS["ui-global-session"].surface == "ui"
    # No backend wrap point is taken: the store, the answering and the service stay
    # the production ones; only the page shares an id.
    wrappers = wrappers_for("ui-global-session")
    assert wrappers == NO_DEFECT
    assert (wrappers.store, wrappers.answers, wrappers.service) == (None, None, None)


def test_the_ui_package_exports_what_it_says_without_importing_gradio() -> None:
    import subprocess

    code = ("import sys, beatdebate_server.ui as ui, beatdebate_server.http.app, cli; "
            "assert all(getattr(ui, n) is not None for n in ui.__all__); "
            "assert {n for n in vars(ui) if not n.startswith('_') and "
            "type(getattr(ui, n)).__name__ != 'module'} == set(ui.__all__); "
            "assert 'gradio' not in sys.modules, 'gradio imported eagerly'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
