"""One result document per run: every other view (HTML, JUnit, terminal) is built from it.

The outcome words are `outcomes.Outcome`. A check's own outcome is decided here, once (a check that broke
only SHOULD/MAY requirements is a deviation unless --strict), so that every view shows the same word; so
are the requirement outcomes and the verdict, which says only what the run established.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from scim_conformance import __version__
from scim_conformance.outcomes import ORDER, ExitCode, Outcome, exit_code
from scim_conformance.paths import fixtures_dir
from scim_conformance.profile import Profile
from scim_conformance.requirements import Registry

RESULT_SCHEMA_VERSION = 1
# The outcomes that say a requirement is not met: a failure, or a deviation where the requirement is a SHOULD.
BROKEN = frozenset({Outcome.FAIL, Outcome.DEVIATION})


class BaselineMark(StrEnum):
    """How a requirement compares with the baseline run (`run --baseline OLD.json`); unmarked when nothing
    changed that a release gate cares about."""

    KNOWN = "known-failure"  # broken now, and broken in the baseline: not counted against the run
    NEW = "new-failure"  # broken now, not in the baseline
    FIXED = "fixed"  # broken in the baseline, passes now

    @property
    def label(self) -> str:
        return _MARK_LABELS[self]


_MARK_LABELS = {BaselineMark.KNOWN: "known failure (baseline)", BaselineMark.NEW: "new failure",
                BaselineMark.FIXED: "fixed since baseline"}


@dataclass(frozen=True)
class Baseline:
    """An earlier run of the same profile whose failures a release already knows about."""

    file: str
    started: float
    tool_version: str
    summary: str
    outcomes: dict[str, str]  # requirement id -> its outcome in that run

    @classmethod
    def read(cls, path: Path, profile: str) -> Baseline:
        """Raises DocumentError for a file that is not a result document, or is one of another profile."""
        document = read_document(path)
        if document["run"]["profile"] != profile:
            raise DocumentError(f"{path}: the baseline is a run of profile {document['run']['profile']}; this run "
                                f"is of {profile}")
        return cls(str(path), document["run"]["started"], document["tool"]["version"],
                   document["verdict"]["summary"], {r["id"]: r["outcome"] for r in document["requirements"]})

    def mark(self, requirement_id: str, outcome: str) -> BaselineMark | None:
        before = self.outcomes.get(requirement_id)
        if outcome in BROKEN:
            return BaselineMark.KNOWN if before in BROKEN else BaselineMark.NEW
        if outcome == Outcome.PASS and before in BROKEN:
            return BaselineMark.FIXED
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "started": self.started, "tool_version": self.tool_version,
                "summary": self.summary}


@dataclass
class CheckRecord:
    """What one check found; serialisable, so it survives the trip from an xdist worker."""

    nodeid: str
    name: str
    stimulus: str
    requirements: list[str]
    outcome: str = Outcome.PASS.value  # an Outcome's value
    failed_requirements: list[str] = field(default_factory=list)
    message: str = ""
    expected: str = ""
    actual: str = ""
    duration_s: float = 0.0
    transcript: list[dict[str, Any]] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)  # cross-cutting requirements judged on its responses
    verified: list[str] = field(default_factory=list)  # own requirements that held in a check failed otherwise
    cleanup_failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RunResults:
    def __init__(self, registry: Registry, profile: Profile, applicable: set[str], strict: bool,
                 baseline: Baseline | None = None) -> None:
        self.registry = registry
        self.profile = profile
        self.applicable = applicable
        self.strict = strict
        self.baseline = baseline
        self.checks: list[dict[str, Any]] = []
        self.started = time.time()
        self.meta: dict[str, Any] = {}
        # Run for information only (the profile's advisory capabilities): at most a deviation, never in the verdict.
        self.advisory = {r.id for r in registry
                         if r.capability in profile.advisory and r.capability not in profile.capabilities}

    def add(self, record: dict[str, Any]) -> None:
        self.checks.append(record)

    def severity(self, requirement_id: str) -> str:
        return self.profile.severity.get(requirement_id, self.registry[requirement_id].severity)

    def fails(self, broken: list[str]) -> bool:
        """Does breaking these requirements fail the run, or is it a deviation? The one rule for checks and
        requirements: a MUST (any requirement, with --strict) fails, an advisory one never does (e.g. the RFC in
        an Entra report)."""
        return any(self.strict or self.severity(r) == "MUST" for r in broken
                   if r in self.registry and r not in self.advisory)

    def check_outcome(self, outcome: str, failed_requirements: list[str]) -> str:
        """A failed check is a deviation when what it broke does not fail the run (`fails`)."""
        if outcome != Outcome.FAIL or not failed_requirements:
            return outcome
        return outcome if self.fails(failed_requirements) else Outcome.DEVIATION.value

    def requirement_outcomes(self) -> dict[str, str]:
        # Only the profile's own requirements: another IdP's are no part of this run, not even "not applicable".
        seen: dict[str, set[str]] = {rid: set() for rid in self.registry.requirements if rid in self.applicable}
        broken = (Outcome.FAIL, Outcome.DEVIATION)
        for check in self.checks:
            for rid in check["requirements"]:
                if rid not in seen:
                    continue  # a shared check's id for another profile
                if check["outcome"] in broken:
                    if rid in check["failed_requirements"]:
                        seen[rid].add("fail")
                    else:
                        seen[rid].add("pass" if rid in check.get("verified", []) else "verified-other")
                else:
                    seen[rid].add(check["outcome"])
            for rid in check["failed_requirements"]:
                if rid in seen:
                    seen[rid].add("fail")
            for rid in check.get("observed", []):
                if rid in seen and rid not in check["failed_requirements"]:
                    seen[rid].add("pass")
        outcomes = {}
        for rid, found in seen.items():
            if "fail" in found:
                outcome = Outcome.FAIL if self.fails([rid]) else Outcome.DEVIATION
            elif "error" in found:
                outcome = Outcome.ERROR
            elif "pass" in found:
                outcome = Outcome.PASS
            elif "blocked" in found or "verified-other" in found:
                outcome = Outcome.BLOCKED
            elif "disabled" in found or (rid in self.applicable and not found):
                # Switched off (--read-only), or no check of it was selected (--requirement, -k).
                outcome = Outcome.DISABLED
            else:
                outcome = Outcome.NOT_APPLICABLE
            outcomes[rid] = outcome.value
        return outcomes

    def verdict(self) -> dict[str, Any]:
        outcomes = {r: o for r, o in self.requirement_outcomes().items() if r not in self.advisory}
        counts: dict[str, dict[str, int]] = {s: {o.value: 0 for o in ORDER} for s in ("MUST", "SHOULD", "MAY")}
        for rid, outcome in outcomes.items():
            counts[self.severity(rid)][outcome] += 1
        failing = sorted(r for r, o in outcomes.items() if o == Outcome.FAIL)
        marks = self.baseline_marks(outcomes)
        # With a baseline, only what it did not already fail counts against the run (the list keeps them all).
        known = [r for r in failing if marks.get(r) == BaselineMark.KNOWN]
        counted = [r for r in failing if r not in known]
        failing_must = [r for r in counted if self.severity(r) == "MUST"]
        known_note = f" ({_n(len(known), 'known failure')}, baseline)" if known else ""
        errors = sorted(r for r, o in outcomes.items() if o == Outcome.ERROR)
        verified = sum(1 for o in outcomes.values() if Outcome(o).judged)
        unjudged_must = {o: n for o, n in counts["MUST"].items() if o in (Outcome.BLOCKED, Outcome.DISABLED) and n}
        label = self.profile.verdict_label
        partial = False
        if self.meta.get("preflight"):
            ready, summary = None, f"{label}: no verdict — stopped at preflight"
        elif self.meta.get("interrupted"):
            ready, summary = None, f"{label}: no verdict — the run was interrupted"
        elif verified == 0:
            ready, summary = None, f"{label}: no verdict — no requirement could be verified"
        elif counted and self.baseline is not None:
            what = f"{_n(len(failing_must), 'new MUST failure')}" if failing_must \
                else f"{_n(len(counted), 'new failure')} (strict)"
            ready, summary = False, f"{label}: no — {what} since the baseline{known_note}"
        elif counted:
            what = f"{_n(len(failing_must), 'MUST requirement')} {_fail(len(failing_must))}" if failing_must \
                else f"{_n(len(counted), 'requirement')} {_fail(len(counted))} (strict)"
            ready, summary = False, f"{label}: no — {what}"
        elif errors:
            what = f"{_n(len(errors), 'requirement')} could not be checked (errors)"
            ready, summary = None, f"{label}: no verdict — {what}{known_note}"
        elif unjudged_must:
            # Nothing failed, but not every MUST requirement was judged: a partial run never says "ready".
            why = "; ".join(f"{_n(n, 'MUST requirement')} {_NOT_JUDGED[Outcome(o)]}" for o, n in unjudged_must.items())
            nothing = f"no new MUST failure{known_note}" if known else "no MUST requirement failed"
            ready, partial, summary = None, True, f"{label}: not established — {nothing}; {why}"
        elif known:
            ready, summary = True, (f"{label}: no new failure — {_n(len(known), 'known failure')} (baseline), "
                                    "every other MUST requirement passes")
        else:
            deviations = sum(1 for o in outcomes.values() if o == Outcome.DEVIATION)
            tail = f", {_n(deviations, 'SHOULD deviation')}" if deviations else ""
            ready, summary = True, f"{label}: yes — every MUST requirement passes{tail}"
        verdict: dict[str, Any] = {"ready": ready, "partial": partial, "label": label, "idp": self.profile.idp,
                                   "summary": summary, "failing": failing, "errors": errors, "counts": counts}
        if self.profile.verdict_scope:
            verdict["scope"] = self.profile.verdict_scope
        if self.baseline is not None:
            verdict["baseline"] = {mark.value: sorted(r for r, m in marks.items() if m == mark)
                                   for mark in BaselineMark}
        return verdict

    def baseline_marks(self, outcomes: dict[str, str]) -> dict[str, BaselineMark]:
        """Each requirement's mark against the baseline (none without one)."""
        if self.baseline is None:
            return {}
        marks = {rid: self.baseline.mark(rid, outcome) for rid, outcome in outcomes.items()}
        return {rid: mark for rid, mark in marks.items() if mark is not None}

    def exit_code(self) -> ExitCode:
        return exit_code(self.verdict())

    def document(self) -> dict[str, Any]:
        outcomes = self.requirement_outcomes()
        marks = self.baseline_marks(outcomes)
        by_requirement: dict[str, list[dict[str, Any]]] = {}
        for check in self.checks:
            for rid in set(check["requirements"]) | set(check["failed_requirements"]):
                by_requirement.setdefault(rid, []).append(check)
        requirements = []
        for rid, requirement in self.registry.requirements.items():
            if rid not in outcomes:
                continue  # another profile's requirement
            checks = by_requirement.get(rid, [])
            entry = requirement.as_dict(self.severity(rid))
            entry["capability_title"] = self.registry.capabilities.get(requirement.capability, requirement.capability)
            if rid in self.advisory:
                entry["capability_title"] = f"{self.profile.advisory_title}: {entry['capability_title']}"
            entry["outcome"] = outcomes[rid]
            if rid in marks:
                entry["baseline"] = marks[rid].value
            entry["checks"] = [c["nodeid"] for c in checks]
            entry["failures"] = [
                {"check": c["nodeid"], "expected": c["expected"], "actual": c["actual"], "message": c["message"]}
                for c in checks if rid in c["failed_requirements"]
            ]
            requirements.append(entry)
        finished = time.time()
        return {
            "schema_version": RESULT_SCHEMA_VERSION,
            "tool": {"name": "scim-conformance", "version": __version__},
            "run": {
                **self.meta,
                "profile": self.profile.name,
                "profile_chain": list(self.profile.chain),
                "idp": self.profile.idp,
                "dialect": self.profile.dialect.as_dict(),
                "started": self.started,
                "finished": finished,
                "elapsed_s": round(finished - self.started, 3),
                "strict": self.strict,
                **({"baseline": self.baseline.as_dict()} if self.baseline is not None else {}),
            },
            "verdict": self.verdict(),
            "capabilities": self.registry.capabilities,
            "requirements": requirements,
            "checks": self.checks,
        }

    def write_json(self, path: Path, document: dict[str, Any] | None = None) -> dict[str, Any]:
        document = self.document() if document is None else document
        path.parent.mkdir(parents=True, exist_ok=True)
        # Compact: an indent makes json fall back from its C encoder to the Python one, three times slower on a
        # document of a megabyte and more (every transcript); `python -m json.tool` indents it for reading.
        path.write_text(json.dumps(document), encoding="utf-8")
        return document


