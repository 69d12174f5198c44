"""`scim-conformance load`, proven both ways: the bundled server passes every load requirement, and each load
defect fails exactly the requirements tests/defects.yaml lists under `load`. Plus the bounds, Ctrl-C/SIGTERM
and `cleanup --journal` after a kill, and the report with its plots in a real browser.

Every run is small (tens of users, a few seconds) and targets a server on 127.0.0.1.
"""

from __future__ import annotations

import html as htmllib
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from scim_conformance.load.run import run_load
from scim_conformance.load.scenario import RACE_WIDTH
from scim_conformance.options import LoadOptions
from scim_conformance.profile import load_profile
from scim_conformance.server import ReferenceServer
from tests.suite_runner import FAILING
from tests.test_report_browser import SETTLE

ROOT = Path(__file__).resolve().parent.parent
MATRIX = yaml.safe_load((Path(__file__).parent / "defects.yaml").read_text(encoding="utf-8"))
# Each load defect's probe is a load run against a server with only that switch on (test_load_defect_is_caught).
LOAD_PROBES: dict[str, dict[str, Any]] = MATRIX["load"]
TOKEN = "load-token-4c2e9b"
SCHEMA = json.loads((ROOT / "fixtures" / "result.schema.json").read_text(encoding="utf-8"))


def load(tmp_path: Path, *, users: int = 30, groups: int = 3, duration: float = 3.0, **extra: Any) -> dict[str, Any]:
    options = LoadOptions(users=users, groups=groups, duration=duration, seed=7, report_dir=str(tmp_path), **extra)
    with open(os.devnull, "w") as quiet:
        code, document = run_load(options, progress=quiet, out=quiet)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    document["_exit"] = code
    return document


def failing(document: dict[str, Any]) -> set[str]:
    return {r["id"] for r in document["requirements"] if r["outcome"] in FAILING}


