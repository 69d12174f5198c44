"""Safe against a live tenant: a run touches only what it created, and removes it even when it is cut short.

The "tenant" is the bundled reference server, started in this process and seeded through its HTTP API with
people and groups that were there before the run. The runs are real subprocesses of the CLI (token in
$SCIM_TOKEN), so signals, the journal and `scim-conformance cleanup` are exercised exactly as a user meets them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from scim_conformance.profile import available_profiles
from scim_conformance.server import ReferenceServer
from tests.hostile import hostile
from tests.suite_runner import SuiteRun, run_suite

CLI = [sys.executable, "-m", "scim_conformance.cli"]
TOKEN = "tenant-T0ken/with+odd=chars"
PROFILES = [path.stem for path in available_profiles()]
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


# --- the tenant -------------------------------------------------------------------------------------------------
class Tenant:
    """HTTP access to the reference server as an administrator would have it (not through the suite's client)."""

    def __init__(self, server: ReferenceServer) -> None:
        self.base_url = server.base_url
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {server.token}",
                                     "Content-Type": "application/scim+json"})

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self.base_url + path, params=params, timeout=10)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:300]}"
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(self.base_url + path, data=json.dumps(body), timeout=10)
        assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text[:300]}"
        return response.json()

    def all(self, endpoint: str) -> list[dict[str, Any]]:
        return self.get(endpoint, count=1000)["Resources"]

    def under_prefix(self, prefix: str) -> list[str]:
        """Every user and group whose name carries a run prefix: by the server's own filter and by listing.

        "Carries", not "starts with": the renaming checks put a word in front (`renamed.<prefix>-…`).
        """
        found = [u["userName"] for u in self.get("/Users", filter=f'userName sw "{prefix}"', count=1000)["Resources"]]
        found += [u["userName"] for u in self.all("/Users") if prefix.lower() in u["userName"].lower()]
        found += [g["displayName"] for g in self.all("/Groups") if prefix.lower() in g["displayName"].lower()]
        return sorted(set(found))

    def snapshot(self, ids: dict[str, list[str]]) -> dict[str, str]:
        """Canonical JSON of each resource, read back by id: any change at all, even meta, shows as a difference."""
        return {f"{endpoint}/{rid}": json.dumps(self.get(f"{endpoint}/{rid}"), sort_keys=True)
                for endpoint, rids in ids.items() for rid in rids}

    def reread(self, snapshot: dict[str, str]) -> dict[str, str]:
        return {key: json.dumps(self.get(key), sort_keys=True) for key in snapshot}


def seed(tenant: Tenant) -> dict[str, list[str]]:
    """People and groups that were there before any run, including names a careless sweep could mistake."""
    people = [
        {"userName": "adele.vance@contoso.test", "name": {"givenName": "Adele", "familyName": "Vance"},
         "emails": [{"type": "work", "value": "adele.vance@contoso.test", "primary": True}], "active": True,
         "externalId": "a1f3"},
        {"userName": "alex.wilber@contoso.test", "displayName": "Alex Wilber", "active": False,
         ENTERPRISE: {"department": "Sales", "employeeNumber": "1042"}},
        # Looks like a test resource at a glance; no run prefix ever matches it.
        {"userName": "scimc-lookalike@contoso.test", "active": True},
    ]
    users = [tenant.post("/Users", {"schemas": [CORE_USER] + ([ENTERPRISE] if ENTERPRISE in p else []), **p})
             for p in people]
    members = [{"value": u["id"]} for u in users[:2]]
    groups = [
        tenant.post("/Groups", {"schemas": [CORE_GROUP], "displayName": "Sales EMEA", "members": members}),
        tenant.post("/Groups", {"schemas": [CORE_GROUP], "displayName": "scimc lookalike team",
                                "members": members[:1]}),
        tenant.post("/Groups", {"schemas": [CORE_GROUP], "displayName": "Empty team"}),
    ]
    return {"/Users": [u["id"] for u in users], "/Groups": [g["id"] for g in groups]}


