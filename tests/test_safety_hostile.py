"""A run against a broken or hostile endpoint ends quickly, with a documented exit code, and leaks nothing.

Each case starts one server from tests/hostile.py on 127.0.0.1 and runs the CLI against it as a user would
(a subprocess, the token in $SCIM_TOKEN, --timeout 1). Whatever the server does, the run must finish far
inside the time its faults would take, end with 3 (stopped at preflight, one `preflight:` line) or 1/3
(the checks ran and met the fault), print no Python traceback, still write the JSON result, and never show
the token in its output or in any file it wrote, although several of these servers echo it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.hostile import HostileServer, hostile

CLI = [sys.executable, "-m", "scim_conformance.cli"]
# Characters that URL-encode differently, so the encoded form is a distinct string to look for.
TOKEN = "h0stile-T0ken/with+odd=chars"
# The run itself (from configure to the result document, as the document times it) must end by then ...
DEADLINE_S = 30.0
# ... and the process by this, start-up included; past it the run counts as hung. Generous, because the cases
# run side by side and a loaded CI machine stretches the start-up, not the waiting this file is about.
HUNG_S = 50.0


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    report_dir: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def document(self) -> dict[str, Any]:
        found = sorted(self.report_dir.glob("*.json"))
        assert len(found) == 1, f"expected one JSON result, got {found}\n{self.output[-3000:]}"
        return json.loads(found[0].read_text(encoding="utf-8"))


def run_cli(base_url: str, report_dir: Path, *extra: str, token: str = TOKEN) -> Outcome:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["SCIM_TOKEN"] = token
    argv = [*CLI, "run", "--scim-url", base_url, "--report-dir", str(report_dir), "--timeout", "1", "--max-rps", "0",
            *extra]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=report_dir, timeout=HUNG_S)
    except subprocess.TimeoutExpired as hung:
        # Only this case fails (on its elapsed time), not every case sharing the fixture.
        return Outcome(-9, _text(hung.stdout), _text(hung.stderr), time.monotonic() - started, report_dir)
    return Outcome(done.returncode, done.stdout, done.stderr, time.monotonic() - started, report_dir)


def _text(data: str | bytes | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def assert_no_secret(outcome: Outcome, token: str = TOKEN) -> None:
    """Neither the token nor its URL-encoded form in the terminal output or in any file under the report dir."""
    forms = {token, quote(token, safe="")}
    for form in forms:
        assert form not in outcome.output, "token in the terminal output"
    files = [p for p in outcome.report_dir.rglob("*") if p.is_file()]
    assert files, "the run wrote nothing"
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for form in forms:
            assert form not in text, f"token in {path.name}"


def assert_in_time(outcome: Outcome) -> None:
    assert outcome.returncode != -9, f"hung: killed after {HUNG_S:.0f} s\n{outcome.output[-2000:]}"
    elapsed = outcome.document()["run"]["elapsed_s"]
    assert elapsed < DEADLINE_S, f"the run took {elapsed:.1f} s"


def assert_well_behaved(outcome: Outcome) -> None:
    assert_in_time(outcome)
    assert "Traceback" not in outcome.output, outcome.output[-3000:]
    assert_no_secret(outcome)
    document = outcome.document()
    assert document["run"]["target"].startswith("http://127.0.0.1:")


def preflight_line(outcome: Outcome) -> str:
    lines = [line for line in outcome.output.splitlines() if line.startswith("preflight:")]
    assert len(lines) == 1, outcome.output[-3000:]
    return lines[0]


@dataclass
class Case:
    kind: str
    options: dict[str, Any]
    extra: tuple[str, ...] = ()


@dataclass
class Finished:
    outcome: Outcome
    server: HostileServer
    bystander: HostileServer
    stop_s: float  # how long the hostile server took to stop once the run was over


# What the one preflight line must say when the server misbehaves from the first request on.
STOPPED_AT_PREFLIGHT = {
    "html": (Case("html", {}), "answered 200 text/html"),
    "invalid-json": (Case("invalid-json", {}), "answered 200 application/scim+json, not JSON"),
    "huge-body": (Case("huge-body", {}), "response body larger than"),
    "silent": (Case("silent", {}), "no answer within the request timeout"),
    "reset": (Case("reset", {}), "connection reset by the server"),
    "redirect": (Case("redirect", {}), "redirects (302)"),
    "endless-chunks": (Case("endless-chunks", {}), "response body larger than"),
    # Whichever guard notices first: the per-chunk check or the deadline on the whole exchange.
    "endless-chunks-slow": (Case("endless-chunks", {"pause": 0.2}), ("still streaming after 3 s", "within 3 s")),
    # One byte every 0.1 s: no single read ever waits a second, so only a deadline on the whole exchange helps.
    "trickle-body": (Case("trickle", {"part": "body"}), "no complete answer within 3 s"),
    "trickle-headers": (Case("trickle", {"part": "headers"}), "no complete answer within 3 s"),
}
# The probe is answered correctly, then the fault meets the checks themselves (500 fails the probe's way too:
# its body is JSON, so preflight lets it through).
AFTER_PREFLIGHT = {
    kind: Case(kind, {"after_preflight": kind != "server-error"})
    for kind in ("html", "invalid-json", "huge-body", "reset", "redirect", "server-error", "endless-chunks")
}
# 429 on everything: once retries are exhausted the run must stop waiting, however long the server asks for.
RATE_LIMITED = {
    "retry-after-1": Case("rate-limited", {"retry_after": 1}),
    "retry-after-3600": Case("rate-limited", {"retry_after": 3600}),
}
# A hang after the probe costs each check one timeout; two requirements keep that short.
SILENT_AFTER_PREFLIGHT = Case("silent", {"after_preflight": True},
                              ("--requirement", "ENTRA-NO-USER-AGENT", "--requirement", "ENTRA-USER-UNKNOWN-404"))


def _run_case(case: Case, report_dir: Path) -> Finished:
    """Start the hostile server (and a well-behaved bystander a redirect points at), run the CLI, stop both."""
    report_dir.mkdir(parents=True)
    with hostile("recorder") as bystander:
        options = {**case.options, "location": bystander.origin} if case.kind == "redirect" else case.options
        with hostile(case.kind, **options) as server:
            outcome = run_cli(server.base_url, report_dir, *case.extra)
            stop_started = time.monotonic()
        stop_s = time.monotonic() - stop_started
    return Finished(outcome, server, bystander, stop_s)


CASES = {f"pre-{name}": case for name, (case, _said) in STOPPED_AT_PREFLIGHT.items()}
CASES.update({f"post-{name}": case for name, case in AFTER_PREFLIGHT.items()})
CASES["post-silent"] = SILENT_AFTER_PREFLIGHT
CASES.update({f"429-{name}": case for name, case in RATE_LIMITED.items()})


class FinishedCases:
    """The cases of one kind (pre-, post-, 429-), run side by side the first time a test asks for one of them:
    each is mostly waiting (on a subprocess, a timeout), so the file stays quick; and under pytest-xdist a worker
    runs only the kinds its own tests ask for, not every case again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done: dict[str, Finished] = {}

    def __getitem__(self, name: str) -> Finished:
        if name not in self.done:
            kind = name.split("-", 1)[0] + "-"
            todo = {n: case for n, case in CASES.items() if n.startswith(kind)}
            with ThreadPoolExecutor(max_workers=len(todo)) as pool:
                futures = {n: pool.submit(_run_case, case, self.root / n) for n, case in todo.items()}
                self.done.update({n: future.result() for n, future in futures.items()})
        return self.done[name]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> FinishedCases:
    return FinishedCases(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", list(STOPPED_AT_PREFLIGHT))
def test_stopped_at_preflight(finished, name):
    done = finished[f"pre-{name}"]
    outcome, server = done.outcome, done.server
    assert done.stop_s < 6, "the hostile server did not stop promptly"
    assert_in_time(outcome)
    assert outcome.returncode == 3, outcome.output[-3000:]
    said = STOPPED_AT_PREFLIGHT[name][1]
    line = preflight_line(outcome)
    assert any(phrase in line for phrase in ((said,) if isinstance(said, str) else said)), line
    assert_well_behaved(outcome)
    assert outcome.document()["run"]["preflight"]
    assert not list(outcome.report_dir.glob("*.journal.jsonl")), "a run stopped at preflight must not start a journal"
    assert len(server.requests) == 1, "preflight stops after its one probe"
    assert server.requests[0].headers.get("Authorization") == f"Bearer {TOKEN}"
    assert done.bystander.requests == [], "a redirect was followed"


@pytest.mark.parametrize("kind", list(AFTER_PREFLIGHT))
def test_fault_after_preflight(finished, kind):
    done = finished[f"post-{kind}"]
    outcome, server = done.outcome, done.server
    assert_in_time(outcome)
    assert outcome.returncode in (1, 3), outcome.output[-3000:]
    assert not [line for line in outcome.output.splitlines() if line.startswith("preflight:")]
    assert_well_behaved(outcome)
    document = outcome.document()
    assert document["verdict"]["ready"] is not True
    assert document["checks"], "the checks should have run"
    assert len(server.requests) > 10
    assert any(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in server.requests)
    # No server here ever answers a create with an id, so nothing is confirmed and nothing is deleted. (Looking up
    # a create whose answer was garbage may fail against these servers; that is reported, not hidden.)
    assert [f for f in document["run"]["cleanup_failures"] if f.startswith("DELETE")] == []
    assert not [r for r in server.requests if r.method == "DELETE"]
    # The bystander answers perfectly, so following a redirect would have been tempting: it saw nothing at all,
    # so certainly no Authorization header.
    assert done.bystander.requests == [], "a redirect was followed"
    responses = [e["response"] for c in document["checks"] for e in c["transcript"] if e["response"]]
    if kind == "redirect":
        assert any(r["status"] == 302 for r in responses)
    if kind in ("server-error", "html"):
        # These servers quote the Authorization header back; the transcripts keep the quote, redacted.
        assert any("Bearer [REDACTED]" in (r["body"] or "") for r in responses)


def test_silent_server_after_preflight_times_out_per_request(finished):
    """A backend that hangs after the probe costs each check about one timeout, not a minute."""
    outcome = finished["post-silent"].outcome
    assert outcome.returncode == 3, outcome.output[-3000:]
    assert_well_behaved(outcome)
    document = outcome.document()
    errors = [c for c in document["checks"] if c["outcome"] == "error"]
    assert errors and all("no answer within the request timeout" in c["message"] for c in errors)
    assert document["verdict"]["ready"] is None


@pytest.mark.parametrize("name", list(RATE_LIMITED))
def test_endless_429_does_not_stall_the_run(finished, name):
    """Retry-After is honoured up to a point: past it, and once a 429 survives every retry, the run moves on."""
    done = finished[f"429-{name}"]
    outcome = done.outcome
    assert_in_time(outcome)
    assert outcome.returncode in (1, 3), outcome.output[-3000:]
    assert_well_behaved(outcome)
    findings = outcome.document()["run"].get("transport_findings", [])
    assert any("429" in finding for finding in findings), findings
    # Each request is tried at most 1 + 3 times, and after the first exhausted one, once.
    requests_made = outcome.document()["run"]["requests"]
    assert len(done.server.requests) <= requests_made + 3


def test_rate_limited_from_the_start_stops_at_preflight(finished):
    outcome = finished["429-retry-after-3600"].outcome
    assert outcome.returncode == 3, outcome.output[-3000:]
    assert "429" in preflight_line(outcome)