def outcomes(document: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in document["requirements"] if r["capability"] == "load"}


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compliant server, throttling at 60 requests/s: every load requirement is judged, and passes."""
    return load(tmp_path_factory.mktemp("throttled"), users=30, duration=10, server_rate_limit=60)


def test_compliant_server_passes_under_load(throttled: dict[str, Any]):
    assert set(outcomes(throttled).values()) == {"pass"}, outcomes(throttled)
    assert throttled["_exit"] == 0
    assert throttled["verdict"]["summary"].startswith("Entra-ready under load: yes")
    summary = throttled["load"]["summary"]
    assert summary["throttling"]["with_retry_after"] > 0 and summary["throttling"]["waits_refused"] == 0
    assert summary["served_per_second"] >= 25
    # Every kind of Entra request was sent and measured.
    assert {"lookup-user", "create-user", "patch-manager", "lookup-group", "create-group", "add-members",
            "patch-user", "deactivate-user", "delete-user", "delete-group", "race-create"} <= set(summary["kinds"])
    # A load run's report is about the load requirements alone: the functional ones are not listed.
    assert {r["capability"] for r in throttled["requirements"]} == {"load"}


def test_throughput_is_a_should_unless_gallery(throttled: dict[str, Any]):
    severity = {r["id"]: r["severity"] for r in throttled["requirements"]}
    assert severity["ENTRA-LOAD-THROUGHPUT"] == "SHOULD"


@pytest.mark.parametrize("defect", sorted(LOAD_PROBES))
def test_load_defect_is_caught(tmp_path: Path, defect: str):
    entry = LOAD_PROBES[defect]
    document = load(tmp_path, defect=[defect], server_rate_limit=entry.get("rate_limit"),
                    users=entry.get("users", 60 if entry.get("rate_limit") else 30), duration=entry.get("seconds", 3),
                    concurrency=entry.get("concurrency", 4))
    assert failing(document) == set(entry["fails"]), outcomes(document)
    assert {o for o in outcomes(document).values()} <= {"pass", "fail", "deviation", "not-applicable"}


def test_gallery_makes_throughput_a_must():
    from scim_conformance.load.result import THROUGHPUT, load_profile_view
    from scim_conformance.requirements import load_registry

    registry, profile = load_registry(), load_profile("entra-id")
    assert load_profile_view(profile, registry, gallery=True).severity[THROUGHPUT] == "MUST"
    assert load_profile_view(profile, registry, gallery=False).severity[THROUGHPUT] == "SHOULD"
    assert load_profile_view(profile, registry, gallery=False).verdict_label == "Entra-ready under load"


# --- the command: bounds, reports, interrupts, cleanup -------------------------------------------------------
@pytest.fixture
def server():
    with ReferenceServer(token=TOKEN) as srv:
        yield srv


def _cli(report_dir: Path, base_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "scim_conformance.cli", "load", "--scim-url", base_url, "--report-dir",
            str(report_dir), "--seed", "11", *args]


def _env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "SCIM_TOKEN": TOKEN}


def _left(srv: ReferenceServer) -> int:
    assert srv.store is not None
    return srv.store.count("User") + srv.store.count("Group")


def test_request_cap_stops_the_cycle_and_removal_still_runs(tmp_path: Path, server: ReferenceServer):
    done = subprocess.run(_cli(tmp_path, server.base_url, "--users", "500", "--max-requests", "120"),
                          capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr[-2000:]
    (report,) = tmp_path.glob("*.json")
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["load"]["stopped_by"] == "request cap"
    # Every request went to the --scim-url server (its own count of resources falls back to zero below).
    assert document["run"]["target"] == server.base_url and document["run"]["embedded_server"] is False
    assert document["load"]["phases"][-1] == "removal"
    assert _left(server) == 0
    assert list(tmp_path.glob("*.junit.xml")) and list(tmp_path.glob("*.html"))
    # Plain progress lines when stderr is not a terminal; the token never printed.
    assert "load: phase: users" in done.stderr and TOKEN not in done.stderr + done.stdout


def test_sigterm_removes_what_the_run_created(tmp_path: Path, server: ReferenceServer):
    process = subprocess.Popen(_cli(tmp_path, server.base_url, "--users", "5000", "--rate", "100"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    _wait_for_users(server)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2, err[-2000:]
    assert _left(server) == 0
    (report,) = tmp_path.glob("*.json")
    assert json.loads(report.read_text(encoding="utf-8"))["verdict"]["ready"] is None


def test_cleanup_journal_after_a_kill(tmp_path: Path, server: ReferenceServer):
    process = subprocess.Popen(_cli(tmp_path, server.base_url, "--users", "5000", "--rate", "100"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    _wait_for_users(server)
    process.kill()
    process.wait(timeout=30)
    assert _left(server) > 0
    (journal,) = tmp_path.glob("*.journal.jsonl")
    done = subprocess.run([sys.executable, "-m", "scim_conformance.cli", "cleanup", "--journal", str(journal)],
                          capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert _left(server) == 0


def _wait_for_users(srv: ReferenceServer, at_least: int = 20) -> None:
    deadline = time.monotonic() + 30
    while _left(srv) < at_least:
        assert time.monotonic() < deadline, "the load run created nothing"
        time.sleep(0.05)


def test_bad_options_are_one_line(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "scim_conformance.cli", "load", "--users", "0"],
                          capture_output=True, text=True, timeout=60, env=_env(), cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0, done.stderr
    assert "--users must be at least 1" in done.stderr
    assert not list(tmp_path.iterdir())


def test_an_unknown_quirk_is_refused_as_by_run(tmp_path: Path):
    """The bundled server is started by the one run core: `load` refuses what `run` refuses, in one line."""
    for command in ("load", "run"):
        done = subprocess.run([sys.executable, "-m", "scim_conformance.cli", command, "--quirk", "no-such-quirk",
                               "--report-dir", str(tmp_path / command)], capture_output=True, text=True, timeout=60,
                              env=_env(), cwd=tmp_path)
        assert done.returncode == 2, (command, done.stderr[-2000:])
        assert "unknown quirk(s): no-such-quirk" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / command).exists()


@pytest.mark.parametrize("workers", [0, 1])
def test_strict_exits_alike_on_threads_and_on_locust(tmp_path: Path, workers: int):
    """A SHOULD broken (429 without Retry-After) fails a --strict load run, on threads as on Locust workers."""
    if workers and importlib.util.find_spec("locust") is None:
        pytest.skip("Locust is not installed (the 'load' extra)")
    argv = [sys.executable, "-m", "scim_conformance.cli", "load", "--report-dir", str(tmp_path), "--seed", "5",
            "--defect", "throttle-without-retry-after", "--server-rate-limit", "40", "--users", "30",
            "--groups", "2", "--duration", "10", "--locust-workers", str(workers)]
    for strict, code in ((True, 1), (False, 0)):
        done = subprocess.run(argv + (["--strict"] if strict else []), capture_output=True, text=True, timeout=180,
                              env=_env())
        assert done.returncode == code, (strict, done.stdout[-2000:], done.stderr[-3000:])
        word = "FAIL " if strict else "deviation: "
        assert word in done.stdout and "MISS" not in done.stdout, done.stdout


# --- the report in a browser ---------------------------------------------------------------------------------
PLOT_PROBE = """<script>
""" + SETTLE + """
window.addEventListener("load", function () {
  function box(el) {
    var r = el && el.getBoundingClientRect();
    return r ? [Math.round(r.width), Math.round(r.height)] : null;
  }
  var found = {};
  found.verdictText = (document.querySelector("#scim-verdict .scim-verdict-line") || {}).textContent;
  found.throughput = box(document.getElementById("scim-throughput"));
  found.latency = box(document.getElementById("scim-latency"));
  found.latencyOverTime = box(document.getElementById("scim-latency-timeline"));
  found.latencyLines = document.querySelectorAll("#scim-latency-timeline polyline").length;
  found.latencyPoints = document.querySelectorAll("#scim-latency-timeline circle").length;
  found.bars = document.querySelectorAll("#scim-throughput rect").length;
  found.latencyBars = document.querySelectorAll("#scim-latency rect").length;
  found.matrixRows = document.querySelectorAll(".scim-matrix tr[id^='req-']").length;
  found.checks = document.querySelectorAll(".scim-load-check").length;
  var link = document.querySelector("a.scim-check-link");
  found.link = link ? decodeURIComponent(link.hash.slice(1)) : null;  // the href is "#" + the check's id
  // The page unpacks the transcript store asynchronously (gzip): look until the race probe's rows are drawn.
  var tries = 0;
  function look() {
    var probe = document.getElementById("load::race-create");
    found.drawn = probe ? probe.querySelectorAll(".scim-lazy.scim-drawn .scim-x").length : -1;
    if (found.drawn === 0 && ++tries < 200) {
      settle();
      setTimeout(look, 50);
      return;
    }
    document.documentElement.setAttribute("data-probe", JSON.stringify(found));
  }
  look();
});
</script>"""


def test_report_plots_render_in_chromium(throttled: dict[str, Any], tmp_path: Path):
    from tests.test_report_browser import COLLECTOR, render

    (page,) = Path(throttled["run"]["journal"]).parent.glob("*.html")
    text = page.read_text(encoding="utf-8")
    instrumented = tmp_path / "load.html"
    instrumented.write_text(text.replace("<head>", "<head>" + COLLECTOR, 1).replace("</body>", PLOT_PROBE + "</body>",
                                                                                    1), encoding="utf-8")
    dom, _stderr = render(instrumented, tmp_path)
    errors = re.search(r'<html[^>]*\sdata-page-errors="([^"]*)"', dom)
    probe = re.search(r'<html[^>]*\sdata-probe="([^"]*)"', dom)
    assert errors and probe, dom[:1000]
    assert json.loads(htmllib.unescape(errors.group(1))) == []
    found = json.loads(htmllib.unescape(probe.group(1)))
    assert found["verdictText"] == throttled["verdict"]["summary"]
    assert found["throughput"][0] > 300 and found["throughput"][1] > 100
    assert found["latency"][0] > 300 and found["latency"][1] > 100
    # p50 and p95 per second, beside the requests per second: one point per second with answers, for each line.
    assert found["latencyOverTime"][0] > 300 and found["latencyOverTime"][1] > 100 and found["latencyLines"] == 2
    answered = sum(1 for s in throttled["load"]["summary"]["latency_timeline"] if s["answered"])
    assert answered >= len(throttled["load"]["summary"]["timeline"]) // 2 and found["latencyPoints"] == 2 * answered
    assert found["bars"] >= len(throttled["load"]["summary"]["timeline"]) // 2
    assert found["latencyBars"] >= len(throttled["load"]["summary"]["kinds"])
    assert found["matrixRows"] == 6 and found["checks"] == 6 and found["link"].startswith("load::")
    # A race probe's requests (eight creates, the lookup) are drawn from the page's transcript store.
    race = next(c for c in throttled["checks"] if c["nodeid"] == "load::race-create")
    assert found["drawn"] == len(race["transcript"]) >= RACE_WIDTH


def test_locust_master_and_two_workers_on_loopback(tmp_path: Path, server: ReferenceServer):
    """`--locust-workers 2`: a Locust master and two workers share the cycle; one journal, one result document."""
    # Only looked up, never imported: importing Locust would monkey-patch this process (and its server) for gevent.
    if importlib.util.find_spec("locust") is None:
        pytest.skip("Locust is not installed (the 'load' extra)")
    done = subprocess.run(_cli(tmp_path, server.base_url, "--users", "20", "--groups", "2", "--locust-workers", "2",
                               "--concurrency", "2", "--duration", "20", "--max-requests", "2000"),
                          capture_output=True, text=True, timeout=180, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    (report,) = [p for p in tmp_path.glob("*.json")]
    document = json.loads(report.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert set(outcomes(document).values()) <= {"pass", "not-applicable"}
    assert document["load"]["settings"]["locust_workers"] == 2
    # Each worker says what it sent and the CPU it spent on it (bench/load.py reads CPU per request from it).
    workers = document["load"]["workers"]
    assert [w["index"] for w in workers] == [0, 1] and all(w["cpu_s"] > 0 for w in workers)
    assert sum(w["requests"] for w in workers) == document["load"]["summary"]["requests"]
    kinds = document["load"]["summary"]["kinds"]
    assert kinds["create-user"]["statuses"] == {"201": 20} and kinds["race-create"]["statuses"] == {"201": 1, "409": 7}
    assert len(list(tmp_path.glob("*.w*.journal.jsonl"))) == 2
    (merged,) = [p for p in tmp_path.glob("*.journal.jsonl") if ".w" not in p.name]
    assert sum('"created"' in line for line in merged.read_text(encoding="utf-8").splitlines()) >= 20
    assert _left(server) == 0


# --- the parts, on their own ----------------------------------------------------------------------------------
def test_throttle_refuses_beyond_its_rate_and_says_how_long():
    from scim_conformance.server.defects import Defects
    from scim_conformance.server.throttle import Throttle

    now = [0.0]
    throttle = Throttle(2, Defects(), clock=lambda: now[0])
    assert [throttle.admit(), throttle.admit(), throttle.admit()] == [None, None, 1]
    now[0] = 1.0  # waited as told: a full second's burst again
    assert [throttle.admit(), throttle.admit(), throttle.admit()] == [None, None, 1]
    understating = Throttle(2, Defects(["retry-after-too-short"]), clock=lambda: now[0])
    assert [understating.admit(), understating.admit(), understating.admit()] == [None, None, 1]
    now[0] = 2.0  # waited as told, yet still shut
    assert understating.admit() == 1
    now[0] = 4.5
    assert understating.admit() is None


def test_measurements_merge_and_summarise():
    from scim_conformance.load.measurements import Measurements, percentile

    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0 and percentile([1.0, 2.0, 3.0, 4.0], 0.99) == 4.0
    first, second = Measurements(started=100.0), Measurements(started=101.0)
    first.record("create-user", 201, 10.0, 100.2)
    second.record("create-user", 500, 30.0, 101.5)
    second.record("lookup-user", None, 10000.0, 101.6, error="timeout")
    second.throttled(retry_after=True)
    second.waited(sufficed=False)
    first.merge(second.as_data())
    summary = first.summary()
    assert summary["kinds"]["create-user"]["statuses"] == {"201": 1, "500": 1}
    assert summary["server_errors"] == 1 and summary["timeouts"] == 1
    assert summary["throttling"] == {"with_retry_after": 1, "without_retry_after": 0, "waits_sufficed": 0,
                                     "waits_refused": 1}
    assert summary["timeline"][0] == {"2xx": 1} and summary["timeline"][1] == {"5xx": 1}
    # Latency over time: only answered requests (the timeout is not one), each in the second it was answered,
    # the second worker's shifted onto the first one's clock.
    assert summary["latency_timeline"][:2] == [{"answered": 1, "p50_ms": 10.0, "p95_ms": 10.0},
                                               {"answered": 1, "p50_ms": 30.0, "p95_ms": 30.0}]
    assert all(s["answered"] == 0 for s in summary["latency_timeline"][2:])
    histogram = summary["kinds"]["lookup-user"]["histogram"]
    assert histogram[-2] == 1 and histogram[-1] == 0  # 10 s is in the last bounded bucket
