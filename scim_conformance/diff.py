"""`scim-conformance diff OLD.json NEW.json`: what changed between two runs of one profile, requirement by
requirement, for a release gate (exit 1 when anything regressed) and a pull-request comment (--format markdown).

Both files are result documents (`results.read_document`); only their requirement entries and verdicts are
compared, so two runs of different tool versions compare as long as they share the schema_version.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scim_conformance.outcomes import ExitCode, Outcome
from scim_conformance.results import BROKEN, DocumentError, read_document

FORMATS = ("text", "markdown", "json")
# What a requirement's outcome says about the server: judged at all (results.BROKEN: not met).
JUDGED = frozenset({Outcome.PASS, Outcome.FAIL, Outcome.DEVIATION})
NOT_RUN = frozenset({Outcome.BLOCKED, Outcome.DISABLED})
# The groups, in the order every format shows them, with their headings.
GROUPS = {
    "regressed": "Regressed",
    "fixed": "Fixed",
    "added": "New requirements",
    "removed": "Removed requirements",
    "severity": "Changed severity",
    "changed": "Other changes",
}
MARKDOWN_ROWS = 50  # per group: a pull-request comment stays readable (and under the host's size limit)


@dataclass(frozen=True)
class Change:
    id: str
    before: str | None  # the outcome in OLD (None: OLD has no such requirement)
    after: str | None
    severity: str  # NEW's, else OLD's
    severity_before: str | None
    text: str
    why: str = ""  # the first failure's message in NEW, for a regression

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Diff:
    old: dict[str, Any]  # what identifies each run: file, profile, tool version, start, verdict
    new: dict[str, Any]
    groups: dict[str, list[Change]] = field(default_factory=lambda: {group: [] for group in GROUPS})

    @property
    def regressed(self) -> bool:
        return bool(self.groups["regressed"])

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "regressed": self.regressed,
                "groups": {group: [c.as_dict() for c in changes] for group, changes in self.groups.items()}}


def classify(before: str, after: str) -> str | None:
    """The group of an outcome's change between two runs, or None when it did not change.

    Regressed: it breaks now where it did not (pass, blocked, not run -> fail or deviation), a SHOULD's
    deviation became a MUST's failure, the harness broke where it had not, or a requirement judged before
    is blocked or not run now (the release would lose that proof). Fixed: broken before, passes now.
    """
    if before == after:
        return None
    if after in BROKEN and (before not in BROKEN or (before, after) == (Outcome.DEVIATION, Outcome.FAIL)):
        return "regressed"
    if after == Outcome.ERROR and before not in (*BROKEN, Outcome.ERROR):
        return "regressed"
    if after in NOT_RUN and before in JUDGED:
        return "regressed"
    if before in BROKEN and after == Outcome.PASS:
        return "fixed"
    return "changed"


def compare(old: dict[str, Any], new: dict[str, Any], old_path: Path, new_path: Path) -> Diff:
    """The changes from OLD to NEW; raises DocumentError when they are runs of different profiles."""
    if old["run"]["profile"] != new["run"]["profile"]:
        raise DocumentError(f"{new_path}: a run of profile {new['run']['profile']}, {old_path} one of "
                            f"{old['run']['profile']}; diff compares two runs of one profile")
    diff = Diff(_identity(old, old_path), _identity(new, new_path))
    before = {r["id"]: r for r in old["requirements"]}
    after = {r["id"]: r for r in new["requirements"]}
    for rid, entry in after.items():
        was = before.get(rid)
        change = Change(rid, was["outcome"] if was else None, entry["outcome"], entry["severity"],
                        was["severity"] if was else None, entry["text"], _why(entry))
        if was is None:
            diff.groups["added"].append(change)
            continue
        group = classify(was["outcome"], entry["outcome"])
        if group is not None:
            diff.groups[group].append(change if group == "regressed" else _without_why(change))
        if was["severity"] != entry["severity"]:
            diff.groups["severity"].append(_without_why(change))
    for rid, was in before.items():
        if rid not in after:
            diff.groups["removed"].append(Change(rid, was["outcome"], None, was["severity"], was["severity"],
                                                 was["text"]))
    return diff


def _identity(document: dict[str, Any], path: Path) -> dict[str, Any]:
    run = document["run"]
    return {"file": str(path), "profile": run["profile"], "tool_version": document["tool"]["version"],
            "started": run["started"], "target": run.get("target"), "verdict": document["verdict"]["summary"],
            "ready": document["verdict"]["ready"]}


def _why(entry: dict[str, Any]) -> str:
    failures = entry.get("failures") or []
    return str(failures[0]["message"]).splitlines()[0] if failures and failures[0]["message"] else ""


def _without_why(change: Change) -> Change:
    return Change(change.id, change.before, change.after, change.severity, change.severity_before, change.text)


# --- the three formats ------------------------------------------------------------------------------------
def _word(outcome: str | None) -> str:
    return "—" if outcome is None else Outcome(outcome).label


def _severity(change: Change) -> str:
    if change.severity_before and change.severity_before != change.severity:
        return f"{change.severity_before} -> {change.severity}"
    return change.severity


def _when(started: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))


def _run_line(side: dict[str, Any]) -> str:
    return f"{side['file']} (scim-conformance {side['tool_version']}, {_when(side['started'])})"


def _counts(diff: Diff) -> str:
    shown = [f"{len(changes)} {GROUPS[group].lower()}" for group, changes in diff.groups.items() if changes]
    return ", ".join(shown) if shown else "no requirement changed"


def text(diff: Diff) -> str:
    lines = [f"scim-conformance diff, profile {diff.new['profile']}",
             f"  old: {_run_line(diff.old)}", f"  new: {_run_line(diff.new)}",
             f"verdict: {diff.old['verdict']}", f"      -> {diff.new['verdict']}", _counts(diff)]
    for group, changes in diff.groups.items():
        if not changes:
            continue
        lines += ["", f"{GROUPS[group]} ({len(changes)}):"]
        for change in changes:
            lines.append(f"  {change.id} ({_severity(change)}): {_word(change.before)} -> {_word(change.after)}"
                         f"  {change.text}")
            if change.why:
                lines.append(f"      {change.why}")
    return "\n".join(lines)


def _cell(value: str) -> str:
    """A table cell: pipes and line breaks would end it."""
    return value.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown(diff: Diff) -> str:
    mark = "regressed" if diff.regressed else "no regression"
    lines = [f"### scim-conformance diff: {_cell(diff.new['profile'])} ({mark})", "",
             f"**Verdict:** {_cell(diff.old['verdict'])} → **{_cell(diff.new['verdict'])}**", "",
             f"Old: `{_cell(_run_line(diff.old))}`  ", f"New: `{_cell(_run_line(diff.new))}`", "",
             _counts(diff).capitalize() + "."]
    for group, changes in diff.groups.items():
        if not changes:
            continue
        lines += ["", f"#### {GROUPS[group]} ({len(changes)})", "",
                  "| Requirement | Severity | Before | After | Requirement text |", "|---|---|---|---|---|"]
        for change in changes[:MARKDOWN_ROWS]:
            what = change.text + (f" — {change.why}" if change.why else "")
            lines.append(f"| `{change.id}` | {_severity(change)} | {_word(change.before)} | {_word(change.after)} "
                         f"| {_cell(what)} |")
        if len(changes) > MARKDOWN_ROWS:
            lines.append(f"\n… and {len(changes) - MARKDOWN_ROWS} more (`scim-conformance diff` lists them all).")
    return "\n".join(lines) + "\n"


def render(diff: Diff, form: str) -> str:
    if form == "json":
        return json.dumps(diff.as_dict(), indent=2, ensure_ascii=False)
    return markdown(diff) if form == "markdown" else text(diff)


# --- the command ------------------------------------------------------------------------------------------
EPILOG = (f"Exit codes: {ExitCode.OK} nothing regressed; {ExitCode.FAILED} a requirement regressed; "
          f"{ExitCode.USAGE} a file is not a result document of this schema_version, or the runs are of "
          "different profiles.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD.json", help="the earlier run's result document")
    parser.add_argument("new", type=Path, metavar="NEW.json", help="the later run's result document")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), markdown (a pull-request comment) or json")


def run(args: argparse.Namespace) -> int:
    try:
        old, new = read_document(args.old), read_document(args.new)
        diff = compare(old, new, args.old, args.new)
    except DocumentError as exc:
        print(f"scim-conformance diff: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(render(diff, args.format))
    return ExitCode.FAILED if diff.regressed else ExitCode.OK
