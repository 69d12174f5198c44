"""`run --baseline OLD.json`, proven with the defect matrix's machinery: a run with a defect switch is the
baseline; the same defect again passes the gate (a known failure), a second defect stops it (a new failure),
the compliant server shows the first as fixed. Bad baselines are refused with one line and exit 2."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scim_conformance.results import Baseline, BaselineMark
from scim_conformance.server import ReferenceServer
from tests.suite_runner import SuiteRun, run_profiles, run_suite
from tests.test_defect_matrix import expected_failures

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "fixtures" / "result.schema.json").read_text(encoding="utf-8"))
TOKEN = "baseline-token-93a1f0"
PROFILE = "okta"
KNOWN = "drop-active"  # the baseline's defect
NEW = "duplicate-username-allowed"  # a second defect, failing another MUST requirement
REPORTS = ("--report", "json,junit")


def run_against(defects: tuple[str, ...], root: Path, *extra: str) -> SuiteRun:
    with ReferenceServer(token=TOKEN, defects=defects) as server:
        return next(run for _, run in run_profiles([PROFILE], root, base_url=server.base_url, token=TOKEN,
                                                   extra=extra))


def document_path(run: SuiteRun) -> Path:
    return sorted(run.report_dir.glob("*.json"))[-1]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    run = run_against((KNOWN,), tmp_path_factory.mktemp("baseline"), *REPORTS)
    assert run.returncode == 1, "without a baseline, the defect fails the run"
    yield document_path(run)


def marked(run: SuiteRun, mark: str) -> set[str]:
    return {r["id"] for r in run.document["requirements"] if r.get("baseline") == mark}


def junit_cases(run: SuiteRun) -> tuple[ET.Element, dict[str, ET.Element]]:
    """The JUnit file's suite, and its test cases by the requirement ids each names."""
    root = ET.parse(next(run.report_dir.glob("*.junit.xml"))).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    cases = {}
    for case in suite.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}
        cases[props.get("requirements", "")] = case
    return suite, cases


def case_of(cases: dict[str, ET.Element], rid: str) -> ET.Element:
    return next(case for ids, case in cases.items() if rid in ids.split())


def baseline_property(case: ET.Element) -> str | None:
    return next((p.get("value") for p in case.iterfind("properties/property") if p.get("name") == "baseline"), None)


def test_a_known_failure_passes_the_gate(baseline, tmp_path):
    known = expected_failures(KNOWN, PROFILE)
    run = run_against((KNOWN,), tmp_path, *REPORTS, "--baseline", str(baseline))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-1000:]
    assert run.failing >= known, "the failure is still reported"
    assert marked(run, "known-failure") == known
    assert marked(run, "new-failure") == set()
    verdict = run.document["verdict"]
    assert verdict["baseline"] == {"known-failure": sorted(known), "new-failure": [], "fixed": []}
    assert verdict["ready"] is not False
    assert f"{len(known)} known failure" in verdict["summary"]
    assert sorted(verdict["failing"]) == sorted(r for r in known)
    recorded = run.document["run"]["baseline"]
    old = json.loads(baseline.read_text(encoding="utf-8"))
    assert recorded == {"file": str(baseline), "started": old["run"]["started"],
                        "tool_version": old["tool"]["version"], "summary": old["verdict"]["summary"]}
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(run.document)) == []
    # A known failure is no JUnit failure (a CI system reading the XML gates as the exit code does) ...
    suite, cases = junit_cases(run)
    assert suite.get("failures") == "0"
    for rid in known:
        case = case_of(cases, rid)
        assert case.find("failure") is None
        skipped = case.find("skipped")
        assert skipped is not None and skipped.get("type") == "known-failure", ET.tostring(case)
        assert baseline_property(case) == "known-failure"
    # ... and the terminal says which failures it set aside.
    for rid in known:
        assert re.search(rf"FAIL  {rid} \(MUST\) \[known failure \(baseline\)\]", run.stdout), run.stdout[-1500:]
    assert f"baseline: {baseline}" in run.stdout


