"""The self-tests' runner: a run inside the test process is the run a subprocess makes, and leaves nothing behind."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.suite_runner import run_suite

TOKEN = "runner-t0ken-4e2a"


def _listed(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if "::" in line]


def test_in_process_and_isolated_runs_agree(tmp_path: Path):
    # A dry run lists every check with what it would do: the same list, exit code and no request either way.
    url = "http://127.0.0.1:9/scim/v2"
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    inside = run_suite("entra-id", tmp_path / "in", base_url=url, token=TOKEN, extra=("--dry-run",))
    outside = run_suite("entra-id", tmp_path / "out", base_url=url, token=TOKEN, extra=("--dry-run",), isolated=True)
    assert inside.returncode == outside.returncode == 0, inside.stdout[-2000:] + outside.stdout[-2000:]
    assert _listed(inside.stdout) == _listed(outside.stdout) != []


def test_an_in_process_run_gives_the_caller_its_process_back(tmp_path: Path):
    before = (dict(os.environ), os.getcwd(), signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    run = run_suite("entra-id", tmp_path, token=TOKEN, extra=("--requirement", "ENTRA-CONN-PROBE-EMPTY"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.document["checks"], "the run checked nothing"
    after = (dict(os.environ), os.getcwd(), signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    assert after == before
