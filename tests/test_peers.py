"""Against real third-party software: scim2-server (PyPI) gets exactly the findings we expect, and the other way
round, scim2-tester (through scim2-cli) finds no fault in our reference server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from scim_conformance.requirements import load_registry
from scim_conformance.server import ReferenceServer
from tests.suite_runner import advisory, run_suite

EXPECTED = yaml.safe_load((Path(__file__).parent / "expected" / "scim2-server.yaml").read_text(encoding="utf-8"))
TOKEN = "peer-token-2c8e51a0"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def scim2_server():
    executable = BIN / "scim2-server"
    if not executable.exists():
        executable = Path(shutil.which("scim2-server") or "scim2-server")
    port = _free_port()
    process = subprocess.Popen([str(executable), "--hostname", "127.0.0.1", "--port", str(port),
                                "--bearer-token", TOKEN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("scim2-server did not start listening within 30 s")
    yield f"http://127.0.0.1:{port}/v2"
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize("profile", sorted(EXPECTED["profiles"]))
def test_scim2_server_expected_findings(tmp_path, scim2_server, profile):
    run = run_suite(profile, tmp_path, base_url=scim2_server, token=TOKEN)
    expected = set(EXPECTED["profiles"][profile])
    observed = run.failing - advisory(profile)
    assert observed == expected, (
        f"new findings: {sorted(observed - expected)}; expected but no longer happening: {sorted(expected - observed)}")
    assert run.outcomes("error") == set(), run.stdout[-2000:]
    registry = load_registry()
    # Not Entra-ready (MUST requirements fail); SCIM 2.0-conformant, with a SHOULD deviation.
    assert run.returncode == (1 if any(registry[r].severity == "MUST" for r in expected) else 0)


def test_scim2_tester_finds_no_fault_in_the_reference_server() -> None:
    with ReferenceServer(token=TOKEN) as server:
        env = {**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {TOKEN}"}
        done = subprocess.run([str(BIN / "scim2"), "--url", server.base_url, "test"], capture_output=True,
                              text=True, env=env, timeout=300)
    bad = [line for line in done.stdout.splitlines() if line.split(" ", 1)[0] in ("ERROR", "CRITICAL")]
    assert bad == [], done.stdout[-4000:]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
