"""The command line as a user meets it: help, profiles, one clear line and a documented exit code for bad targets."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scim_conformance.options import RunOptions
from scim_conformance.profile import load_profile
from scim_conformance.server import ReferenceServer

CLI = [sys.executable, "-m", "scim_conformance.cli"]


def _cli(*args: str, token: str | None = None, cwd: Path | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("SCIM_TOKEN", None)
    if token is not None:
        env["SCIM_TOKEN"] = token
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stdout + done.stderr


def test_help_names_the_commands_and_exit_codes():
    done = _cli("--help")
    assert done.returncode == 0
    for word in ("run", "diff", "profiles", "serve", "cleanup", "Exit codes"):
        assert word in done.stdout


def test_profiles_lists_one_line_each():
    done = _cli("profiles")
    assert done.returncode == 0
    lines = done.stdout.strip().splitlines()
    assert {line.split()[0] for line in lines} >= {"entra-id", "entra-id-aadoptscim062020", "example-saas-tenant"}


def test_profiles_show_resolves_extends():
    done = _cli("profiles", "--show", "example-saas-tenant")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "extends_chain:\n- entra-id" in text
    assert "groups: false" in text
    assert 'target: emails[type eq "home"].primary' in text
    assert "source: userPrincipalName" in text and "source: mail\n" not in text


def _preflight_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "preflight:" in line]
    assert len(lines) == 1, done.stdout + done.stderr
    return lines[0]


def test_unreachable_url_is_one_line_exit_3(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/scim/v2"
    done = _cli("run", "--scim-url", url, "--report-dir", str(tmp_path), token="t0ken-unreachable", cwd=tmp_path)
    assert done.returncode == 3
    assert f"cannot reach {url}: connection refused" in _preflight_line(done)
    _no_traceback(done)


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>Welcome to our marketing site</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_html_instead_of_json_is_one_line_exit_3(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        done = _cli("run", "--scim-url", url, "--report-dir", str(tmp_path), token="t0ken-html", cwd=tmp_path)
    finally:
        server.shutdown()
    assert done.returncode == 3
    assert "is not a SCIM endpoint: GET /Users answered 200 text/html, not JSON" in _preflight_line(done)
    _no_traceback(done)


def test_wrong_token_is_one_line_exit_3(tmp_path):
    with ReferenceServer(token="the-right-token-123") as server:
        done = _cli("run", "--scim-url", server.base_url, "--report-dir", str(tmp_path), token="a-wrong-token-456",
                    cwd=tmp_path)
    assert done.returncode == 3
    line = _preflight_line(done)
    assert "refused the bearer token (401 to GET /Users)" in line
    assert "a-wrong-token-456" not in done.stdout + done.stderr
    _no_traceback(done)


def test_missing_token_is_a_usage_error(tmp_path):
    done = _cli("run", "--scim-url", "http://127.0.0.1:9/scim/v2", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == ("scim-conformance: no bearer token for http://127.0.0.1:9/scim/v2: set $SCIM_TOKEN "
                                   "(or use --scim-token-file, or --oauth-token-url)")
    _no_traceback(done)


def test_unknown_report_format_is_a_usage_error(tmp_path):
    done = _cli("run", "--report", "junit,pdf", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == ("scim-conformance: --report: unknown format(s) pdf; choose from html, json, junit, "
                                   "har")
    assert list(tmp_path.iterdir()) == []
    _no_traceback(done)


def test_several_profiles_need_the_json_report(tmp_path):
    done = _cli("run", "--profile", "entra-id", "--profile", "okta", "--report", "junit", "--report-dir", str(tmp_path),
                cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "scim-conformance: a run of several profiles needs --report to include json"
    assert list(tmp_path.iterdir()) == []


def test_no_advisory_leaves_out_the_rfc_section_and_keeps_the_verdict(tmp_path):
    done = _cli("run", "--no-advisory", "--report", "json", "--report-dir", str(tmp_path), "--max-rps", "0",
                cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Entra-ready: yes" in done.stdout  # advisory checks never count: leaving them out establishes as much
    document = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    advisory = load_profile("entra-id").advisory
    # Left out of the run and of its report: not listed as "not applicable" either.
    assert not [r for r in document["requirements"] if r["capability"] in advisory]
    assert not [c for c in document["checks"] if c["nodeid"].startswith("test_rfc_")]
    assert any(r["outcome"] == "pass" for r in document["requirements"] if r["id"].startswith("ENTRA-"))


def test_report_writes_only_the_formats_asked_for(tmp_path):
    """A CI gate reading JUnit alone gets that file (and the journal of what was created), and the same verdict."""
    done = _cli("run", "--report", "junit", "--requirement", "ENTRA-USER-CREATE", "--report-dir", str(tmp_path),
                "--max-rps", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    written = sorted(p.name.split(".", 1)[1] for p in tmp_path.iterdir())
    assert written == ["journal.jsonl", "junit.xml"], written
    assert "report: " + str(next(tmp_path.glob("*.junit.xml"))) in done.stdout


@pytest.mark.parametrize("profile", ["entra-id"])
def test_main_job_against_bundled_server_writes_all_reports(tmp_path, profile):
    done = _cli("run", "--profile", profile, "--report-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Entra-ready: yes" in done.stdout
    for suffix in (".json", ".junit.xml", ".html"):
        assert list(tmp_path.glob(f"{profile}-*{suffix}")), suffix


def test_dry_run_lists_checks_and_sends_nothing(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/scim/v2"  # nothing listens: any request would fail the run
    done = _cli("run", "--dry-run", "--scim-url", url, "--report-dir", str(tmp_path), token="t0ken-dry", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "no request is sent" in done.stdout
    assert "test_connection.py::test_no_user_agent  [ENTRA-NO-USER-AGENT]  (reads only)" in done.stdout
    assert "test_connection.py::test_probe_encodings[plus-raw-quotes]  [ENTRA-CONN-PROBE-ENCODING]  (creates users)" \
        in done.stdout
    # A check shared by two IdPs is listed with this profile's requirement alone.
    assert "test_users.py::test_create_user  [ENTRA-USER-CREATE]  (creates users)" in done.stdout
    assert "OKTA-" not in done.stdout
    assert not list(tmp_path.glob("*.journal.jsonl"))


def test_several_profiles_give_one_report_with_a_verdict_per_idp(tmp_path):
    """A server can be ready for one IdP and not the other: Okta's PUT is not stored, Entra never PUTs."""
    import json

    done = _cli("run", "--profile", "entra-id", "--profile", "okta", "--defect", "put-not-applied",
                "--report-dir", str(tmp_path), "--seed", "11", timeout=300)
    _no_traceback(done)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    [combined] = tmp_path.glob("combined-*.json")
    runs = json.loads(combined.read_text(encoding="utf-8"))["runs"]
    verdicts = {r["idp"]: (r["verdict"]["label"], r["verdict"]["ready"]) for r in runs}
    assert verdicts == {"Microsoft Entra ID": ("Entra-ready", True),
                        "Okta": ("Compatible with Okta (OIN) requests", False)}
    assert "OKTA-PUT-REPLACE" in runs[1]["verdict"]["failing"]
    assert all((tmp_path / r["report"]).is_file() and (tmp_path / r["html"]).is_file() for r in runs)
    assert "Okta (okta): Compatible with Okta (OIN) requests: no" in done.stdout
    assert combined.with_suffix(".html").is_file()


