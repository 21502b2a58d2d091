"""Target profiles proved end to end (issue 11), through the command line as a user runs it.

- Each example target (``examples/*/app.py``, started as a process on a free port) passes
  three seeded ``beatdebate gate --profile …`` runs clean, and fails on the property its
  ``--bleed`` defect breaks, with a witness whose ops are real ops of the recorded history.
- Our own server judged through ``our-server-by-profile`` (templates and selectors only)
  gets the native ``contract`` profile's verdict, clean and under every API ``--defect``.
- ``beatdebate check HISTORY`` re-judges a history recorded under a profile alike: the exit
  code and every property's status, allowed and not-checkable ones included.
- ``--allow`` / ``--deny``: the original back end adopts client ids by design; its profile
  allows ``adopted-client-id`` (reported, not failing), ``--deny`` makes it fail again.

Runs are short (4 s of load; the gate's 100 users) and the machine is shared: nothing here
asserts on time. A run is made once per module and re-judged by later tests.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio_client
import orjson
import pytest
from profile_build import EXAMPLES
from test_gate_proof import DEFINING

from loadtest.canary import find_canaries
from loadtest.defaults import GATE_MIN_USERS
from loadtest.embedded import free_port, log_tail
from loadtest.gradio_tab import GradioTab
from loadtest.history import Op, read_history
from loadtest.oracle import REGISTRY
from loadtest.outcome import ExitCode

pytestmark = pytest.mark.slow

ROOT = EXAMPLES.parent
BEATDEBATE = Path(sys.executable).with_name("beatdebate")
DURATION = "4s"              # seconds of load per run (the gate's default is 20)
SEEDS = (1, 2, 3)
GRADIO_PROFILE = EXAMPLES / "gradio_chat" / "profile.toml"
ORIGINAL_PROFILE = ROOT / "scenarios" / "profiles" / "beatdebate-original.toml"
# Guards against a hung process, never a bound on speed: pytest fails the test instead.
STARTUP_GUARD = 180.0
RUN_GUARD = 280.0
# The example processes and the CLI stay offline (no Gradio telemetry or version check).
ENV = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}


@dataclass(frozen=True)
class Run:
    """One ``beatdebate`` command as a user runs it: its exit code, JSON report and history."""

    name: str
    exit_code: int
    report: dict[str, Any]
    history: Path
    output: str

    def status(self, prop: str) -> str:
        status: str = self.report["verdict"]["by_property"][prop]["status"]
        return status

    def statuses(self) -> dict[str, str]:
        return {name: entry["status"] for name, entry in self.report["verdict"]["by_property"].items()}

    def with_status(self, status: str) -> set[str]:
        return {name for name, found in self.statuses().items() if found == status}

    def ops(self) -> dict[int, Op]:
        return {op.index: op for op in read_history(self.history)}

    def __str__(self) -> str:
        """What the run found, for an assertion message."""
        report = self.report
        first: dict[str, str] = {}
        for anomaly in report.get("anomalies", ()):
            first.setdefault(anomaly["property"], anomaly["explanation"])
        return (f"{self.name}: exit {self.exit_code}, harness_error {report.get('harness_error')!r}, "
                f"totals {report.get('totals')}, checked {report.get('checked')}, "
                f"statuses {self.statuses()}, first witnesses {first}\n{self.output[-2000:]}")


def beatdebate(*args: str, tmp: Path, name: str, history: bool = True) -> Run:
    """``beatdebate ARGS --json …`` (and ``--history …``, ``gate``'s ``--junit …``) as a process."""
    report, recorded = tmp / f"{name}.json", tmp / f"{name}.jsonl"
    command = [str(BEATDEBATE), *args, "--json", str(report)]
    if history:
        command += ["--history", str(recorded)]
    if args[0] == "gate":
        command += ["--junit", str(tmp / f"{name}.junit.xml")]   # its default is under the working tree
    done = subprocess.run(command, check=False, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=RUN_GUARD)
    output = done.stdout + done.stderr
    assert report.exists(), f"{name}: no JSON report; exit {done.returncode}\n{output}"
    return Run(name, done.returncode, orjson.loads(report.read_bytes()), recorded, output)


# --- the example targets, each its own process -------------------------------------------------

@contextmanager
def served_example(name: str, *, bleed: bool, ready: str, log: Path) -> Iterator[str]:
    """``python examples/<name>/app.py --port P [--bleed]`` until the ``with`` ends; yields its URL."""
    port = free_port()
    command = [sys.executable, str(EXAMPLES / name / "app.py"), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command + (["--bleed"] if bleed else []), cwd=ROOT, env=ENV,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, url + ready, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    guard = time.monotonic() + STARTUP_GUARD
    while True:
        code = process.poll()
        assert code is None, f"{url}: the example exited with {code} while starting:\n{log_tail(log)}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        assert time.monotonic() < guard, f"{url} never answered:\n{log_tail(log)}"
        time.sleep(0.2)


def _example_fixture(name: str, *, bleed: bool, ready: str) -> Any:
    @pytest.fixture(scope="module")
    def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        log = tmp_path_factory.mktemp("example") / f"{name}{'-bleed' if bleed else ''}.log"
        with served_example(name, bleed=bleed, ready=ready, log=log) as served:
            yield served
    return url


original_url = _example_fixture("beatdebate_original", bleed=False, ready="/health")
original_bleeding_url = _example_fixture("beatdebate_original", bleed=True, ready="/health")
gradio_url = _example_fixture("gradio_chat", bleed=False, ready="/config")
gradio_bleeding_url = _example_fixture("gradio_chat", bleed=True, ready="/config")


# --- the runs: each made once, by the first test that needs it --------------------------------

Args = Callable[[str | None], list[str]]


def _gate(profile: str, *, seed: int = 1, defect: str | None = None) -> Args:
    def args(url: str | None) -> list[str]:
        where = ["--target", url] if url is not None else []
        broken = ["--defect", defect] if defect is not None else []
        return ["gate", *where, *broken, "--profile", profile, "--seed", str(seed), "--duration", DURATION, "--quiet"]
    return args


def _made_up_ids(*extra: str) -> Args:
    """``simulate`` with the made-up and expired ids scenario (the gate's original-profile
    scenarios have no client-chosen id, so ``adopted-client-id`` would not be exercised)."""
    def args(url: str | None) -> list[str]:
        assert url is not None
        return ["simulate", "--target", url, "--profile", "beatdebate-original", "--builtin",
                "made-up-and-expired-ids", "--users", "20", "--duration", DURATION, "--seed", "1", "--quiet", *extra]
    return args


# name -> (the fixture serving its target, or None for the embedded server; its arguments)
RUNS: dict[str, tuple[str | None, Args]] = {
    **{f"original-clean-{seed}": ("original_url", _gate("beatdebate-original", seed=seed)) for seed in SEEDS},
    "original-bleeding": ("original_bleeding_url", _gate("beatdebate-original")),
    **{f"gradio-clean-{seed}": ("gradio_url", _gate(str(GRADIO_PROFILE), seed=seed)) for seed in SEEDS},
    "gradio-bleeding": ("gradio_bleeding_url", _gate(str(GRADIO_PROFILE))),
    "original-made-up-ids": ("original_url", _made_up_ids()),
    "original-made-up-ids-denied": ("original_url", _made_up_ids("--deny", "adopted-client-id")),
    **{f"ours-{profile}-{defect or 'clean'}": (None, _gate(profile, defect=defect))
       for profile in ("contract", "our-server-by-profile") for defect in (None, *sorted(DEFINING))},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, pytest.FixtureRequest], Run]:
    """``runs(name, request)``: the run ``RUNS[name]``, made on first use."""
    tmp = tmp_path_factory.mktemp("runs")
    done: dict[str, Run] = {}

    def get(name: str, request: pytest.FixtureRequest) -> Run:
        if name not in done:
            fixture, args = RUNS[name]
            url = request.getfixturevalue(fixture) if fixture is not None else None
            done[name] = beatdebate(*args(url), tmp=tmp, name=name)
        return done[name]
    return get


Runs = Callable[[str, pytest.FixtureRequest], Run]


def _assert_evidence_decides_checkable(run: Run) -> None:
    """A property is ``not_checkable`` exactly when the profile's evidence lacks what it needs."""
    shown = set(run.report["verdict"]["evidence"])
    for name, prop in REGISTRY.items():
        assert (run.status(name) == "not_checkable") == (not prop.evidence <= shown), (name, str(run))


def _assert_clean(run: Run, *, seed: int, profile: str, held: set[str]) -> None:
    assert run.exit_code == ExitCode.OK, str(run)
    assert run.report["exit_code"] == ExitCode.OK and run.report["verdict"]["outcome"] == "pass", str(run)
    assert run.report["anomalies"] == [] and run.report["harness_error"] is None, str(run)
    assert run.report["totals"]["failed"] == 0, str(run)          # the target never answered with an error
    settings = run.report["settings"]
    assert (settings["seed"], settings["profile"]) == (seed, profile)
    assert settings["users"] >= GATE_MIN_USERS
    assert "violated" not in run.statuses().values(), str(run)
    assert held <= run.with_status("held"), str(run)
    _assert_evidence_decides_checkable(run)


def _witness(run: Run, prop: str) -> tuple[dict[str, Any], list[Op], list[Op]]:
    """The first witness of ``prop`` in the JSON report, with its victim and source ops, which
    must be real ops of the recorded history, the source ones of other conversations."""
    anomalies = [a for a in run.report["anomalies"] if a["property"] == prop]
    assert anomalies, f"{prop} has no witness in the report: {run}"
    witness = anomalies[0]
    assert witness["class"] == REGISTRY[prop].cls and witness["description"].startswith(prop)
    assert witness["explanation"].strip() and witness["conversation"] in witness["explanation"]
    ops = run.ops()
    assert witness["victim_ops"] and witness["source_ops"], witness
    assert set(witness["victim_ops"]) | set(witness["source_ops"]) <= set(ops), witness
    victims = [ops[i] for i in witness["victim_ops"]]
    sources = [ops[i] for i in witness["source_ops"]]
    assert victims[0].conversation == witness["conversation"]
    assert all(op.conversation != witness["conversation"] for op in sources), witness
    return witness, victims, sources


# --- 1. each example: clean passes three seeded gate runs, bleeding fails with a witness ------

@pytest.mark.parametrize("seed", SEEDS)
def test_the_original_back_end_passes_seeded_gate_runs(seed: int, runs: Runs, request: pytest.FixtureRequest) -> None:
    run = runs(f"original-clean-{seed}", request)
    _assert_clean(run, seed=seed, profile="beatdebate-original",
                  held={"foreign-content", "off-subject", "id-collision", "nondeterministic-answer",
                        "expectation-failed"})
    assert run.report["checked"]["follow_ups"] > 0 and run.report["totals"]["unknown"] == 0, str(run)
    # What the original's answers cannot show is said so, never passed.
    assert {"foreign-anchor", "foreign-request-id", "missing-turn", "duplicate-turn"} <= run.with_status("not_checkable")


def test_the_bleeding_original_back_end_fails_on_foreign_content_with_a_witness(
        runs: Runs, request: pytest.FixtureRequest) -> None:
    run = runs("original-bleeding", request)
    assert run.exit_code == ExitCode.ISOLATION, str(run)
    assert run.report["verdict"]["outcome"] == "fail" and run.report["harness_error"] is None, str(run)
    assert run.status("foreign-content") == "violated", str(run)
    witness, victims, sources = _witness(run, "foreign-content")
    victim, source = victims[0], sources[0]
    # The follow-up shows the source conversation's artist, not its own.
    assert victim.is_follow_up and victim.tracks, victim
    assert victim.subject["artist"] != source.subject["artist"]
    assert {track.artist for track in victim.tracks} == {source.subject["artist"]} == {witness["value"]["fits"]["artist"]}
    assert witness["curl"] is not None and run.report["target"] in witness["curl"]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_gradio_chat_passes_seeded_gate_runs(seed: int, runs: Runs, request: pytest.FixtureRequest) -> None:
    run = runs(f"gradio-clean-{seed}", request)
    _assert_clean(run, seed=seed, profile="gradio-chat", held={"foreign-canary", "lost-canary"})
    # Text is all a chat shows: every other property is not checkable.
    assert run.with_status("not_checkable") == set(REGISTRY) - {"foreign-canary", "lost-canary"}


def test_the_bleeding_gradio_chat_fails_on_foreign_canary_with_a_witness(
        runs: Runs, request: pytest.FixtureRequest) -> None:
    run = runs("gradio-bleeding", request)
    assert run.exit_code == ExitCode.ISOLATION, str(run)
    assert run.status("foreign-canary") == "violated", str(run)
    witness, victims, sources = _witness(run, "foreign-canary")
    # The victim's reply names the canary that the source conversation planted.
    planted = witness["value"]["canary"]
    assert sources[0].canary == planted != victims[0].canary
    assert planted in find_canaries(victims[0].text or ""), victims[0].text


# --- 2. our own server: the profile's verdict is the native path's ----------------------------

@pytest.mark.parametrize("defect", [None, *sorted(DEFINING)])
def test_our_server_by_profile_gets_the_native_verdict(defect: str | None, runs: Runs,
                                                        request: pytest.FixtureRequest) -> None:
    """``our-server-by-profile`` judges our server as the native ``contract`` profile does.

    "Equal" means, property by property, for the two gate runs (same seed, users, duration;
    a fresh embedded server each, with the same ``--defect``):

    - the same properties are checkable: the profile claims all the contract's evidence;
    - clean: no property is violated under either, and every property has the same status
      (held, or not exercised) under both;
    - a defect: the properties that defect produces by its mechanism (``DEFINING`` in
      ``test_gate_proof``) are violated under both, both runs fail, and a loss-only defect
      shows no bleeding under either. Other properties a defect breaks as a consequence
      depend on how the concurrent requests happened to interleave, so their counts (and
      sometimes whether they occur at all) differ between any two runs, even two native ones:
      they are not compared.
    """
    name = defect or "clean"
    native, by_profile = runs(f"ours-contract-{name}", request), runs(f"ours-our-server-by-profile-{name}", request)
    for run in (native, by_profile):
        assert run.report["harness_error"] is None, str(run)
        assert run.report["settings"]["defect"] == defect
    assert by_profile.report["settings"]["profile"] == "our-server-by-profile"
    assert by_profile.with_status("not_checkable") == native.with_status("not_checkable"), (str(native), str(by_profile))
    assert by_profile.with_status("not_checkable") == {"foreign-canary", "lost-canary"}
    if defect is None:
        for run in (native, by_profile):
            assert run.exit_code == ExitCode.OK and run.report["anomalies"] == [], str(run)
        assert by_profile.statuses() == native.statuses()
        return
    for run in (native, by_profile):
        assert run.exit_code == ExitCode.ISOLATION, str(run)
        missing = DEFINING[defect] - run.with_status("violated")
        assert not missing, f"{sorted(missing)} not reported: {run}"
        if all(REGISTRY[prop].cls == "loss" for prop in DEFINING[defect]):
            assert run.report["verdict"]["bleeding"] == 0, str(run)


# --- 3. `beatdebate check HISTORY` re-judges a profile's history alike ------------------------

def _without_curl(anomalies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in anomaly.items() if key != "curl"} for anomaly in anomalies]


