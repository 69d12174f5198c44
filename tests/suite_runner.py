"""Runs the conformance suite the way a user does (the `scim-conformance run` command line, real sockets) and
reads its result document.

By default the run happens inside the calling process: `scim_conformance.cli.main` is called with the same
argument list a shell would pass, with the environment, working directory, standard streams and signal
handlers of a fresh process swapped in for the duration and restored afterwards. That saves the interpreter
start-up and every import a subprocess pays again (most of a run's cost once the checks themselves are fast),
so a matrix of (server variant x profile) runs costs little more than the requests it sends. `isolated=True`
runs the same command line in a subprocess instead, for what needs a process of its own.

Callers run one suite at a time per process (pytest-xdist workers each run their own). What an in-process run
relies on from the plugin and the run core (scim_conformance.plugin, scim_conformance.run):
  - all of a run's state hangs off its pytest config (the stash); a module global such as `_CONTROLLER` is
    (re)set when a conformance run is configured and read only during that run, never carried to the next;
  - what it starts it stops: the embedded server and its threads by pytest_unconfigure, files closed;
  - it never calls sys.exit/os._exit (pytest.exit and exit codes are fine) and leaves os.environ and the
    working directory as it found them;
  - a signal handler it installs (SIGTERM -> interrupt) may stay after the run: this runner puts the caller's
    back, and the plugin restoring the previous handler at unconfigure would make that unnecessary;
  - cached loaders (load_registry, the schema validators) hand out data no run mutates.
The check modules stay imported between runs (pytest finds them in sys.modules, already rewritten), so every
in-process run of one process uses the same checks directory; a run of another copy of the checks (a wheel,
hand-written checks) needs isolated=True.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import io
import json
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FAILING = ("fail", "deviation")
# What a test reads of a run: the result document and the JUnit file. A matrix of hundreds of runs leaves the HTML
# page out (pytest-html's hooks on every check and the page itself are a tenth of a run); tests/test_report*.py
# prove the page.
WITHOUT_HTML = ("--report", "json,junit")
# The handlers a run may install (the plugin turns SIGTERM into an interrupt); the caller's come back after it.
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def advisory(profile: str) -> set[str]:
    """The requirements a profile runs for information only (its advisory capabilities, e.g. the RFC in an
    Entra report): they never change its verdict, and the profile that judges them proves them."""
    from scim_conformance.profile import load_profile
    from scim_conformance.requirements import load_registry

    capabilities = load_profile(profile).advisory
    return {r.id for r in load_registry() if r.capability in capabilities}


@dataclass
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str
    report_dir: Path
    _document: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def document(self) -> dict[str, Any]:
        if self._document is None:
            found = sorted(self.report_dir.glob("*.json"))
            assert found, f"no result document in {self.report_dir}\n{self.stdout[-3000:]}\n{self.stderr[-2000:]}"
            self._document = json.loads(found[-1].read_text(encoding="utf-8"))
        return self._document

    @property
    def failing(self) -> set[str]:
        return self.outcomes(*FAILING)

    def outcomes(self, *wanted: str) -> set[str]:
        return {r["id"] for r in self.document["requirements"] if r["outcome"] in wanted}


def suite_argv(profile: str, report_dir: Path, *, base_url: str | None = None,
               extra: tuple[str, ...] = ()) -> list[str]:
    """The `scim-conformance` arguments of a self-test run: no pacing, and a seed fixed per profile."""
    argv = ["run", "--profile", profile, "--report-dir", str(report_dir), "--max-rps", "0",
            "--seed", str(sum(map(ord, profile)))]
    if base_url:
        argv += ["--scim-url", base_url]
    return argv + list(extra)


def suite_env(token: str | None) -> dict[str, str]:
    """The caller's environment without pytest's own variables (the outer run's), with only this token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "SCIM_TOKEN"}
    if token:
        env["SCIM_TOKEN"] = token
    return env


def run_suite(profile: str, report_dir: Path, *, base_url: str | None = None, token: str | None = None,
              extra: tuple[str, ...] = (), timeout: float = 300, isolated: bool = False) -> SuiteRun:
    """Run one profile against `base_url` (the bundled server when None); reports land in `report_dir`."""
    argv = suite_argv(profile, report_dir, base_url=base_url, extra=extra)
    env = suite_env(token)
    if isolated:
        done = subprocess.run([sys.executable, "-m", "scim_conformance.cli", *argv], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=str(report_dir))
        return SuiteRun(done.returncode, done.stdout, done.stderr, report_dir)
    out, err = io.StringIO(), io.StringIO()
    with _as_a_fresh_process(env, report_dir, timeout), warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("default")
        from scim_conformance.cli import main

        code = main(argv)
    # What a process would have printed on its way out; kept off the caller's own warnings summary.
    for warning in caught:
        err.write(warnings.formatwarning(warning.message, warning.category, warning.filename, warning.lineno))
    return SuiteRun(code, out.getvalue(), err.getvalue(), report_dir)


def run_profiles(profiles: Iterable[str], root: Path, *, base_url: str, token: str,
                 extra: tuple[str, ...] = ()) -> Iterator[tuple[str, SuiteRun]]:
    """One run per profile against the same server (each run makes its own uniquely named data), reports in
    `root/<profile>/`: what a matrix of server variants x profiles asserts on, one variant at a time."""
    for profile in profiles:
        report_dir = root / profile
        report_dir.mkdir(parents=True)
        yield profile, run_suite(profile, report_dir, base_url=base_url, token=token, extra=extra)


@contextlib.contextmanager
def _as_a_fresh_process(env: Mapping[str, str], cwd: Path, timeout: float) -> Iterator[None]:
    """Give an in-process run what a subprocess would have, and give the caller its own back afterwards."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_handlers = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    # The caller's own objects (a pytest session, its collected tests) are old and stay alive: kept out of
    # the collector's sight, the full collections pytest makes at the end of the run stay as cheap as in a
    # fresh process instead of growing with the caller's heap.
    gc.freeze()
    # A run that hangs would hang the caller with it: past the timeout the process dumps every thread's
    # stack and exits (pytest-xdist then reports the worker as crashed while running this test). To the
    # process's own stderr: the caller's sys.stderr may be a capture with no file descriptor.
    watchdog = sys.__stderr__ is not None
    if watchdog:
        faulthandler.dump_traceback_later(timeout, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        if watchdog:
            faulthandler.cancel_dump_traceback_later()
        gc.unfreeze()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for signum, handler in saved_handlers.items():
            if handler is not None:
                signal.signal(signum, handler)


__all__ = ["FAILING", "WITHOUT_HTML", "SuiteRun", "advisory", "run_profiles", "run_suite", "suite_argv", "suite_env"]