_NOT_JUDGED = {Outcome.BLOCKED: "could not be judged (blocked)",
               Outcome.DISABLED: "were not run (read-only or not selected)"}


def _fail(count: int) -> str:
    return "fails" if count == 1 else "fail"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def check_mark(check: Mapping[str, Any], marks: Mapping[str, str]) -> BaselineMark | None:
    """A check's mark against the baseline, from its requirements' (`marks`: id -> the document's mark): a
    new failure if it fails any requirement newly, a known failure if it fails only known ones, fixed if it
    passes where the baseline failed. JUnit and the terminal show a check by it."""
    failed = {marks.get(rid) for rid in check["failed_requirements"]}
    if BaselineMark.NEW in failed:
        return BaselineMark.NEW
    if BaselineMark.KNOWN in failed:
        return BaselineMark.KNOWN
    if check["outcome"] == Outcome.PASS and any(marks.get(rid) == BaselineMark.FIXED for rid in check["requirements"]):
        return BaselineMark.FIXED
    return None


class DocumentError(Exception):
    """A file that cannot be read as a result document of this version; the message is the one line shown."""


def read_document(path: Path) -> dict[str, Any]:
    """A result document written by `run` (what `diff` and `run --baseline` compare against), checked against
    fixtures/result.schema.json; raises DocumentError naming the file and what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DocumentError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DocumentError(f"{path}: not a result document (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("combined") or "schema_version" not in document \
            or not isinstance(document.get("tool"), dict) or document["tool"].get("name") != "scim-conformance":
        what = "a combined report of several profiles; give one profile's document" \
            if isinstance(document, dict) and document.get("combined") else "not a result document"
        raise DocumentError(f"{path}: {what}")
    if document["schema_version"] != RESULT_SCHEMA_VERSION:
        raise DocumentError(f"{path}: result document of schema_version {document['schema_version']!r}; this "
                            f"scim-conformance {__version__} reads schema_version {RESULT_SCHEMA_VERSION}")
    problem = next(_result_validator().iter_errors(document), None)
    if problem is not None:
        from scim_conformance.schemas import json_path

        raise DocumentError(f"{path}: not a result document: {json_path(problem.instance_path)}: {problem.message}")
    return document


@cache
def _result_validator() -> jsonschema_rs.Validator:
    schema = json.loads((fixtures_dir() / "result.schema.json").read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(schema)