def test_a_run_of_several_profiles_passes_everything_but_the_profiles_on():
    from scim_conformance.cli import _without_profiles

    assert _without_profiles(["--profile", "okta", "--seed", "3", "--profile=entra-id", "--", "-k", "x",
                              "--profile", "y"]) == ["--seed", "3", "--", "-k", "x", "--profile", "y"]


def test_a_run_loads_only_the_plugins_it_uses(tmp_path):
    # Importing every installed pytest plugin was a third of the start-up; the faker and anyio plugins (installed
    # here with faker and the test extras) have nothing to do in a run.
    url = f"http://127.0.0.1:{_free_port()}/scim/v2"
    done = _cli("run", "--dry-run", "--scim-url", url, "--report-dir", str(tmp_path), "--", "--trace-config",
                token="t0ken-dry", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    registered = [line for line in done.stdout.splitlines() if line.startswith("PLUGIN registered: <module")]
    modules = {line.split("'")[1] for line in registered}
    assert {"scim_conformance.plugin", "pytest_html.plugin", "pytest_metadata.plugin"} <= modules
    assert not {m for m in modules if m.startswith(("faker", "anyio", "xdist"))}, sorted(modules)


def test_collection_starts_at_the_checks_directory(tmp_path):
    # pytest collected from / down, looking at every entry of every directory above the checks: a third of a run
    # for a checkout under a crowded directory. A copy of the checkout among neighbours shows where it starts.
    import shutil

    root = Path(__file__).resolve().parents[1]
    checkout = tmp_path / "crowded" / "checkout"
    for name in ("scim_conformance", "conformance", "profiles", "fixtures"):
        shutil.copytree(root / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    for i in range(20):
        (tmp_path / "crowded" / f"neighbour-{i}").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(SCIM_TOKEN="t0ken-collect", PYTHONPATH=str(checkout))
    url = f"http://127.0.0.1:{_free_port()}/scim/v2"
    done = subprocess.run([*CLI, "run", "--scim-url", url, "--report-dir", str(tmp_path), "--", "--collect-only",
                           "-v"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collectors = [line for line in done.stdout.splitlines() if line.lstrip().startswith("<Dir")]
    assert collectors == ["<Dir conformance>"], collectors


@pytest.mark.parametrize(("extra", "xdist"), [((), False), (("-k", "manager", "-x"), False), (("-n", "2"), True),
                                              (("-n2",), True), (("--numprocesses=auto",), True),
                                              (("--dist", "load"), True), (("--durations", "5"), False)])
def test_xdist_is_loaded_when_an_option_asks_for_it(extra, xdist):
    from scim_conformance.cli import _plugins

    assert ("xdist.plugin" in _plugins(RunOptions(), list(extra))) is xdist


@pytest.mark.parametrize(("report", "html"), [("html,json,junit", True), ("junit", False), ("JSON, html", True)])
def test_pytest_html_is_loaded_only_for_an_html_report(report, html):
    from scim_conformance.cli import _plugins

    assert ("pytest_html.plugin" in _plugins(RunOptions(report=report), [])) is html