# --- runs as subprocesses ---------------------------------------------------------------------------------------
def _env(token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["SCIM_TOKEN"] = token
    return env


def start_run(base_url: str, report_dir: Path, *extra: str) -> subprocess.Popen[str]:
    # Paced, so that a signal reliably lands in the middle of the run rather than after it.
    argv = [*CLI, "run", "--scim-url", base_url, "--report-dir", str(report_dir), "--max-rps", "25", *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(TOKEN),
                            cwd=report_dir, preexec_fn=_default_sigint)


def _default_sigint() -> None:
    # An xdist worker ignores SIGINT and a child inherits that, so Python would never turn Ctrl-C into
    # KeyboardInterrupt; a user's shell hands the run the default disposition, and so does this.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def read_journal(report_dir: Path) -> tuple[str, list[dict[str, Any]]]:
    """(run prefix, events) of the one journal in report_dir."""
    journals = list(report_dir.glob("*.journal.jsonl"))
    assert len(journals) == 1, journals
    events = []
    for line in journals[0].read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):  # the last line may be cut short by a kill
            events.append(json.loads(line))
    return events[0]["prefix"], events


def alive(events: list[dict[str, Any]]) -> set[str]:
    ids = {e["id"] for e in events if e["event"] == "created"}
    return ids - {e["id"] for e in events if e["event"] == "removed"}


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run ended (exit {process.returncode}) before {what}\n{out[-2000:]}\n{err[-2000:]}")
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


def journal_shows(report_dir: Path, created: int, live: int) -> Callable[[], bool]:
    def check() -> bool:
        if not list(report_dir.glob("*.journal.jsonl")):
            return False
        _prefix, events = read_journal(report_dir)
        return sum(e["event"] == "created" for e in events) >= created and len(alive(events)) >= live
    return check


def cleanup(journal: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "cleanup", "--journal", str(journal)], capture_output=True, text=True,
                          env=_env(TOKEN), timeout=60)


def assert_no_secret(texts: dict[str, str]) -> None:
    for where, text in texts.items():
        for form in (TOKEN, quote(TOKEN, safe="")):
            assert form not in text, f"the token appears in {where}"


@pytest.fixture
def tenant() -> Iterator[tuple[ReferenceServer, Tenant]]:
    with ReferenceServer(token=TOKEN) as server:
        yield server, Tenant(server)


