"""`--report har`: a real run's exchanges as an HTTP Archive 1.2 file, held to the format's structure
(tests/har-1.2.schema.json), entry by entry against the result document, with no secret in it.

No HAR reader from PyPI is used: the one most used (haralyzer) has had no release since 2023 and fails on a
file without the optional `log.browser`, so the structure is checked against a schema of the format instead.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest

from scim_conformance.options import RunOptions
from scim_conformance.report.har import document_to_har
from scim_conformance.server import ReferenceServer
from tests.suite_runner import SuiteRun, run_suite

HAR_SCHEMA = json.loads((Path(__file__).parent / "har-1.2.schema.json").read_text(encoding="utf-8"))
TOKEN = "h4r-T0ken/with+odd=chars~0c1d"  # characters that change under URL encoding
PROFILE = "okta"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteRun]:
    # A defect, so that some entries belong to a failing check.
    with ReferenceServer(token=TOKEN, defects=("drop-active",)) as server:
        yield run_suite(PROFILE, tmp_path_factory.mktemp("har"), base_url=server.base_url, token=TOKEN,
                        extra=("--report", "json,har"))


@pytest.fixture(scope="module")
def har(run: SuiteRun) -> dict[str, Any]:
    found = list(run.report_dir.glob("*.har"))
    assert len(found) == 1, run.stdout[-2000:]
    assert found[0].stem == sorted(run.report_dir.glob("*.json"))[-1].stem, "named like the other reports"
    data: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
    return data


def exchanges(document: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(check, exchange) for check in document["checks"] for exchange in check["transcript"]]


def test_the_file_has_the_structure_of_har_1_2(har):
    jsonschema.Draft202012Validator.check_schema(HAR_SCHEMA)
    errors = sorted(jsonschema.Draft202012Validator(HAR_SCHEMA).iter_errors(har), key=str)
    assert errors == [], errors[:3]
    assert har["log"]["version"] == "1.2"
    assert har["log"]["creator"]["name"] == "scim-conformance"


def test_the_schema_refuses_what_har_does_not_allow(har):
    """The schema the file is held to can fail: a missing required field, a misspelt one, a bad time."""
    validator = jsonschema.Draft202012Validator(HAR_SCHEMA)
    for spoil in (lambda e: e.pop("timings"), lambda e: e["request"].pop("queryString"),
                  lambda e: e["response"].update(statusCode=200), lambda e: e.update(startedDateTime="yesterday"),
                  lambda e: e["timings"].update(wait=-1)):
        spoilt = copy.deepcopy(har)
        spoil(spoilt["log"]["entries"][0])
        assert not validator.is_valid(spoilt)


def test_one_entry_per_exchange_naming_its_check_and_requirements(har, run):
    pairs = exchanges(run.document)
    entries = har["log"]["entries"]
    assert len(entries) == len(pairs) > 100
    for entry, (check, exchange) in zip(entries, pairs, strict=True):
        assert entry["request"]["method"] == exchange["request"]["method"]
        assert entry["request"]["url"] == exchange["request"]["url"]
        assert entry["comment"].startswith(f"check {check['nodeid']}; requirements {', '.join(check['requirements'])}")
        assert entry["response"]["status"] == exchange["response"]["status"]
        assert entry["response"]["content"].get("text") == exchange["response"]["body"]
        assert entry["time"] == sum(v for v in entry["timings"].values() if v != -1) == exchange["elapsed_ms"]
        started = datetime.fromisoformat(entry["startedDateTime"]).timestamp()
        assert run.document["run"]["started"] - 1 <= started <= run.document["run"]["finished"]
    failing = [e for e in entries if "outcome fail (OKTA-DEACTIVATE)" in e["comment"]]
    assert failing, "a failing check's entries name the requirement it fails"


def test_query_strings_and_bodies(har):
    entries = har["log"]["entries"]
    lookups = [e for e in entries if any(q["name"] == "filter" for q in e["request"]["queryString"])]
    assert lookups, "Okta's lookups carry a filter"
    assert any("userName eq" in q["value"] for e in lookups for q in e["request"]["queryString"])
    posts = [e for e in entries if e["request"]["method"] == "POST"]
    assert posts and all(e["request"]["postData"]["text"] and e["request"]["bodySize"] > 0 for e in posts)
    for entry in posts:  # the body's type is the one its request declared (a check may send a wrong one)
        declared = [h["value"] for h in entry["request"]["headers"] if h["name"].lower() == "content-type"]
        assert [entry["request"]["postData"]["mimeType"]] == (declared or [""])
    assert any(e["request"]["postData"]["mimeType"].startswith("application/scim+json") for e in posts)
    gets = [e for e in entries if e["request"]["method"] == "GET"]
    assert all("postData" not in e["request"] and e["request"]["bodySize"] == 0 for e in gets)


def test_no_secret_in_the_file(har, run):
    text = json.dumps(har)
    for form in (TOKEN, quote(TOKEN, safe="")):
        assert form not in text
    # Every bearer token is redacted (OKTA-AUTH-401 sends a deliberately wrong, non-bearer credential).
    sent = [h["value"] for e in har["log"]["entries"] for h in e["request"]["headers"]
            if h["name"].lower() == "authorization"]
    assert "Bearer [REDACTED]" in sent
    assert all(v == "Bearer [REDACTED]" for v in sent if v.startswith("Bearer "))
    # Okta sends each user's password: redacted here as in the result document.
    assert '\\"password\\": \\"[REDACTED]\\"' in text


def test_an_exchange_without_an_answer(run):
    document = copy.deepcopy(run.document)
    _, exchange = exchanges(document)[0]
    exchange["response"], exchange["error"] = None, "connection refused"
    har = document_to_har(document)
    entry = har["log"]["entries"][0]
    assert jsonschema.Draft202012Validator(HAR_SCHEMA).is_valid(har)
    assert entry["response"]["status"] == 0
    assert entry["response"]["_error"] == "connection refused"
    assert entry["comment"].endswith("; no answer: connection refused")


def test_har_is_opt_in_and_a_bad_format_is_refused(tmp_path):
    assert "har" not in RunOptions().reports
    assert RunOptions(report="json,har").reports == {"json", "har"}
    problem = RunOptions(report="har,pdf").usage_problem()
    assert problem is not None and "pdf" in problem and "har" in problem
    done = run_suite(PROFILE, tmp_path, extra=("--report", "har,pdf"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "unknown format(s) pdf" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_load_run_refuses_har():
    """A load run keeps measurements, not each exchange: a HAR file of it would be empty, so it is refused."""
    from scim_conformance.options import LoadOptions

    problem = LoadOptions(report="json,har", from_cli=True).usage_problem()
    assert problem is not None and problem.startswith("--report har: a load run")
    assert LoadOptions().usage_problem() is None
