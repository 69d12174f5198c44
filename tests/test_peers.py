"""Against real third-party software: each peer SCIM server gets exactly the findings (and the number of blocked
requirements) that tests/expected/<server>.yaml lists and justifies; and the other way round, scim2-tester
(through scim2-cli) finds no fault in our reference server.

The peers: scim2-server (PyPI, `test` extra), django-scim2 (PyPI, `test` extra) in the smallest Django project
its README describes (tests/peers/django_scim2), and a server built on SCIMMY + scimmy-routers (npm, installed
by scripts/install-peers.sh) with in-memory storage (tests/peers/scimmy).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import yaml

from scim_conformance.requirements import load_registry
from scim_conformance.server import ReferenceServer
from tests.suite_runner import WITHOUT_HTML, advisory, run_suite

HERE = Path(__file__).parent
PEERS_DIR = HERE / "peers"
TOKEN = "peer-token-2c8e51a0"
BIN = Path(sys.executable).parent
EXPECTED = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in (HERE / "expected").glob("*.yaml")}
# npm's own words for "the registry could not be reached": only then is a skip honest.
_OFFLINE = re.compile(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network|offline", re.IGNORECASE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(name: str, argv: list[str], port: int, path: str, cwd: Path | None = None) -> Iterator[str]:
    """Start a peer, wait until it accepts connections, yield its SCIM base URL, stop it."""
    # The log goes to a file: a pipe nobody reads fills up and stalls a chatty server mid-run.
    with tempfile.TemporaryFile() as log:
        yield from _run_logged(name, argv, port, path, cwd, log)


def _run_logged(name: str, argv: list[str], port: int, path: str, cwd: Path | None, log: IO[bytes]) -> Iterator[str]:
    process = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    log.seek(0)
                    shown = log.read()[-2000:].decode(errors="replace")
                    pytest.fail(f"{name} did not start listening on 127.0.0.1:{port}: {shown}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def scim2_server() -> Iterator[str]:
    executable = BIN / "scim2-server"
    if not executable.exists():
        executable = Path(shutil.which("scim2-server") or "scim2-server")
    port = _free_port()
    yield from _serve("scim2-server", [str(executable), "--hostname", "127.0.0.1", "--port", str(port),
                                       "--bearer-token", TOKEN], port, "/v2")


@pytest.fixture(scope="module")
def django_scim2() -> Iterator[str]:
    port = _free_port()
    yield from _serve("django-scim2", [sys.executable, str(PEERS_DIR / "django_scim2" / "serve.py"), str(port), TOKEN],
                      port, "/scim/v2")


@pytest.fixture(scope="module")
def scimmy() -> Iterator[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the SCIMMY peer (scripts/install-peers.sh installs it)")
    if not (PEERS_DIR / "scimmy" / "node_modules" / "scimmy-routers").is_dir():
        done = subprocess.run(["bash", str(HERE.parent / "scripts" / "install-peers.sh")], capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            if _OFFLINE.search(done.stderr):
                pytest.skip(f"the npm registry is unreachable, so the SCIMMY peer cannot be installed: "
                            f"{done.stderr.strip().splitlines()[-1]}")
            pytest.fail(f"scripts/install-peers.sh failed: {done.stderr[-2000:]}")
    port = _free_port()
    yield from _serve("scimmy", [node, "server.mjs", str(port), TOKEN], port, "/scim/v2", cwd=PEERS_DIR / "scimmy")


CASES = [(server, profile) for server in sorted(EXPECTED) for profile in sorted(EXPECTED[server]["profiles"])]


def test_every_expected_finding_is_justified_and_every_count_given() -> None:
    registry = load_registry()
    for server, expected in EXPECTED.items():
        for profile, findings in expected["profiles"].items():
            assert sorted(set(findings) - set(registry.requirements)) == [], f"{server}/{profile}: unknown ids"
            unjustified = [rid for rid, why in findings.items() if not isinstance(why, str) or len(why) < 20]
            assert unjustified == [], f"{server}/{profile}: findings without a justification"
            assert isinstance(expected["blocked"][profile], int), f"{server}/{profile}: no count of blocked"


@pytest.mark.parametrize(("server", "profile"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_peer_gets_exactly_its_expected_findings(request: pytest.FixtureRequest, tmp_path: Path, server: str,
                                                 profile: str) -> None:
    base_url = request.getfixturevalue(server.replace("-", "_"))
    run = run_suite(profile, tmp_path, base_url=base_url, token=TOKEN, extra=WITHOUT_HTML)
    expected = set(EXPECTED[server]["profiles"][profile])
    # An Entra report's advisory RFC section is judged under rfc7644, where the same checks run.
    observed = run.failing - advisory(profile)
    assert observed == expected, (
        f"{server} under {profile}: new findings {sorted(observed - expected)}; "
        f"expected but no longer happening {sorted(expected - observed)}")
    assert run.outcomes("error") == set(), run.stdout[-2000:]
    blocked = run.outcomes("blocked") - advisory(profile)
    assert len(blocked) == EXPECTED[server]["blocked"][profile], f"{server} under {profile}: blocked {sorted(blocked)}"
    registry = load_registry()
    assert run.returncode == (1 if any(registry[r].severity == "MUST" for r in observed) else 0), run.stdout[-1500:]


def test_scim2_tester_finds_no_fault_in_the_reference_server() -> None:
    with ReferenceServer(token=TOKEN) as server:
        env = {**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {TOKEN}"}
        done = subprocess.run([str(BIN / "scim2"), "--url", server.base_url, "test"], capture_output=True,
                              text=True, env=env, timeout=300)
    bad = [line for line in done.stdout.splitlines() if line.split(" ", 1)[0] in ("ERROR", "CRITICAL")]
    assert bad == [], done.stdout[-4000:]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