# --- killed and terminated runs ---------------------------------------------------------------------------------
def test_sigkill_mid_run_then_cleanup_removes_everything(tenant, tmp_path):
    server, admin = tenant
    before = admin.snapshot(seed(admin))
    run = start_run(server.base_url, tmp_path)
    # Two resources alive at once (a group check holds a user and a group): a kill now strands at least one.
    wait_for(journal_shows(tmp_path, created=3, live=2), run, "the journal listed live resources")
    run.kill()
    run.communicate(timeout=10)
    prefix, _events = read_journal(tmp_path)
    stranded = admin.under_prefix(prefix)
    assert stranded, "the kill should have left resources behind (otherwise this test proves nothing)"
    done = cleanup(next(tmp_path.glob("*.journal.jsonl")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert admin.under_prefix(prefix) == []
    assert admin.reread(before) == before
    assert_no_secret({"cleanup output": done.stdout + done.stderr})


def test_sigkill_while_a_create_is_in_flight_then_cleanup_finds_it(tenant, tmp_path):
    """The worst moment: the server made the user, the run was killed before it heard the id.

    A proxy forwards the third POST and holds its answer back; the run is killed while it waits. The journal
    then has the `intend` line but no `created` line, and cleanup must still find the resource by its name.
    """
    server, admin = tenant
    held = threading.Event()
    with hostile("proxy", upstream=server.base_url.rsplit("/scim/v2", 1)[0], hold=("POST", 3, held)) as proxy:
        run = start_run(proxy.base_url, tmp_path)
        wait_for(held.is_set, run, "the third POST was held")
        run.kill()
        run.communicate(timeout=10)
        prefix, events = read_journal(tmp_path)
        intended = [e["name"] for e in events if e["event"] == "intend"]
        confirmed = [e["name"] for e in events if e["event"] == "created"]
        assert len(intended) == len(confirmed) + 1, "the held create should be announced and unconfirmed"
        assert intended[-1] in admin.under_prefix(prefix), "the held create should exist on the server"
        done = cleanup(next(tmp_path.glob("*.journal.jsonl")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert admin.under_prefix(prefix) == [], done.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_mid_run_leaves_nothing_behind(tenant, tmp_path, signum):
    """SIGTERM (a CI job cancelled, a container stopped) ends the run like Ctrl-C: it cleans up after itself."""
    server, admin = tenant
    before = admin.snapshot(seed(admin))
    run = start_run(server.base_url, tmp_path)
    wait_for(journal_shows(tmp_path, created=3, live=2), run, "the journal listed live resources")
    run.send_signal(signum)
    out, err = run.communicate(timeout=30)
    assert run.returncode == 2, out[-2000:] + err[-2000:]  # documented: interrupted
    assert "Traceback" not in out + err
    prefix, events = read_journal(tmp_path)
    assert admin.under_prefix(prefix) == []
    assert alive(events) == set(), "the journal should record every removal, so cleanup has nothing left to do"
    assert admin.reread(before) == before
    assert_no_secret({"stdout": out, "stderr": err})


def test_sigterm_while_a_create_is_in_flight_leaves_nothing_behind(tenant, tmp_path):
    server, admin = tenant
    held = threading.Event()
    with hostile("proxy", upstream=server.base_url.rsplit("/scim/v2", 1)[0], hold=("POST", 3, held)) as proxy:
        run = start_run(proxy.base_url, tmp_path)
        wait_for(held.is_set, run, "the third POST was held")
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=30)
    assert run.returncode == 2, out[-2000:] + err[-2000:]
    prefix, _events = read_journal(tmp_path)
    assert admin.under_prefix(prefix) == []


# --- cleanup never deletes what is not the run's --------------------------------------------------------------
LEFTOVER_PREFIX = "scimc0ddba11"


def leftovers_of_a_killed_run(admin: Tenant) -> dict[str, str]:
    """What a killed run can leave: a user, a user a renaming check had renamed, a group. name -> id."""
    made = [admin.post("/Users", {"schemas": [CORE_USER], "userName": f"{LEFTOVER_PREFIX}-1.kim.lee@example.test"}),
            admin.post("/Users", {"schemas": [CORE_USER],
                                  "userName": f"renamed.{LEFTOVER_PREFIX}-2.ana.ruiz@example.test"}),
            admin.post("/Groups", {"schemas": [CORE_GROUP], "displayName": f"{LEFTOVER_PREFIX}-3 Synergy Team"})]
    return {r.get("userName") or r["displayName"]: r["id"] for r in made}


def cleanup_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "cleanup", *args], capture_output=True, text=True, env=_env(TOKEN), timeout=60)


def test_cleanup_by_prefix_lists_first_then_deletes_only_the_runs(tenant):
    server, admin = tenant
    before = admin.snapshot(seed(admin))
    admin.post("/Users", {"schemas": [CORE_USER], "userName": f"{LEFTOVER_PREFIX}x-7@contoso.test"})  # not the run's
    left = leftovers_of_a_killed_run(admin)
    listed = cleanup_cli("--prefix", LEFTOVER_PREFIX, "--scim-url", server.base_url)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert sorted(line.split()[-1] for line in listed.stdout.splitlines() if line.startswith("would delete")) \
        == sorted(name.split()[-1] for name in left)
    assert len(admin.all("/Users")) == 6, "listing must not delete"
    done = cleanup_cli("--prefix", LEFTOVER_PREFIX, "--scim-url", server.base_url, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    names = {u["userName"] for u in admin.all("/Users")} | {g["displayName"] for g in admin.all("/Groups")}
    assert not names & set(left), done.stdout
    assert f"{LEFTOVER_PREFIX}x-7@contoso.test" in names
    assert admin.reread(before) == before


def test_cleanup_refuses_a_prefix_short_enough_to_match_people(tenant):
    server, admin = tenant
    before = admin.snapshot(seed(admin))
    done = cleanup_cli("--prefix", "scimc", "--scim-url", server.base_url, "--yes")
    assert done.returncode == 2 and "at least 6 characters" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert admin.reread(before) == before


def test_cleanup_by_journal_leaves_alone_an_id_that_changed_hands(tenant, tmp_path):
    """A server that numbers its resources may hand a deleted run user's id to a new person before cleanup runs."""
    server, admin = tenant
    ids = seed(admin)
    before = admin.snapshot(ids)
    left = leftovers_of_a_killed_run(admin)
    reused = ids["/Users"][0]  # the journal says the run created this id; today it is Adele's
    lines = [{"event": "run", "base_url": server.base_url, "prefix": LEFTOVER_PREFIX, "time": 0},
             {"event": "intend", "endpoint": "/Users", "name": f"{LEFTOVER_PREFIX}-0.gone@example.test"},
             {"event": "created", "endpoint": "/Users", "id": reused, "name": f"{LEFTOVER_PREFIX}-0.gone@example.test"},
             *({"event": "created", "endpoint": "/Groups" if " " in name else "/Users", "id": rid, "name": name}
               for name, rid in left.items())]
    journal = tmp_path / "run.journal.jsonl"
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    done = cleanup_cli("--journal", str(journal))
    assert done.returncode == 1, done.stdout + done.stderr  # something was left alone: worth a look
    assert f"LEFT ALONE /Users/{reused}" in done.stdout and "adele.vance@contoso.test" in done.stdout
    assert admin.reread(before) == before
    names = {u["userName"] for u in admin.all("/Users")} | {g["displayName"] for g in admin.all("/Groups")}
    assert not names & set(left)


# --- every profile against a tenant with people in it ------------------------------------------------------------
class ProfileRuns:
    def __init__(self, admin: Tenant, before: dict[str, str], runs: dict[str, SuiteRun]) -> None:
        self.admin, self.before, self.runs = admin, before, runs


@pytest.fixture(scope="module")
def profile_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProfileRuns]:
    """One seeded tenant, every profile run against it in turn (as a team trying the profiles one by one would)."""
    listed = subprocess.run([*CLI, "profiles"], capture_output=True, text=True, env=_env(""), timeout=60)
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert sorted(names) == sorted(PROFILES), listed.stdout + listed.stderr
    with ReferenceServer(token=TOKEN) as server:
        admin = Tenant(server)
        before = admin.snapshot(seed(admin))
        runs = {name: run_suite(name, tmp_path_factory.mktemp(name), base_url=server.base_url, token=TOKEN)
                for name in names}
        yield ProfileRuns(admin, before, runs)


@pytest.mark.parametrize("profile", PROFILES)
def test_preexisting_resources_untouched(profile_runs, profile):
    run = profile_runs.runs[profile]
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]
    document = run.document
    assert document["run"]["requests"] > 50, "the profile should really have run"
    assert any(e["event"] == "created" for e in read_journal(run.report_dir)[1]), "the run should have created"
    # Byte for byte: every resource that was there before is still there, and nothing in it changed.
    assert profile_runs.admin.reread(profile_runs.before) == profile_runs.before
    assert profile_runs.admin.under_prefix(document["run"]["prefix"]) == []
    assert document["run"]["cleanup_failures"] == []