@pytest.mark.parametrize("name", ["original-clean-1", "original-bleeding", "gradio-clean-1", "gradio-bleeding",
                                  "original-made-up-ids", "original-made-up-ids-denied",
                                  "ours-our-server-by-profile-unscoped-cache"])
def test_check_rejudges_a_profile_history_with_the_same_verdict(name: str, runs: Runs, request: pytest.FixtureRequest,
                                                                 tmp_path: Path) -> None:
    run = runs(name, request)
    assert run.history.exists(), str(run)
    again = beatdebate("check", str(run.history), "--quiet", tmp=tmp_path, name="check", history=False)
    assert again.exit_code == run.exit_code, (str(run), str(again))
    assert again.report["verdict"] == run.report["verdict"]          # statuses, counts, evidence, allowed
    # The same witnesses (offline there is no server to replay them against: no curl).
    assert _without_curl(again.report["anomalies"]) == _without_curl(run.report["anomalies"])
    # Re-judged alike, too, are the statuses that are no verdict: allowed and not checkable.
    statuses = set(run.statuses().values())
    if name == "original-made-up-ids":
        assert "allowed" in statuses, str(run)
    if not name.startswith("ours-"):
        assert "not_checkable" in statuses, str(run)


# --- 4. --allow / --deny end to end ------------------------------------------------------------

