"""The words a run ends in, defined once: what a check or a requirement came to, and the process exit code.

Every view (the result document, HTML, JUnit, the terminal) takes its labels, its order and its help text
from here, so that no view can call a finding by another name than the others do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum, StrEnum
from typing import Any, NoReturn

import pytest


class Outcome(StrEnum):
    """What a check or a requirement came to, worst first (the order the matrix and the counts use)."""

    FAIL = "fail"
    ERROR = "error"
    DEVIATION = "deviation"
    BLOCKED = "blocked"
    PASS = "pass"
    DISABLED = "disabled"
    NOT_APPLICABLE = "not-applicable"

    @property
    def label(self) -> str:
        """The word a person reads; the document keeps the machine spelling (`value`)."""
        return _LABELS.get(self, self.value)

    @property
    def help(self) -> str:
        return _HELP[self]

    @property
    def rank(self) -> int:
        return ORDER.index(self)

    @property
    def judged(self) -> bool:
        """Did the run establish something about the server for this requirement?"""
        return self in (Outcome.PASS, Outcome.FAIL, Outcome.DEVIATION)


ORDER: tuple[Outcome, ...] = tuple(Outcome)
_LABELS = {Outcome.FAIL: "FAIL", Outcome.NOT_APPLICABLE: "not applicable"}
_HELP = {
    Outcome.PASS: "the server does what the requirement asks",
    Outcome.FAIL: "a MUST requirement is broken (any requirement, with --strict)",
    Outcome.DEVIATION: "a SHOULD or MAY requirement is missed (does not block the verdict unless --strict)",
    Outcome.ERROR: "the harness or the network broke; says nothing about the server",
    Outcome.BLOCKED: "a premise failed, so the requirement could not be judged",
    Outcome.NOT_APPLICABLE: "a requirement of this profile that is moot here: the server does not advertise or "
                            "declare the feature, or the profile's mappings leave nothing to judge",
    Outcome.DISABLED: "switched off for this run (--read-only, or not selected)",
}


def rank(outcome: str) -> int:
    """Sort key for an outcome's spelling; an unknown word sorts last."""
    try:
        return Outcome(outcome).rank
    except ValueError:
        return len(ORDER)


class ExitCode(IntEnum):
    """The process exit codes of `scim-conformance` (run and load) and of a conformance pytest run (for CI gates);
    mapped from what a run came to here and nowhere else (`exit_code`, `from_pytest`, `worst`)."""

    OK = 0  # every MUST requirement that was run passes (SHOULD deviations are reported, not fatal)
    FAILED = 1  # a MUST requirement fails (any, with --strict)
    USAGE = 2  # usage or profile error; also an interrupted run
    UNUSABLE = 3  # the target is unreachable or unusable (stopped at preflight), or nothing could be judged

    @classmethod
    def epilog(cls) -> str:
        return ("Exit codes: 0 every MUST requirement run passes; 1 a MUST requirement fails; 2 usage or profile "
                "error; 3 target unreachable or unusable, or nothing could be judged.")


def exit_code(verdict: Mapping[str, Any], *, interrupted: bool = False, preflight: bool = False,
              collected: bool = True) -> ExitCode:
    """The exit code of a finished run, from its verdict: an interrupt is a usage stop (2), a target stopped at
    preflight is unusable (3), a run that selected nothing is a usage error (2), else the verdict decides."""
    if interrupted:
        return ExitCode.USAGE
    if preflight:
        return ExitCode.UNUSABLE
    if not collected:
        return ExitCode.USAGE
    if verdict["ready"] is False:
        return ExitCode.FAILED
    if verdict["ready"] is None and not verdict["partial"]:
        return ExitCode.UNUSABLE
    return ExitCode.OK


def document_exit_code(document: Mapping[str, Any], *, collected: bool = True) -> ExitCode:
    """`exit_code` of a result document (its run says whether it was interrupted or stopped at preflight)."""
    run = document["run"]
    return exit_code(document["verdict"], interrupted=bool(run.get("interrupted")),
                     preflight=bool(run.get("preflight")), collected=collected)


def from_pytest(code: int, *, dry_run: bool = False) -> int:
    """`run`'s exit code from pytest's: pytest's own usage errors and empty selections fold into ours (a dry
    run deselects every check on purpose); a code the plugin set is already ours."""
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return ExitCode.OK if dry_run else ExitCode.USAGE
    if code == pytest.ExitCode.USAGE_ERROR:
        return ExitCode.USAGE
    return code


def worst(codes: Iterable[int]) -> int:
    """One exit code for several runs (`run --profile A --profile B`): a usage error, else a failure, else the
    first other non-zero code."""
    codes = list(codes)
    for code in (ExitCode.USAGE, ExitCode.FAILED):
        if code in codes:
            return code
    return next((c for c in codes if c), ExitCode.OK)


class Unjudged(pytest.skip.Exception):  # type: ignore[name-defined,misc]  # pytest exposes Skipped only here
    """A check stopped before judging; `outcome` says why (blocked, not applicable, disabled)."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason, allow_module_level=False)
        self.outcome = outcome


def stop(outcome: Outcome, reason: str) -> NoReturn:
    raise Unjudged(outcome, reason)
