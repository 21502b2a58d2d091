"""The nemesis's catalog and plan: names in, windows out, the same for the same seed."""

from __future__ import annotations

import itertools

import pytest

from loadtest.errors import UsageError
from loadtest.nemesis import FAULTS, minimum_duration, nemesis_help, parse_nemesis, plan
from loadtest.nemesis.schedule import (
    CLIENT_SHARE,
    CLIENT_TIMEOUT,
    LOCK_LEASE,
    PAUSE_PAST_LEASE,
)


def test_names_are_read_from_commas_and_repeats_in_order_each_once() -> None:
    assert parse_nemesis("pause-worker, abort") == ("pause-worker", "abort")
    assert parse_nemesis(["abort", "timeout,abort"]) == ("abort", "timeout")
    assert parse_nemesis(None) == () and parse_nemesis("") == ()


def test_an_unknown_fault_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match="no fault 'pause'") as caught:
        parse_nemesis("pause")
    assert all(name in str(caught.value) for name in FAULTS)


def test_the_help_lists_every_fault() -> None:
    assert all(f"[bold]{name}[/]" in nemesis_help() for name in FAULTS)
    assert set(FAULTS) == {"abort", "timeout", "pause-worker", "kill-worker", "restart-redis", "redis-latency"}


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    names = ("pause-worker", "abort")
    assert plan(names, seed=7, duration=30) == plan(names, seed=7, duration=30)
    assert plan(names, seed=7, duration=30) != plan(names, seed=8, duration=30)


def test_windows_do_not_overlap_and_leave_a_quiet_start_and_end() -> None:
    names = ("abort", "timeout", "pause-worker", "kill-worker", "restart-redis", "redis-latency")
    duration = minimum_duration(names)
    windows = plan(names, seed=3, duration=duration)
    assert {w.name for w in windows} == set(names)          # every fault gets a window
    assert [w.name for w in windows] == sorted((w.name for w in windows), key=names.index)  # in the order asked
    quiet = max(1.0, 0.1 * duration)
    assert windows[0].start >= quiet and windows[-1].end <= duration - quiet
    for earlier, later in itertools.pairwise(windows):
        assert earlier.end < later.start


def test_a_pause_outlasts_the_lock_lease_by_a_little() -> None:
    pauses = plan(("pause-worker",), seed=1, duration=20)
    assert len(pauses) == 2
    for pause in pauses:
        assert LOCK_LEASE + PAUSE_PAST_LEASE[0] <= pause.length <= LOCK_LEASE + PAUSE_PAST_LEASE[1]
    assert [p.target for p in pauses] == [0, 1]             # the next pause, the next worker


def test_client_windows_carry_their_share_and_timeout() -> None:
    abort, timeout = (next(w for w in plan(("abort", "timeout"), seed=2, duration=20) if w.name == name)
                      for name in ("abort", "timeout"))
    assert (abort.share, abort.seconds) == (CLIENT_SHARE, 0.0)
    assert (timeout.share, timeout.seconds) == (CLIENT_SHARE, CLIENT_TIMEOUT)


def test_a_run_too_short_for_its_faults_is_refused_with_the_length_it_needs() -> None:
    assert minimum_duration(()) == 0.0
    needed = minimum_duration(("pause-worker", "abort"))
    assert needed > 2 * LOCK_LEASE
    assert plan(("pause-worker", "abort"), seed=1, duration=needed)
    with pytest.raises(ValueError, match=f"needs at least {needed:g} s"):
        plan(("pause-worker", "abort"), seed=1, duration=needed - 1)


def test_the_package_exports_its_cheap_part_and_all_is_honest() -> None:
    import subprocess
    import sys

    import loadtest.nemesis as nemesis

    public = {name for name in dir(nemesis) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(nemesis, name)).__name__ == "module"}
    assert set(nemesis.__all__) == public - modules
    # Cheap: the command line's --help reads the catalog; nothing of the actors comes with it.
    probe = ("import sys, loadtest.nemesis\n"
             "print(sorted(m for m in ('psutil', 'loadtest.nemesis.actors', 'loadtest.embedded', 'aiohttp') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr
