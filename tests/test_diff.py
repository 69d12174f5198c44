"""`scim-conformance diff`: two real runs of the defect matrix's machinery (the reference server without and with
one defect switch) must show the defect's requirements as regressed, the reverse as fixed; bad input is one line
and exit 2."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scim_conformance import cli
from scim_conformance.diff import GROUPS, MARKDOWN_ROWS, classify
from scim_conformance.server import ReferenceServer
from tests.suite_runner import run_profiles
from tests.test_defect_matrix import expected_failures

TOKEN = "diff-token-5e0b7c21"
PROFILE = "okta"
DEFECT = "drop-active"
JSON_ONLY = ("--report", "json")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The result documents of one profile's run against the compliant server and against one defect."""
    paths = {}
    for name, defects in (("clean", ()), ("defect", (DEFECT,))):
        with ReferenceServer(token=TOKEN, defects=defects) as server:
            root = tmp_path_factory.mktemp(name)
            for _, run in run_profiles([PROFILE], root, base_url=server.base_url, token=TOKEN, extra=JSON_ONLY):
                paths[name] = sorted(run.report_dir.glob("*.json"))[-1]
    yield paths


def diff(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = cli.main(["diff", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def groups(capsys: pytest.CaptureFixture[str], old: Path, new: Path) -> tuple[int, dict[str, Any]]:
    code, out, _ = diff(capsys, old, new, "--format", "json")
    return code, json.loads(out)


def ids(result: dict[str, Any], group: str) -> set[str]:
    return {change["id"] for change in result["groups"][group]}


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_defect_is_a_regression_and_its_removal_a_fix(documents, capsys):
    expected = expected_failures(DEFECT, PROFILE)
    code, result = groups(capsys, documents["clean"], documents["defect"])
    assert code == 1
    assert result["regressed"] is True
    regressed = {c["id"]: c for c in result["groups"]["regressed"]}
    assert expected <= set(regressed), result["groups"]
    assert all(regressed[rid]["before"] == "pass" and regressed[rid]["after"] == "fail" for rid in expected)
    # What the defect keeps from being judged (a reactivation needs a deactivation first) is newly blocked.
    assert {c["after"] for rid, c in regressed.items() if rid not in expected} <= {"blocked"}
    assert all(regressed[rid]["why"] for rid in expected), "a regression says what the new run saw"
    assert result["old"]["ready"] is True and result["new"]["ready"] is False

    code, back = groups(capsys, documents["defect"], documents["clean"])
    assert code == 0
    assert ids(back, "regressed") == set()
    assert ids(back, "fixed") == expected


def test_the_same_run_twice_changes_nothing(documents, capsys):
    code, out, err = diff(capsys, documents["clean"], documents["clean"])
    assert (code, err) == (0, "")
    assert "no requirement changed" in out
    assert "Regressed" not in out


def test_text_and_markdown_name_the_verdicts_and_the_changes(documents, capsys):
    code, out, _ = diff(capsys, documents["clean"], documents["defect"])
    assert code == 1
    label = "Compatible with Okta (OIN) requests"
    assert f"verdict: {label}: yes" in out and f"-> {label}: no" in out
    assert "OKTA-DEACTIVATE (MUST): pass -> FAIL" in out
    code, out, _ = diff(capsys, documents["clean"], documents["defect"], "--format", "markdown")
    assert code == 1
    assert out.startswith("### scim-conformance diff: okta (regressed)")
    assert "#### Regressed (" in out
    assert "| `OKTA-DEACTIVATE` | MUST | pass | FAIL |" in out


def test_new_removed_severity_and_other_changes(documents, capsys, tmp_path):
    old = json.loads(documents["clean"].read_text(encoding="utf-8"))
    new = copy.deepcopy(old)
    entries = {r["id"]: r for r in new["requirements"]}
    dropped = new["requirements"].pop(0)["id"]  # NEW no longer has it
    entries["OKTA-USER-CREATE"]["severity"] = "SHOULD"
    applies = next(r for r in new["requirements"] if r["outcome"] == "pass" and r["id"] != "OKTA-USER-CREATE")
    applies["outcome"] = "not-applicable"
    added = copy.deepcopy(applies)
    added["id"] = "OKTA-NEWLY-ADDED"
    new["requirements"].append(added)
    code, result = groups(capsys, documents["clean"], write(tmp_path / "new.json", new))
    assert code == 0, "a new, a removed or a no-longer-applicable requirement is not a regression"
    assert ids(result, "removed") == {dropped}
    assert ids(result, "added") == {"OKTA-NEWLY-ADDED"}
    assert ids(result, "severity") == {"OKTA-USER-CREATE"}
    assert ids(result, "changed") == {applies["id"]}
    assert result["groups"]["severity"][0]["severity_before"] == "MUST"


def test_markdown_keeps_a_table_cell_whole_and_long_groups_short(documents, capsys, tmp_path):
    old = json.loads(documents["clean"].read_text(encoding="utf-8"))
    new = copy.deepcopy(old)
    passing = [r for r in new["requirements"] if r["outcome"] == "pass"]
    assert len(passing) > 2
    passing[0]["text"] = "a | b\nc"
    passing[0]["severity"] = "MAY" if passing[0]["severity"] != "MAY" else "MUST"
    for n in range(MARKDOWN_ROWS + 5):  # a newer version's many new requirements
        added = copy.deepcopy(passing[1])
        added["id"] = f"OKTA-ADDED-{n}"
        new["requirements"].append(added)
    code, out, _ = diff(capsys, documents["clean"], write(tmp_path / "new.json", new), "--format", "markdown")
    assert code == 0
    assert "a \\| b c" in out
    assert f"#### New requirements ({MARKDOWN_ROWS + 5})" in out
    assert "… and 5 more" in out
    assert "OKTA-ADDED-49`" in out and "OKTA-ADDED-50`" not in out


@pytest.mark.parametrize(("before", "after", "group"), [
    ("pass", "fail", "regressed"), ("pass", "deviation", "regressed"), ("pass", "error", "regressed"),
    ("pass", "blocked", "regressed"), ("fail", "disabled", "regressed"), ("deviation", "fail", "regressed"),
    ("blocked", "fail", "regressed"), ("not-applicable", "fail", "regressed"),
    ("fail", "pass", "fixed"), ("deviation", "pass", "fixed"),
    ("fail", "deviation", "changed"), ("fail", "error", "changed"), ("blocked", "pass", "changed"),
    ("pass", "not-applicable", "changed"), ("blocked", "disabled", "changed"), ("error", "pass", "changed"),
    ("pass", "pass", None), ("fail", "fail", None),
])
def test_classify(before, after, group):
    assert classify(before, after) == group


def test_every_group_has_a_heading():
    assert list(GROUPS) == ["regressed", "fixed", "added", "removed", "severity", "changed"]


def _bad_inputs(clean: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    other_profile = copy.deepcopy(clean)
    other_profile["run"]["profile"] = "entra-id"
    newer = copy.deepcopy(clean)
    newer["schema_version"] = 2
    broken = copy.deepcopy(clean)
    del broken["requirements"]
    wrong_outcome = copy.deepcopy(clean)
    wrong_outcome["requirements"][3]["outcome"] = "passed"
    return {
        "not-json": ("{not json", "not a result document (not JSON"),
        "a-list": ([1, 2], "not a result document"),
        "another-tool": ({"schema_version": 1, "tool": {"name": "other"}}, "not a result document"),
        "combined": ({"schema_version": 1, "combined": True, "runs": []}, "a combined report of several profiles"),
        "schema-version": (newer, "schema_version 2; this scim-conformance"),
        "missing-key": (broken, "not a result document: $: \"requirements\" is a required property"),
        "bad-outcome": (wrong_outcome, "not a result document: $.requirements[3].outcome:"),
        "other-profile": (other_profile, "a run of profile entra-id"),
    }


@pytest.mark.parametrize("case", ["not-json", "a-list", "another-tool", "combined", "schema-version",
                                  "missing-key", "bad-outcome", "other-profile", "missing-file"])
def test_unusable_input_is_one_line_and_exit_2(documents, capsys, tmp_path, case):
    clean = json.loads(documents["clean"].read_text(encoding="utf-8"))
    bad = tmp_path / f"{case}.json"
    if case != "missing-file":
        content, expected = _bad_inputs(clean)[case]
        bad.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    else:
        expected = "No such file or directory"
    for old, new in ((documents["clean"], bad), (bad, documents["clean"])):
        if case == "other-profile" and old == bad:
            expected = "a run of profile okta"  # the second file is named; the first's profile is the other's
        code, out, err = diff(capsys, old, new)
        assert code == 2, (case, out, err)
        assert out == ""
        assert err.count("\n") == 1 and err.startswith("scim-conformance diff: "), err
        assert str(bad) in err and expected in err, err