def test_a_new_failure_stops_the_gate(baseline, tmp_path):
    known, new = expected_failures(KNOWN, PROFILE), expected_failures(NEW, PROFILE)
    assert new and not new & known
    run = run_against((KNOWN, NEW), tmp_path, "--report", "json,junit,html", "--baseline", str(baseline))
    assert run.returncode == 1, run.stdout[-2000:]
    assert marked(run, "known-failure") == known
    assert marked(run, "new-failure") == new
    summary = run.document["verdict"]["summary"]
    assert re.search(rf"no — {len(new)} new MUST failures? since the baseline \({len(known)} known", summary), summary
    page = next(run.report_dir.glob("*.html")).read_text(encoding="utf-8")
    for rid in new:
        assert re.search(rf'id="req-{rid}".*?scim-mark m-new-failure">new failure<', page), rid
    for rid in known:
        assert re.search(rf'id="req-{rid}".*?scim-mark m-known-failure">known failure \(baseline\)<', page), rid
    assert f"baseline <code>{baseline}</code>" in page
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(run.document)) == []
    suite, cases = junit_cases(run)
    assert suite.get("failures") == str(len({case_of(cases, rid) for rid in new}))
    for rid in new:
        failure = case_of(cases, rid).find("failure")
        assert failure is not None and failure.get("message", "").startswith("new failure: "), ET.tostring(failure)
        assert baseline_property(case_of(cases, rid)) == "new-failure"
        assert re.search(rf"FAIL  {rid} \(MUST\) \[new failure\]", run.stdout), run.stdout[-1500:]
    for rid in known:
        assert case_of(cases, rid).find("failure") is None


def test_the_compliant_server_shows_the_baseline_fixed(baseline, tmp_path):
    run = run_against((), tmp_path, *REPORTS, "--baseline", str(baseline))
    assert run.returncode == 0
    assert marked(run, "fixed") == expected_failures(KNOWN, PROFILE)
    assert marked(run, "known-failure") | marked(run, "new-failure") == set()
    assert run.document["verdict"]["summary"].startswith("Compatible with Okta (OIN) requests: yes")
    _, cases = junit_cases(run)
    for rid in expected_failures(KNOWN, PROFILE):
        assert baseline_property(case_of(cases, rid)) == "fixed"
        assert case_of(cases, rid).find("skipped") is None
    line = next(line for line in run.stdout.splitlines() if line.startswith("fixed since baseline: "))
    assert set(line.removeprefix("fixed since baseline: ").split(", ")) == expected_failures(KNOWN, PROFILE)


@pytest.mark.parametrize(("before", "now", "mark"), [
    ("fail", "fail", BaselineMark.KNOWN), ("deviation", "fail", BaselineMark.KNOWN),
    ("fail", "deviation", BaselineMark.KNOWN), ("pass", "fail", BaselineMark.NEW),
    ("blocked", "deviation", BaselineMark.NEW), (None, "fail", BaselineMark.NEW),
    ("fail", "pass", BaselineMark.FIXED), ("deviation", "pass", BaselineMark.FIXED),
    ("fail", "blocked", None), ("pass", "pass", None), ("error", "pass", None),
])
def test_marks(before, now, mark):
    outcomes = {"X-ONE": before} if before else {}
    assert Baseline("old.json", 0.0, "0", "", outcomes).mark("X-ONE", now) == mark


def _bad(baseline: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    document = json.loads(baseline.read_text(encoding="utf-8"))
    other = copy.deepcopy(document)
    other["run"]["profile"] = "entra-id"
    newer: dict[str, Any] = copy.deepcopy(document)
    newer["schema_version"] = 7
    files = {"not-json": "[1,", "other-profile": json.dumps(other), "schema-version": json.dumps(newer),
             "combined": json.dumps({"schema_version": 1, "combined": True, "runs": []})}
    for name, text in files.items():
        (tmp_path / f"{name}.json").write_text(text, encoding="utf-8")
    return {"not-json": (tmp_path / "not-json.json", "not a result document (not JSON"),
            "other-profile": (tmp_path / "other-profile.json", "the baseline is a run of profile entra-id; "
                                                               "this run is of okta"),
            "schema-version": (tmp_path / "schema-version.json", "schema_version 7"),
            "combined": (tmp_path / "combined.json", "a combined report"),
            "missing": (tmp_path / "missing.json", "No such file or directory")}


@pytest.mark.parametrize("case", ["not-json", "other-profile", "schema-version", "combined", "missing"])
def test_an_unusable_baseline_is_refused(baseline, tmp_path, case):
    path, expected = _bad(baseline, tmp_path)[case]
    reports = tmp_path / "reports"
    reports.mkdir()
    run = run_suite(PROFILE, reports, extra=(*REPORTS, "--baseline", str(path)))
    assert run.returncode == 2
    line = run.stderr.strip()
    assert "\n" not in line and "Traceback" not in run.stdout + run.stderr, run.stderr
    assert f"--baseline {path}: " in line and expected in line, line
    assert list(reports.iterdir()) == [], "nothing is written for a refused run"


def test_a_baseline_is_for_a_run_of_one_profile(baseline, tmp_path):
    run = run_suite(PROFILE, tmp_path, extra=("--profile", "rfc7644", "--baseline", str(baseline)))
    assert run.returncode == 2
    assert run.stderr.strip() == "scim-conformance: --baseline applies to a run of one profile"
