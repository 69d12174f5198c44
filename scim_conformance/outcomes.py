"""The words a run ends in, defined once: what a check or a requirement came to, and the process exit code.

Every view (the result document, HTML, JUnit, the terminal) takes its labels, its order and its help text
from here, so that no view can call a finding by another name than the others do.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import NoReturn

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
    """The process exit codes of `scim-conformance` and of a conformance pytest run (for CI gates)."""

    OK = 0  # every MUST requirement that was run passes (SHOULD deviations are reported, not fatal)
    FAILED = 1  # a MUST requirement fails (any, with --strict)
    USAGE = 2  # usage or profile error; also an interrupted run
    UNUSABLE = 3  # the target is unreachable or unusable (stopped at preflight), or nothing could be judged

    @classmethod
    def epilog(cls) -> str:
        return ("Exit codes: 0 every MUST requirement run passes; 1 a MUST requirement fails; 2 usage or profile "
                "error; 3 target unreachable or unusable, or nothing could be judged.")


class Unjudged(pytest.skip.Exception):  # type: ignore[name-defined,misc]  # pytest exposes Skipped only here
    """A check stopped before judging; `outcome` says why (blocked, not applicable, disabled)."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason, allow_module_level=False)
        self.outcome = outcome


def stop(outcome: Outcome, reason: str) -> NoReturn:
    raise Unjudged(outcome, reason)
