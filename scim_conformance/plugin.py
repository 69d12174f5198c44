"""The pytest plugin: pytest's hooks and the checks' fixtures, around the run core (`run.py`).

It stays inert unless the run is a conformance run (the checks directory is collected, or --profile /
--scim-url is given), so a project's own test suite is not affected by having it installed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scim_conformance import judge, options
from scim_conformance.client import ScimClient
from scim_conformance.declared import Declared
from scim_conformance.expect import RequirementFailure, not_applicable
from scim_conformance.identities import IdentityFactory
from scim_conformance.options import OptionError, RunOptions
from scim_conformance.outcomes import ExitCode, Unjudged, document_exit_code
from scim_conformance.paths import checks_dir
from scim_conformance.profile import Profile, ProfileError
from scim_conformance.report import hooks as report
from scim_conformance.report import terminal
from scim_conformance.resources import Resources
from scim_conformance.results import CheckRecord, DocumentError
from scim_conformance.run import DOCUMENT_KEY, PLAN_KEY, RUN_KEY, Plan, Run, finish, plan, start

RECORD_KEY = pytest.StashKey[CheckRecord]()
# pytest_runtest_logreport sees only the report; one conformance run per process, so it finds the plan here.
_CONTROLLER: dict[str, Plan[RunOptions]] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_to_pytest(parser.getgroup("scim-conformance", "SCIM conformance run"))


def _is_conformance_run(config: pytest.Config) -> bool:
    if options.given(config, "scim_url") or options.given(config, "profile"):
        return True
    root = checks_dir().resolve()
    for arg in config.args:
        path = Path(str(arg).split("::")[0]).resolve()
        if path == root or root in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not _is_conformance_run(config):
        return
    try:
        the_plan = plan(options.from_pytest(config))
    except (ProfileError, DocumentError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[PLAN_KEY] = the_plan
    _CONTROLLER["plan"] = the_plan
    config.addinivalue_line("markers", "requirement(*ids): the requirement ids a conformance check verifies")
    if not hasattr(config, "workerinput") and not the_plan.options.dry_run:
        # Every view of the run is written next to the others, named after the profile and the time (the result
        # document and JUnit by run.finish, the page by pytest-html).
        page = the_plan.report_file("html")
        if page and hasattr(config.option, "htmlpath") and not config.option.htmlpath:
            config.option.htmlpath = str(page)
            config.option.self_contained_html = True
    report.register(config)
    if the_plan.options.insecure:
        warnings.warn(f"{the_plan.options.flag('insecure')}: TLS certificates are NOT verified; the token can be "
                      "intercepted", stacklevel=1)


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    the_plan = config.stash.get(PLAN_KEY, None)
    if the_plan is None or config.option.collectonly or the_plan.options.dry_run:
        return
    try:
        config.stash[RUN_KEY] = start(the_plan)
    except OptionError as exc:
        pytest.exit(str(exc), returncode=ExitCode.USAGE)


def _run(config: pytest.Config) -> Run[RunOptions] | None:
    return config.stash.get(RUN_KEY, None)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    the_plan = config.stash.get(PLAN_KEY, None)
    if the_plan is None:
        return
    run = _run(config)
    if run is not None and run.preflight_error:
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return
    registry, wanted = the_plan.registry, set(the_plan.options.requirement)
    unknown = wanted - set(registry.requirements)
    if unknown:
        raise pytest.UsageError(f"{the_plan.options.flag('requirement')}: unknown id(s) {', '.join(sorted(unknown))}")
    foreign = wanted - the_plan.applicable
    if foreign:
        raise pytest.UsageError(f"{the_plan.options.flag('requirement')}: not a requirement of profile "
                                f"{the_plan.profile.name}: {', '.join(sorted(foreign))}")
    kept = []
    for item in items:
        ids = requirement_ids(item)
        missing = [i for i in ids if i not in registry]
        if not ids or missing:
            raise pytest.UsageError(f"{item.nodeid}: a check must name known requirement ids "
                                    f"(@pytest.mark.requirement), unknown: {missing or 'none given'}")
        # A report is about its profile: a check judging only other profiles' requirements (another IdP's, a
        # tenant's mappings, a feature the profile does not use) is not part of this run at all.
        if not the_plan.applicable & set(ids) or (wanted and not wanted & set(ids)):
            continue
        kept.append(item)
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
    order = list(registry.capabilities)

    def position(item: pytest.Item) -> int:
        capability = registry[requirement_ids(item)[0]].capability
        return order.index(capability) if capability in order else len(order)

    items.sort(key=position)
    if the_plan.options.dry_run:
        report.dry_run(config, the_plan, items, requirement_ids)
        config.hook.pytest_deselected(items=list(items))
        items[:] = []


def requirement_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for marker in item.iter_markers("requirement"):
        ids.extend(marker.args)
    return ids


# --- fixtures ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def scim_run(request: pytest.FixtureRequest) -> Run[RunOptions]:
    run = _run(request.config)
    if run is None:
        pytest.skip("not a conformance run")
    return run


@pytest.fixture
def scim(scim_run: Run[RunOptions]) -> ScimClient:
    return scim_run.client


@pytest.fixture(scope="session")
def profile(scim_run: Run[RunOptions]) -> Profile:
    return scim_run.profile


@pytest.fixture(scope="session")
def dialect(scim_run: Run[RunOptions]) -> Any:
    return scim_run.profile.dialect


@pytest.fixture
def requirement_id(scim_run: Run[RunOptions], request: pytest.FixtureRequest) -> str:
    """The requirement a check shared by several IdPs counts against: of the ids it names, the one this profile uses."""
    ids = requirement_ids(request.node)
    return next((i for i in ids if i in scim_run.plan.applicable), ids[0])


@pytest.fixture(scope="session")
def declared(scim_run: Run[RunOptions]) -> Declared:
    """What the server declares in /Schemas and /ResourceTypes (everything, when it serves neither)."""
    return scim_run.declared


@pytest.fixture(scope="session")
def identities(scim_run: Run[RunOptions]) -> IdentityFactory:
    return scim_run.identities


@pytest.fixture
def users(scim_run: Run[RunOptions], request: pytest.FixtureRequest) -> Iterator[Resources]:
    yield from _resources(scim_run, "/Users", request)


@pytest.fixture
def groups(scim_run: Run[RunOptions], request: pytest.FixtureRequest) -> Iterator[Resources]:
    if not scim_run.profile.groups:
        not_applicable(f"profile {scim_run.profile.name} does not provision groups")
    yield from _resources(scim_run, "/Groups", request)


def _resources(run: Run[RunOptions], endpoint: str, request: pytest.FixtureRequest) -> Iterator[Resources]:
    manager = Resources(run.client, endpoint, run.journal, run.plan.options.read_only, run.declared)
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
    if run is not None:
        function = getattr(item, "obj", None)
        doc = (function.__doc__ or "").strip() if function is not None else ""
        own = [i for i in requirement_ids(item) if i in run.plan.applicable]  # the other profiles' ids stay out
        item.stash[RECORD_KEY] = CheckRecord(
            nodeid=item.nodeid, name=item.name, stimulus=doc.splitlines()[0] if doc else item.name,
            requirements=own,
        )
        run.client.begin()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report_: pytest.TestReport = yield
    run = _run(item.config)
    record = item.stash.get(RECORD_KEY, None)
    if run is None or record is None:
        return report_
    exc = call.excinfo.value if call.excinfo else None
    if report_.when in ("setup", "call") and report_.skipped:
        if isinstance(exc, Unjudged) and isinstance(report_.longrepr, tuple):
            # pytest words a skip exception's subclass with its full class name; every view shows the reason alone.
            report_.longrepr = (*report_.longrepr[:2], exc.msg)
        judge.stopped(record, exc, _skip_reason(report_))
    elif report_.when in ("setup", "call") and report_.failed and judge.raised(record, exc, _one_line(call)):
        report_.scim_error = True  # type: ignore[attr-defined]
    elif isinstance(exc, RequirementFailure) and report_.failed and item.config.option.tbstyle == "auto":
        # The server broke a requirement: say which and show the request, as a conformance tool does; pytest's
        # traceback (check source, fixture reprs, helper frames) only when asked for with --tb.
        rid = exc.requirement
        text = run.plan.registry[rid].text if rid in run.plan.registry else ""
        exchange = exc.exchange or (run.client.transcript[-1] if run.client.transcript else None)
        report_.longrepr = run.client.redact(terminal.finding(
            rid, run.results.severity(rid) if rid in run.plan.registry else "", text, exc.expected, exc.actual,
            exchange)) or ""
    if report_.when == "call":
        record.duration_s = round(report_.duration, 4)
        if not report_.skipped:
            blamed = getattr(exc, "exchange", None)
            # A check of the advisory section sends what only the RFC's clients send (malformed JSON, …): its answers
            # are judged against the advisory cross-cutting requirements alone, never against the IdP's own.
            advisory = run.results.advisory
            judged = advisory if record.requirements and set(record.requirements) <= advisory else run.plan.applicable
            lines = judge.observe(record, run.client.transcript, run.plan.registry, judged, skip=blamed)
            if lines and report_.passed:
                report_.outcome = "failed"
                report_.longrepr = "\n".join(lines)
    elif report_.when == "teardown":
        record.transcript = [e.as_dict() for e in run.client.take()]
        if report_.failed and record.outcome == "pass":
            record.outcome, record.message = "error", _one_line(call)
        record.outcome = run.results.check_outcome(record.outcome, record.failed_requirements)
        report_.scim_check = record.as_dict()  # type: ignore[attr-defined]
    return report_


def _skip_reason(report_: pytest.TestReport) -> str:
    reason = report_.longrepr[2] if isinstance(report_.longrepr, tuple) else str(report_.longrepr)
    return reason.removeprefix("Skipped: ")


def _one_line(call: pytest.CallInfo[None]) -> str:
    if call.excinfo is None:
        return ""
    text = str(call.excinfo.value).strip().splitlines()
    return f"{call.excinfo.typename}: {text[0] if text else ''}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    data = getattr(report, "scim_check", None)
    the_plan = _CONTROLLER.get("plan")
    if report.when == "teardown" and data is not None and the_plan is not None:
        the_plan.results.add(data)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # tryfirst: the result document must exist before pytest-html renders its report from it.
    config = session.config
    run = _run(config)
    if run is None or hasattr(config, "workerinput") or config.option.collectonly:
        return
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if not interrupted and exitstatus in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return
    # An interrupted run still says what was found and what cleanup could not remove; its exit code stays.
    document = config.stash[DOCUMENT_KEY] = finish(run, interrupted=interrupted)
    if not interrupted:
        session.exitstatus = document_exit_code(document,
                                                collected=exitstatus != pytest.ExitCode.NO_TESTS_COLLECTED)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = _run(config)
    if run is not None:
        run.stop()
