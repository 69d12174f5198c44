"""Runs the conformance suite the way a user does (a separate process, real sockets) and reads its result document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAILING = ("fail", "deviation")


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

    @property
    def document(self) -> dict[str, Any]:
        found = sorted(self.report_dir.glob("*.json"))
        assert found, f"no result document in {self.report_dir}\n{self.stdout[-3000:]}\n{self.stderr[-2000:]}"
        return json.loads(found[-1].read_text(encoding="utf-8"))

    @property
    def failing(self) -> set[str]:
        return {r["id"] for r in self.document["requirements"] if r["outcome"] in FAILING}

    def outcomes(self, *wanted: str) -> set[str]:
        return {r["id"] for r in self.document["requirements"] if r["outcome"] in wanted}


def run_suite(profile: str, report_dir: Path, *, base_url: str | None = None, token: str | None = None,
              extra: tuple[str, ...] = (), timeout: float = 300) -> SuiteRun:
    argv = [sys.executable, "-m", "scim_conformance.cli", "run", "--profile", profile, "--report-dir",
            str(report_dir), "--max-rps", "0", "--seed", str(sum(map(ord, profile)))]
    if base_url:
        argv += ["--scim-url", base_url]
    argv += list(extra)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("SCIM_TOKEN", None)
    if token:
        env["SCIM_TOKEN"] = token
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(report_dir))
    return SuiteRun(done.returncode, done.stdout, done.stderr, report_dir)


__all__ = ["FAILING", "SuiteRun", "advisory", "run_suite"]
