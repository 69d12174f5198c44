"""Proof that no check raises a false alarm on a legal server: the mirror image of the defect matrix.

For each quirk switch of the reference server (a behaviour RFC 7643/7644 allow and Entra ID tolerates),
every profile runs against a server with only that quirk on, and must report nothing: no failure, no
deviation, no harness error and no blocked requirement.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scim_conformance.server import QUIRKS, ReferenceServer
from tests.suite_runner import run_suite

PROFILES: list[str] = yaml.safe_load((Path(__file__).parent / "defects.yaml").read_text(encoding="utf-8"))["profiles"]
TOKEN = "quirk-token-3e7a91c4d2"


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_quirk_raises_no_finding(tmp_path: Path, quirk: str) -> None:
    with ReferenceServer(token=TOKEN, quirks=(quirk,)) as server:
        for profile in PROFILES:
            report_dir = tmp_path / profile
            report_dir.mkdir()
            run = run_suite(profile, report_dir, base_url=server.base_url, token=TOKEN)
            findings = run.failing | run.outcomes("error", "blocked")
            assert findings == set(), f"{quirk} under {profile}: false alarms {sorted(findings)}\n{run.stdout[-3000:]}"
            assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