def test_only_the_seeded_resources_remain(profile_runs):
    """After every profile has run, the tenant holds exactly what it held before: no stray run resource."""
    prefixes = {run.document["run"]["prefix"] for run in profile_runs.runs.values()}
    assert len(prefixes) == len(profile_runs.runs)
    ids = {f"/Users/{u['id']}" for u in profile_runs.admin.all("/Users")}
    ids |= {f"/Groups/{g['id']}" for g in profile_runs.admin.all("/Groups")}
    assert ids == set(profile_runs.before)


@pytest.mark.parametrize("profile", PROFILES)
def test_token_never_written(profile_runs, profile):
    """The token (and its URL-encoded form) is in no report, journal or terminal line, under any profile."""
    run = profile_runs.runs[profile]
    written = {path.name: path.read_bytes().decode("utf-8", "replace")
               for path in run.report_dir.rglob("*") if path.is_file()}
    suffixes = {name.split(".", 1)[1] for name in written}
    assert {"json", "junit.xml", "html", "journal.jsonl"} <= suffixes, sorted(written)
    assert_no_secret({"stdout": run.stdout, "stderr": run.stderr, **written})
    # Not vacuous: the transcripts do carry the Authorization header, in its redacted form.
    assert "Bearer [REDACTED]" in written[next(n for n in written if n.endswith(".json"))]


