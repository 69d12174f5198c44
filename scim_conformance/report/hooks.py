"""The pytest hooks that place a conformance run's views: the HTML page (pytest-html) and the terminal summary.

Two kinds of data feed them, at two moments:
  - a check's record (outcome, failed requirements, expected/actual, redacted transcript) is complete on its
    *teardown* report (`report.scim_check`); the row of that check is built from it;
  - the result document (verdict, per-requirement outcomes) exists only once the plugin's tryfirst
    `pytest_sessionfinish` has run; pytest-html asks for its summary after that, so the verdict and the
    compliance matrix are built from the document itself. The JUnit file is written from the document too, by
    the run core's `finish` (junit.py), not by pytest's junitxml.

A harness fault (the record's outcome `error`; `report.scim_error` on the call report) is an error in every
view, never a failure: E in the terminal, an Error row and count in pytest-html, <error> in JUnit.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

import pytest

from scim_conformance.options import RunOptions
from scim_conformance.report import html, terminal
from scim_conformance.report.terminal import dry_run
from scim_conformance.run import DOCUMENT_KEY, PLAN_KEY, RUN_KEY, Plan, Run

SEVERITY_RANK = {"MUST": 0, "SHOULD": 1, "MAY": 2}
NO_LOG = "No log output captured."  # pytest-html's placeholder for a row without a log


class ReportViews:
    """Hooks shared by the HTML and terminal views of one conformance run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: dict[str, dict[str, Any]] = {}  # nodeid -> the check's record, from its teardown report

    # --- helpers -----------------------------------------------------------------------------------------------
    def _plan(self) -> Plan[RunOptions] | None:
        return self.config.stash.get(PLAN_KEY, None)

    def _run(self) -> Run[RunOptions] | None:
        return self.config.stash.get(RUN_KEY, None)

    def requirement(self, rid: str) -> dict[str, Any] | None:
        plan = self._plan()
        if plan is None or rid not in plan.registry:
            return None
        return plan.registry[rid].as_dict(plan.results.severity(rid))

    def redact(self, text: str) -> str:
        run = self._run()
        return text if run is None else run.redact(text)

    # --- every report -------------------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # tryfirst: pytest-html reads extras from this same call.
        record = getattr(report, "scim_check", None)
        if report.when != "teardown" or record is None or hasattr(self.config, "workerinput"):
            # On an xdist worker the report is only passed on; the controller decorates it once.
            return
        self.records[report.nodeid] = record
        if html_active(self.config) and not html.folds(record):
            # A folded check's detail travels in the page's packed store instead (html.store).
            from pytest_html import extras  # type: ignore[import-untyped]  # pytest-html ships no type hints

            detail = html.check_detail(record, self.requirement)
            # pytest-html reads the extras it draws from this attribute, which TestReport does not declare.
            report.extras = [*getattr(report, "extras", []), extras.html(detail)]  # type: ignore[attr-defined]

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        # A harness fault is an error, not a finding against the server: say so in the terminal too.
        if report.when == "call" and getattr(report, "scim_error", False):
            return "error", "E", "ERROR"
        return None

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        document = config.stash.get(DOCUMENT_KEY, None)
        plan = self._plan()
        if document is None or plan is None or hasattr(config, "workerinput"):
            return
        terminal.summary(terminalreporter, document, plan.main_report())

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if hasattr(config, "workerinput"):
            return
        page = Path(os.path.expandvars(getattr(config.option, "htmlpath", None) or "")).expanduser()
        if page.is_file():
            # Everything in the page was redacted where it was made; this pass covers what we did not make
            # (pytest-metadata's environment table, options a user added).
            text = page.read_text(encoding="utf-8")
            cleaned = self.redact(text)
            if cleaned != text:
                page.write_text(cleaned, encoding="utf-8")


class HtmlView:
    """pytest-html hooks; registered only when pytest-html is active."""

    def __init__(self, views: ReportViews) -> None:
        self.views = views
        self.harness_faults: dict[str, pytest.TestReport] = {}  # nodeid -> its call report, until teardown

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Any:
        """Let pytest-html count a harness fault as an error.

        pytest-html builds a check's row when its teardown report arrives, from the call report it kept, and
        calls any failed call a failure. For exactly that moment the kept call report of a harness fault
        says "error", which pytest-html shows and counts as an Error; then it says "failed" again, so every
        other consumer (terminal, junitxml, exit status) sees pytest's own outcome.
        """
        if report.when == "call" and getattr(report, "scim_error", False):
            self.harness_faults[report.nodeid] = report
        held = self.harness_faults.pop(report.nodeid, None) if report.when == "teardown" else None
        if held is not None:
            held.outcome = "error"  # type: ignore[assignment]
        try:
            return (yield)
        finally:
            if held is not None:
                held.outcome = "failed"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        plan = self.views._plan()
        report.title = f"SCIM conformance: {plan.profile.name}" if plan is not None else "SCIM conformance"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        document = session.config.stash.get(DOCUMENT_KEY, None)
        run = self.views._run()
        stopped = run.preflight_error if run is not None and run.preflight_error else ""
        prefix.append(self.views.redact(html.summary(document, stopped=stopped and f"preflight: {stopped}",
                                                     redact=self.views.redact,
                                                     folded=list(self.views.records.values()))))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="requirement">Requirement</th>')
        cells.insert(3, '<th class="sortable" data-column-type="severity">Severity</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        record = self.views.records.get(report.nodeid)
        ids = record["requirements"] if record else []
        failed = set(record["failed_requirements"]) if record else set()
        shown = " ".join(f"<b>{i}</b>" if i in failed else i for i in ids)
        outcome = record["outcome"] if record else ""
        if outcome not in ("", "pass", "fail"):
            shown += " " + html.badge(outcome)
        severities = [s for s in (self.views.requirement(i) for i in (failed or ids)) if s]
        severity = min((s["severity"] for s in severities), key=lambda s: SEVERITY_RANK.get(s, 9), default="")
        cells.insert(2, f'<td class="col-requirement">{shown}</td>')
        cells.insert(3, f'<td class="col-severity">{severity}</td>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """The row's log, without what the check's detail already says (an empty log is left out)."""
        record = self.views.records.get(report.nodeid)
        if report.skipped and record and record.get("message") and data and data[0] == \
                escape(report.longreprtext) + "\n":
            del data[0]  # the skip's (file, line, reason): the detail gives the reason, in words
        if data == [NO_LOG]:
            del data[0]
        data[:] = [self.views.redact(chunk) for chunk in data]


def html_active(config: pytest.Config) -> bool:
    """pytest-html is loaded: by its entry point ("html") or, as `scim-conformance run` names it, by module."""
    return config.pluginmanager.hasplugin("html") or config.pluginmanager.hasplugin("pytest_html.plugin")


__all__ = ["HtmlView", "ReportViews", "dry_run", "html_active", "register"]


def register(config: pytest.Config) -> None:
    """Hook the report views into a conformance run (called from the plugin's pytest_configure)."""
    if config.pluginmanager.has_plugin("scim-conformance-report"):
        return
    views = ReportViews(config)
    config.pluginmanager.register(views, "scim-conformance-report")
    if html_active(config):
        config.pluginmanager.register(HtmlView(views), "scim-conformance-report-html")
