"""The pytest plugin: options, fixtures, and the bookkeeping that turns pytest outcomes into requirement outcomes.

It stays inert unless the run is a conformance run (the checks directory is collected, or --profile /
--scim-url is given), so a project's own test suite is not affected by having it installed.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scim_conformance import schemas
from scim_conformance.client import ScimClient, TransportError
from scim_conformance.expect import RequirementFailure
from scim_conformance.identities import IdentityFactory
from scim_conformance.journal import Journal, leftovers
from scim_conformance.paths import checks_dir
from scim_conformance.preflight import EXIT_UNUSABLE, PreflightError, preflight
from scim_conformance.profile import Profile, ProfileError, load_profile
from scim_conformance.requirements import Registry, load_registry
from scim_conformance.resources import BLOCKED, Resources, remove
from scim_conformance.results import CheckRecord, RunResults

EXIT_USAGE = 2
DEFAULT_PROFILE = "entra-id"
NOT_APPLICABLE = "not applicable:"
READ_ONLY = "read-only:"

# Cross-cutting requirements judged on every response a check receives.
CONTENT_TYPE_REQUIREMENT = "ENTRA-RESPONSE-CONTENT-TYPE"
SCHEMA_REQUIREMENTS = {
    "User": "RFC-USER-SCHEMA",
    "EnterpriseUser": "RFC-USER-SCHEMA",
    "Group": "RFC-GROUP-SCHEMA",
    "ListResponse": "RFC-LIST-RESPONSE-SCHEMA",
    "Error": "RFC-ERROR-SCHEMA",
    "Schema": "RFC-DISCOVERY-SCHEMA",
    "ResourceType": "RFC-DISCOVERY-SCHEMA",
    "ServiceProviderConfig": "RFC-DISCOVERY-SCHEMA",
}


@dataclass
class Run:
    """Everything a conformance run shares between checks."""

    config: pytest.Config
    profile: Profile
    registry: Registry
    applicable: set[str]
    token: str | None
    base_url: str | None
    prefix: str
    seed: int
    report_dir: Path
    stem: str
    read_only: bool
    results: RunResults
    client: ScimClient | None = None
    server: Any = None
    journal: Journal | None = None
    identities: IdentityFactory | None = None
    preflight_error: str | None = None
    cleanup_failures: list[str] = field(default_factory=list)


RUN_KEY = pytest.StashKey[Run]()
# pytest_runtest_logreport sees only the report; one conformance run per process, so it finds the run here.
_CONTROLLER: dict[str, Run] = {}
RECORD_KEY = pytest.StashKey[CheckRecord]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scim-conformance", "SCIM conformance run")
    group.addoption("--profile", help=f"profile name or YAML file (default {DEFAULT_PROFILE})")
    group.addoption("--scim-url", help="SCIM base URL; without it the bundled reference server is started")
    group.addoption("--scim-token-env", default="SCIM_TOKEN", metavar="NAME",
                    help="environment variable holding the bearer token (default SCIM_TOKEN)")
    group.addoption("--scim-token-file", metavar="PATH", help="file holding the bearer token")
    group.addoption("--scim-token", help="the bearer token itself (visible to other users of this machine; avoid)")
    group.addoption("--ca-bundle", metavar="PATH", help="CA bundle to verify the server's TLS certificate")
    group.addoption("--insecure", action="store_true", help="do not verify TLS certificates (unsafe)")
    group.addoption("--scim-timeout", type=float, default=10.0, metavar="S", help="per-request timeout (s)")
    group.addoption("--max-rps", type=float, default=50.0, help="at most this many requests per second (0: no limit)")
    group.addoption("--seed", type=int, help="seed for the generated identities (default: random, printed)")
    group.addoption("--report-dir", default="reports", help="where the JSON, JUnit and HTML reports go")
    group.addoption("--scim-strict", action="store_true", help="SHOULD requirements fail the run too")
    group.addoption("--read-only", action="store_true", help="run only checks that create nothing")
    group.addoption("--dry-run", action="store_true",
                    help="list the checks, their requirements and what they would create; send nothing")
    group.addoption("--requirement", action="append", default=[], metavar="ID",
                    help="run only the checks verifying this requirement (repeatable)")
    group.addoption("--oauth-token-url", metavar="URL",
                    help="get the bearer token with OAuth 2.0 client credentials from this token endpoint")
    group.addoption("--oauth-client-id", metavar="ID", help="OAuth client id (with --oauth-token-url)")
    group.addoption("--oauth-client-secret-env", default="OAUTH_CLIENT_SECRET", metavar="NAME",
                    help="environment variable holding the OAuth client secret (default OAUTH_CLIENT_SECRET)")
    group.addoption("--oauth-scope", metavar="SCOPE", help="scope to ask for (optional)")
    group.addoption("--reference-defect", action="append", default=[], metavar="NAME",
                    help="switch a defect on in the bundled reference server (self-tests)")


def _is_conformance_run(config: pytest.Config) -> bool:
    if config.getoption("profile") or config.getoption("scim_url"):
        return True
    root = checks_dir().resolve()
    for arg in config.args:
        path = Path(str(arg).split("::")[0]).resolve()
        if path == root or root in path.parents:
            return True
    return False


def _token(config: pytest.Config) -> str | None:
    if config.getoption("scim_token"):
        warnings.warn("a token given with --scim-token is visible in the process list and shell history; "
                      "prefer $SCIM_TOKEN or --scim-token-file", stacklevel=1)
        return str(config.getoption("scim_token"))
    token_file = config.getoption("scim_token_file")
    if token_file:
        try:
            return Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise pytest.UsageError(f"--scim-token-file {token_file}: {exc.strerror}") from None
    return os.environ.get(config.getoption("scim_token_env")) or None


def _profile_features(profile: Profile) -> set[str]:
    """What a profile makes the IdP do, in the words requirements use for `needs`."""
    features = {"groups"} if profile.groups else set()
    matching = {m.lower() for m in profile.user_matching}
    if any(m.startswith("emails") for m in matching):
        features.add("email-matching")
    if "externalid" in matching:
        features.add("externalid-matching")
    return features


def _applicable(profile: Profile, registry: Registry) -> set[str]:
    features = _profile_features(profile)
    return {
        r.id for r in registry
        if r.capability in profile.capabilities | profile.advisory and r.id not in profile.exclude
        and set(r.needs) <= features
    }


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not _is_conformance_run(config):
        return
    try:
        profile = load_profile(config.getoption("profile") or DEFAULT_PROFILE)
    except ProfileError as exc:
        raise pytest.UsageError(str(exc)) from None
    registry = load_registry()
    seed = config.getoption("seed")
    if seed is None:
        seed = secrets.randbelow(2**31)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report_dir = Path(config.getoption("report_dir"))
    stem = f"{profile.name}-{stamp}"
    results = RunResults(registry, profile, _applicable(profile, registry), config.getoption("scim_strict"))
    run = Run(
        config=config, profile=profile, registry=registry, applicable=results.applicable,
        token=_token(config), base_url=config.getoption("scim_url"),
        prefix=f"scimc{seed:x}"[:13], seed=seed, report_dir=report_dir, stem=stem,
        read_only=config.getoption("read_only"), results=results,
    )
    config.stash[RUN_KEY] = run
    _CONTROLLER["run"] = run
    config.addinivalue_line("markers", "requirement(*ids): the requirement ids a conformance check verifies")
    if not hasattr(config, "workerinput") and not config.getoption("dry_run"):
        # Every view of the run is written next to the others, named after the profile and the time.
        if not getattr(config.option, "xmlpath", None):
            config.option.xmlpath = str(report_dir / f"{stem}.junit.xml")
        if hasattr(config.option, "htmlpath") and not config.option.htmlpath:
            config.option.htmlpath = str(report_dir / f"{stem}.html")
            config.option.self_contained_html = True
    from scim_conformance import report

    report.register(config)
    if config.getoption("insecure"):
        warnings.warn("--insecure: TLS certificates are NOT verified; the token can be intercepted", stacklevel=1)


def _run(config: pytest.Config) -> Run | None:
    return config.stash.get(RUN_KEY, None)


def pytest_sessionstart(session: pytest.Session) -> None:
    run = _run(session.config)
    if run is None or session.config.option.collectonly or session.config.getoption("dry_run"):
        return
    config = session.config
    if run.base_url is None:
        from scim_conformance.server import ReferenceServer

        run.token = run.token or secrets.token_urlsafe(24)
        try:
            run.server = ReferenceServer(token=run.token, defects=tuple(config.getoption("reference_defect")))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        run.server.start()
        run.base_url = run.server.base_url
    elif run.token is None and not config.getoption("oauth_token_url"):
        pytest.exit(f"no bearer token: set ${config.getoption('scim_token_env')} "
                    f"(or use --scim-token-file) for {run.base_url}", returncode=EXIT_USAGE)
    verify: bool | str = True
    if config.getoption("insecure"):
        verify = False
    elif config.getoption("ca_bundle"):
        verify = config.getoption("ca_bundle")
    max_rps = config.getoption("max_rps") or None
    run.client = ScimClient(run.base_url, run.token, headers=run.profile.dialect.headers,
                            timeout=config.getoption("scim_timeout"), verify=verify,
                            max_rps=None if run.server else max_rps, read_only=run.read_only,
                            token_provider=_oauth(config, verify))
    run.results.meta.update({
        "target": run.base_url, "embedded_server": run.server is not None, "seed": run.seed, "prefix": run.prefix,
        "read_only": run.read_only,
        "reference_defects": list(config.getoption("reference_defect")) if run.server else [],
    })
    try:
        preflight(run.client)
    except PreflightError as exc:
        # No check runs; the reports are still written, and the run ends with exit code 3 and one line.
        run.preflight_error = str(exc)
        run.results.meta["preflight"] = str(exc)
        return
    run.journal = Journal(run.report_dir / f"{run.stem}.journal.jsonl", run.base_url, run.prefix)
    run.identities = IdentityFactory(run.profile, run.prefix, run.seed)
    _cleanup_on_sigterm()


def _oauth(config: pytest.Config, verify: bool | str) -> Any:
    url = config.getoption("oauth_token_url")
    if not url:
        return None
    from scim_conformance.oauth import ClientCredentials

    secret = os.environ.get(config.getoption("oauth_client_secret_env"))
    if not config.getoption("oauth_client_id") or not secret:
        pytest.exit(f"--oauth-token-url needs --oauth-client-id and the secret in "
                    f"${config.getoption('oauth_client_secret_env')}", returncode=EXIT_USAGE)
    return ClientCredentials(url, config.getoption("oauth_client_id"), secret, config.getoption("oauth_scope"),
                             timeout=config.getoption("scim_timeout"), verify=verify)


def _cleanup_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C, so pytest tears the fixtures down and deletes what the run created."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def _sweep(run: Run) -> None:
    """Last line of defence: delete anything the journal says this run created and did not remove."""
    if run.client is None or run.journal is None or run.journal.path is None or not run.journal.path.exists():
        return
    _url, prefix, left = leftovers(run.journal.path)
    if prefix:
        # A create cut off in flight (SIGTERM while waiting for the answer) is journalled without its id.
        from scim_conformance.cleanup import in_flight_creates, unconfirmed_creates

        try:
            left += in_flight_creates(run.client, prefix, unconfirmed_creates(run.journal.path), left)
        except TransportError as exc:
            run.cleanup_failures.append(f"looking up creates cut off in flight: {exc}")
    for endpoint, resource_id, _name in left:
        failure = remove(run.client, run.journal, endpoint, resource_id)
        if failure:
            run.cleanup_failures.append(failure)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    run = _run(config)
    if run is None:
        return
    if run.preflight_error:
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return
    wanted = set(config.getoption("requirement"))
    unknown = wanted - set(run.registry.requirements)
    if unknown:
        raise pytest.UsageError(f"--requirement: unknown id(s) {', '.join(sorted(unknown))}")
    order = list(run.registry.capabilities)
    kept = []
    for item in items:
        ids = requirement_ids(item)
        missing = [i for i in ids if i not in run.registry]
        if not ids or missing:
            raise pytest.UsageError(f"{item.nodeid}: a check must name known requirement ids "
                                    f"(@pytest.mark.requirement), unknown: {missing or 'none given'}")
        if wanted and not wanted & set(ids):
            continue
        if not run.applicable & set(ids):
            item.add_marker(pytest.mark.skip(reason=f"{NOT_APPLICABLE} profile {run.profile.name} does not use "
                                                    f"{', '.join(ids)}"))
        kept.append(item)
    if wanted:
        items[:] = kept
    items.sort(key=lambda i: order.index(run.registry[requirement_ids(i)[0]].capability)
               if run.registry[requirement_ids(i)[0]].capability in order else len(order))
    if config.getoption("dry_run"):
        _dry_run(config, run, items)


def _dry_run(config: pytest.Config, run: Run, items: list[pytest.Item]) -> None:
    """Say what the run would do, check by check, and then run nothing."""
    write = config.get_terminal_writer().line
    write(f"dry run: profile {run.profile.name}, target {run.base_url or 'the bundled reference server'}; "
          "no request is sent")
    for item in items:
        ids = requirement_ids(item)
        fixtures = set(getattr(item, "fixturenames", ()))
        creates = [kind for kind in ("users", "groups") if kind in fixtures]
        applicable = bool(run.applicable & set(ids))
        doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines()
        state = ("creates " + " and ".join(creates) if creates else "reads only") if applicable else "not applicable"
        write(f"{item.nodeid}  [{', '.join(ids)}]  ({state})")
        if doc:
            write(f"    {doc[0]}")
    config.hook.pytest_deselected(items=list(items))
    items[:] = []


def requirement_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for marker in item.iter_markers("requirement"):
        ids.extend(marker.args)
    return ids


# --- fixtures ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def scim_run(request: pytest.FixtureRequest) -> Run:
    run = _run(request.config)
    if run is None or run.client is None:
        pytest.skip("not a conformance run")
    return run


@pytest.fixture
def scim(scim_run: Run) -> ScimClient:
    assert scim_run.client is not None
    return scim_run.client


@pytest.fixture(scope="session")
def profile(scim_run: Run) -> Profile:
    return scim_run.profile


@pytest.fixture(scope="session")
def dialect(scim_run: Run) -> Any:
    return scim_run.profile.dialect


@pytest.fixture(scope="session")
def identities(scim_run: Run) -> IdentityFactory:
    assert scim_run.identities is not None
    return scim_run.identities


@pytest.fixture
def users(scim_run: Run, request: pytest.FixtureRequest) -> Any:
    yield from _resources(scim_run, "/Users", request)


@pytest.fixture
def groups(scim_run: Run, request: pytest.FixtureRequest) -> Any:
    if not scim_run.profile.groups:
        pytest.skip(f"{NOT_APPLICABLE} profile {scim_run.profile.name} does not provision groups")
    yield from _resources(scim_run, "/Groups", request)


def _resources(run: Run, endpoint: str, request: pytest.FixtureRequest) -> Any:
    assert run.client is not None and run.journal is not None
    manager = Resources(run.client, endpoint, run.journal, run.read_only)
    try:
        yield manager
    finally:
        manager.cleanup()
        record = request.node.stash.get(RECORD_KEY, None)
        if record is not None:
            record.cleanup_failures.extend(manager.cleanup_failures)
        run.cleanup_failures.extend(manager.cleanup_failures)


# --- outcomes -------------------------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    run = _run(item.config)
    if run is not None and run.client is not None:
        doc = (getattr(item, "obj", None).__doc__ or "").strip() if getattr(item, "obj", None) else ""
        item.stash[RECORD_KEY] = CheckRecord(
            nodeid=item.nodeid, name=item.name, stimulus=doc.splitlines()[0] if doc else item.name,
            requirements=requirement_ids(item),
        )
        run.client.begin()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    run = _run(item.config)
    record = item.stash.get(RECORD_KEY, None)
    if run is None or record is None or run.client is None:
        return report
    if report.when == "setup" and report.skipped:
        _from_skip(record, report)
    elif report.when == "setup" and report.failed:
        _from_exception(record, call, report, run)
    elif report.when == "call":
        record.duration_s = round(report.duration, 4)
        if report.skipped:
            _from_skip(record, report)
        elif report.failed:
            _from_exception(record, call, report, run)
        else:
            _observe(record, run, report)
    elif report.when == "teardown":
        record.transcript = [e.as_dict() for e in run.client.take()]
        if report.failed and record.outcome == "pass":
            record.outcome, record.message = "error", _one_line(call)
        report.scim_check = record.as_dict()  # type: ignore[attr-defined]
    return report


def _from_skip(record: CheckRecord, report: pytest.TestReport) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    record.message = reason
    if reason.startswith(NOT_APPLICABLE):
        record.outcome = "not-applicable"
    elif reason.startswith(READ_ONLY):
        record.outcome = "disabled"
    elif reason.startswith(BLOCKED):
        record.outcome = "blocked"
    else:
        record.outcome = "not-applicable"


def _from_exception(record: CheckRecord, call: pytest.CallInfo[None], report: pytest.TestReport, run: Run) -> None:
    exc = call.excinfo.value if call.excinfo else None
    if isinstance(exc, RequirementFailure):
        record.outcome = "fail"
        record.failed_requirements = [exc.requirement]
        record.expected, record.actual, record.message = exc.expected, exc.actual, str(exc)
    elif isinstance(exc, AssertionError):
        record.outcome = "fail"
        record.failed_requirements = list(record.requirements)
        record.message = _one_line(call)
    else:
        # The harness or the network broke: that says nothing about conformance, so it is kept apart.
        record.outcome = "error"
        record.message = str(exc) if isinstance(exc, TransportError) else _one_line(call)
        report.outcome = "failed"
        report.scim_error = True  # type: ignore[attr-defined]


def _observe(record: CheckRecord, run: Run, report: pytest.TestReport) -> None:
    """Judge every response the check received against the cross-cutting requirements."""
    assert run.client is not None
    problems: dict[str, list[str]] = {}
    observed: set[str] = set()
    for exchange in run.client.transcript:
        if exchange.status is None:
            continue
        kind = schemas.expected_kind(exchange.method, exchange.path, exchange.status)
        for part in (kind or "").split(" of "):
            if part in SCHEMA_REQUIREMENTS:
                observed.add(SCHEMA_REQUIREMENTS[part])
        if exchange.response_body:
            observed.add(CONTENT_TYPE_REQUIREMENT)
        if exchange.response_body and CONTENT_TYPE_REQUIREMENT in run.applicable:
            media = exchange.content_type.split(";")[0].strip().lower()
            if media != "application/scim+json":
                problems.setdefault(CONTENT_TYPE_REQUIREMENT, []).append(
                    f"{exchange.method} {exchange.path}: Content-Type {exchange.content_type or 'missing'!r}")
        if exchange.json is None and not exchange.response_body:
            continue
        for violation in schemas.validate_response(exchange.method, exchange.path, exchange.status,
                                                   exchange.json if exchange.json is not None
                                                   else exchange.response_body, partial=exchange.partial):
            rid = SCHEMA_REQUIREMENTS.get(violation.message_kind, "RFC-USER-SCHEMA")
            if rid in run.applicable:
                problems.setdefault(rid, []).append(f"{exchange.method} {exchange.path}: {violation}")
    record.observed = sorted(observed & run.applicable)
    if not problems:
        return
    # The check's own assertions all held; only responses broke a cross-cutting requirement.
    record.verified = list(record.requirements)
    record.outcome = "fail"
    record.failed_requirements = sorted(problems)
    lines = [f"{rid}: {'; '.join(sorted(set(found))[:3])}" for rid, found in sorted(problems.items())]
    record.message = " | ".join(lines)
    record.expected = "every response conforming to its SCIM message schema and media type"
    record.actual = record.message
    report.outcome = "failed"
    report.longrepr = "\n".join(lines)


def _one_line(call: pytest.CallInfo[None]) -> str:
    if call.excinfo is None:
        return ""
    text = str(call.excinfo.value).strip().splitlines()
    return f"{call.excinfo.typename}: {text[0] if text else ''}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    data = getattr(report, "scim_check", None)
    if report.when != "teardown" or data is None:
        return
    run = _CONTROLLER.get("run")
    if run is not None:
        run.results.add(data)




@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # tryfirst: the result document must exist before pytest-html renders its report from it.
    run = _run(session.config)
    if run is None or hasattr(session.config, "workerinput") or session.config.option.collectonly \
            or session.config.getoption("dry_run"):
        return
    _sweep(run)
    if run.client is not None:
        run.results.meta["requests"] = run.client.run_requests
        run.results.meta["transport_findings"] = list(run.client.findings)
    run.results.meta["cleanup_failures"] = list(run.cleanup_failures)
    if run.journal is not None and run.journal.path is not None:
        run.results.meta["journal"] = str(run.journal.path)
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        # Still say what was found and what cleanup could not remove; the exit code stays "interrupted".
        run.results.meta["interrupted"] = True
        _write_results(run)
        return
    if exitstatus in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return
    _write_results(run)
    if run.preflight_error:
        session.exitstatus = EXIT_UNUSABLE
    elif exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = EXIT_USAGE
    else:
        session.exitstatus = run.results.exit_code()


def pytest_unconfigure(config: pytest.Config) -> None:
    run = _run(config)
    if run is not None and run.server is not None:
        run.server.stop()
        run.server = None


def _write_results(run: Run) -> None:
    document = run.results.write_json(run.report_dir / f"{run.stem}.json")
    run.config.stash[DOCUMENT_KEY] = document


DOCUMENT_KEY = pytest.StashKey[dict[str, Any]]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = _run(config)
    document = config.stash.get(DOCUMENT_KEY, None)
    if run is None or document is None or hasattr(config, "workerinput"):
        return
    verdict = document["verdict"]
    terminalreporter.section("scim-conformance")
    if run.preflight_error:
        terminalreporter.write_line(f"preflight: {run.preflight_error}", red=True, bold=True)
        return
    for rid in verdict["failing"]:
        requirement = run.registry[rid]
        terminalreporter.write_line(f"FAIL  {rid} ({run.results.severity(rid)}) {requirement.text}")
    counts = verdict["counts"]
    for severity in ("MUST", "SHOULD"):
        shown = ", ".join(f"{n} {o}" for o, n in counts[severity].items() if n)
        terminalreporter.write_line(f"{severity:<6} {shown}")
    terminalreporter.write_line(f"report: {run.report_dir / run.stem}.json ({document['run'].get('requests', 0)} "
                                f"requests, target {document['run'].get('target')})")
    terminalreporter.write_line(verdict["summary"], bold=True,
                                green=verdict["ready"] is True, red=verdict["ready"] is not True)
