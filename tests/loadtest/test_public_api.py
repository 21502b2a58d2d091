"""``loadtest`` re-exports its public API, and ``__all__`` says exactly what it exports."""

from __future__ import annotations

import loadtest


def test_all_is_honest() -> None:
    public = {name for name in dir(loadtest) if not name.startswith("_")}   # names load on first use
    modules = {name for name in public if type(getattr(loadtest, name)).__name__ == "module"}
    assert set(loadtest.__all__) == public - modules
    assert {"RunConfig", "run", "run_async", "load_scenario", "load_scenarios", "Transport",
            "RunResult", "LiveStats"} <= set(loadtest.__all__)