def test_adopted_client_id_is_reported_as_allowed_without_failing(runs: Runs, request: pytest.FixtureRequest) -> None:
    run = runs("original-made-up-ids", request)
    assert run.exit_code == ExitCode.OK, str(run)
    assert run.status("adopted-client-id") == "allowed", str(run)
    assert run.report["verdict"]["by_property"]["adopted-client-id"]["count"] > 0
    assert run.report["verdict"]["allowed"] == ["adopted-client-id"]
    assert any(a["property"] == "adopted-client-id" for a in run.report["anomalies"])   # listed, with its witness
    assert "allowed" in run.output and "adopted-client-id" in run.output


def test_deny_fails_the_run_on_an_allowed_property(runs: Runs, request: pytest.FixtureRequest) -> None:
    run = runs("original-made-up-ids-denied", request)
    assert run.exit_code == ExitCode.ISOLATION, str(run)
    assert run.status("adopted-client-id") == "violated" and run.report["verdict"]["allowed"] == []
    assert run.with_status("violated") == {"adopted-client-id"}, str(run)


def test_check_deny_fails_a_history_whose_run_allowed_it(runs: Runs, request: pytest.FixtureRequest,
                                                         tmp_path: Path) -> None:
    run = runs("original-made-up-ids", request)
    denied = beatdebate("check", str(run.history), "--quiet", "--deny", "adopted-client-id", tmp=tmp_path,
                        name="check", history=False)
    assert denied.exit_code == ExitCode.ISOLATION, str(denied)
    assert denied.status("adopted-client-id") == "violated"