@pytest.mark.parametrize("source", ["file", "argument"])
def test_token_from_a_file_or_the_command_line_never_written(tmp_path, source):
    """The other two ways in: --scim-token-file, and --scim-token (discouraged, but it must not leak either)."""
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    with ReferenceServer(token=TOKEN) as server:
        if source == "file":
            token_file = tmp_path / "token.txt"
            token_file.write_text(TOKEN + "\n", encoding="utf-8")
            extra: tuple[str, ...] = ("--scim-token-file", str(token_file))
        else:
            extra = ("--scim-token", TOKEN)
        run = run_suite("entra-id", report_dir, base_url=server.base_url, extra=extra)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    written = {path.name: path.read_bytes().decode("utf-8", "replace")
               for path in report_dir.rglob("*") if path.is_file()}
    assert len(written) >= 4, sorted(written)
    assert_no_secret({"stdout": run.stdout, "stderr": run.stderr, **written})


# --- read-only ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def read_only_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Tenant, dict[str, str], SuiteRun, list]]:
    """A --read-only run against a seeded tenant, behind a recording proxy that counts what reaches the tenant."""
    report_dir = tmp_path_factory.mktemp("read-only")
    with ReferenceServer(token=TOKEN) as server:
        admin = Tenant(server)
        before = admin.snapshot(seed(admin))
        with hostile("proxy", upstream=server.base_url.rsplit("/scim/v2", 1)[0]) as proxy:
            run = run_suite("entra-id", report_dir, base_url=proxy.base_url, token=TOKEN, extra=("--read-only",))
            received = proxy.requests
        yield admin, before, run, received


def test_read_only_creates_and_changes_nothing(read_only_run):
    admin, before, run, received = read_only_run
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]
    assert [f"{r.method} {r.path}" for r in received if r.method in ("POST", "PUT")] == []
    assert admin.reread(before) == before
    assert len(admin.all("/Users")) == 3 and len(admin.all("/Groups")) == 3
    _prefix, events = read_journal(run.report_dir)
    assert [e for e in events if e["event"] in ("intend", "created")] == []
    document = run.document
    assert document["run"]["read_only"] is True
    outcomes = {r["id"]: r["outcome"] for r in document["requirements"]}
    # The creating checks are switched off, and say so ...
    for rid in ("ENTRA-USER-CREATE", "ENTRA-USER-DUPLICATE", "ENTRA-GROUP-CREATE", "ENTRA-PATCH-OP-CASE",
                "ENTRA-DEACTIVATE", "ENTRA-GROUP-ADD-MEMBER"):
        assert outcomes[rid] == "disabled", (rid, outcomes[rid])
    # ... while the probes, lookups and discovery still ran against the tenant.
    for rid in ("ENTRA-CONN-PROBE-EMPTY", "ENTRA-CONN-GROUP-PROBE", "ENTRA-USER-UNKNOWN-404",
                "ENTRA-SCHEMAS-DISCOVERY", "ENTRA-AUTH-REQUIRED"):
        assert outcomes[rid] == "pass", (rid, outcomes[rid])
    assert sum(r.method == "GET" for r in received) > 5


def test_read_only_sends_no_write_method_at_all(read_only_run):
    _admin, _before, run, received = read_only_run
    assert [f"{r.method} {r.path}" for r in received if r.method in MUTATING] == []
    outcomes = {r["id"]: r["outcome"] for r in run.document["requirements"]}
    assert outcomes["ENTRA-PATCH-UNKNOWN-404"] == "disabled"
