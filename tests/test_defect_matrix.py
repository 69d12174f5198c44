"""Proof that every check can fail and that none fails a correct server.

For each defect switch of the reference server, the suite runs (as a user runs it: the command line, real
sockets; in this process, see tests/suite_runner.py) against a server with only that defect on, once per
profile, and the requirement ids that fail must be exactly the ones tests/defects.yaml lists: a missing id
means a check cannot catch what it is meant to catch, an extra one means a check fails for a cause that is
not its own. One test per defect keeps the work in small even pieces for pytest-xdist's workers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scim_conformance.profile import load_profile
from scim_conformance.requirements import load_registry
from scim_conformance.server import DEFECTS, ReferenceServer
from tests.suite_runner import WITHOUT_HTML, advisory, run_profiles

MATRIX = yaml.safe_load((Path(__file__).parent / "defects.yaml").read_text(encoding="utf-8"))
PROFILES: list[str] = MATRIX["profiles"]
TOKEN = "matrix-token-6b1d0c9e2f"
# A defect's runs write no page and leave the advisory checks out (an Entra profile's RFC section, whose findings
# the assertion below sets aside anyway): the rfc7644 runs judge those same checks under every defect.
DEFECT_RUN = (*WITHOUT_HTML, "--no-advisory")
# Defects that only slow the server down prove timeouts (tests of the client), not requirements.
NOT_IN_MATRIX = {"slow-responses"}


def expected_failures(defect: str, profile: str) -> set[str]:
    entry = MATRIX["defects"][defect]
    return set(entry.get(profile, entry.get("all", [])))


def expected_exit(failing: set[str], profile: str) -> int:
    registry = load_registry()
    severity = load_profile(profile).severity  # a profile may count a requirement at another severity
    return 1 if any(severity.get(r, registry[r].severity) == "MUST" for r in failing) else 0


def test_matrix_covers_every_defect_and_names_known_ids():
    registry = load_registry()
    assert sorted(set(DEFECTS) - NOT_IN_MATRIX - set(MATRIX["defects"])) == [], "defects missing from the matrix"
    assert sorted(set(MATRIX["defects"]) - set(DEFECTS)) == [], "matrix names defects the server does not have"
    for defect, entry in MATRIX["defects"].items():
        for key, ids in entry.items():
            assert key == "all" or key in PROFILES, f"{defect}: unknown profile {key}"
            assert sorted(set(ids) - set(registry.requirements)) == [], f"{defect}: unknown ids"


def test_every_requirement_has_a_defect_that_proves_it():
    registry = load_registry()
    proven = {rid for entry in MATRIX["defects"].values() for ids in entry.values() for rid in ids}
    proven |= {rid for entry in MATRIX.get("load", {}).values() for rid in entry["fails"]}  # tests/test_load.py
    unprovoked = set(MATRIX.get("unprovoked", {}))
    assert sorted(set(registry.requirements) - proven - unprovoked) == [], "requirements no defect can fail"
    assert sorted(unprovoked & proven) == [], "allow-listed as unprovoked, yet a defect proves them"


def test_compliant_server_passes_every_profile(tmp_path):
    """Zero false alarms: the correct reference server passes every check of every profile."""
    with ReferenceServer(token=TOKEN) as server:
        # With every report, as a user's run: this is where the rfc7644 and okta pages are drawn.
        for profile, run in run_profiles(PROFILES, tmp_path, base_url=server.base_url, token=TOKEN):
            assert run.failing == set(), f"{profile}: false alarms\n{run.stdout[-3000:]}"
            assert run.outcomes("error", "blocked") == set(), run.stdout[-3000:]
            assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
            assert run.document["verdict"]["ready"] is True
            assert list(run.report_dir.glob("*.html")), "the HTML page was not written"


@pytest.mark.parametrize("defect", sorted(MATRIX["defects"]))
def test_defect_fails_exactly_its_requirements(tmp_path, defect):
    # One server process per defect, shared by the profiles' runs (each run makes its own uniquely named data).
    with ReferenceServer(token=TOKEN, defects=(defect,)) as server:
        for profile, run in run_profiles(PROFILES, tmp_path, base_url=server.base_url, token=TOKEN, extra=DEFECT_RUN):
            expected = expected_failures(defect, profile)
            # Advisory requirements (the RFC in an Entra report) are proven by the rfc7644 runs of the same checks;
            # the compliant run above, advisory checks included, still allows no finding of any kind.
            observed = run.failing - advisory(profile)
            assert observed == expected, (
                f"{defect} under {profile}: "
                f"not caught {sorted(expected - observed)}; failing without being listed {sorted(observed - expected)}")
            assert run.outcomes("error") == set(), f"{defect} under {profile}: harness errors\n{run.stdout[-2000:]}"
            assert run.returncode == expected_exit(expected, profile), (run.returncode, run.stdout[-1500:])
            assert list(run.report_dir.glob("*.junit.xml")), "the JUnit report was not written"