def test_allow_on_the_command_line_accepts_what_the_profile_does_not(original_url: str, tmp_path: Path) -> None:
    text = ORIGINAL_PROFILE.read_text()
    assert text.count('allow = ["adopted-client-id"]') == 1
    strict = tmp_path / "original-strict.toml"
    strict.write_text(text.replace('allow = ["adopted-client-id"]', "allow = []"))
    args = _made_up_ids()(original_url)
    args[args.index("beatdebate-original")] = str(strict)
    failing = beatdebate(*args, tmp=tmp_path, name="strict", history=False)
    allowed = beatdebate(*args, "--allow", "adopted-client-id", tmp=tmp_path, name="allowed", history=False)
    assert failing.exit_code == ExitCode.ISOLATION and failing.status("adopted-client-id") == "violated", str(failing)
    assert allowed.exit_code == ExitCode.OK and allowed.status("adopted-client-id") == "allowed", str(allowed)


# --- what the Gradio proof needed of the harness ----------------------------------------------

@pytest.mark.anyio
async def test_every_gradio_tab_shares_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """gradio_client makes an httpx client for every call; without one shared TLS context each
    loads the CA bundle again, and 100 users of the Gradio gate above timed out on the client."""
    built: list[dict[str, Any]] = []

    class _Client:
        def __init__(self, url: str, **kwargs: Any) -> None:
            built.append(kwargs)

    monkeypatch.setattr(gradio_client, "Client", _Client)
    for _ in range(2):
        await GradioTab("http://chat.test/", timeout=5).client()
    first, second = (kwargs["ssl_verify"] for kwargs in built)
    assert isinstance(first, ssl.SSLContext) and first is second
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname    # still verifies
