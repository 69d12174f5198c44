"""Proof that no check raises a false alarm on a legal server: the mirror image of the defect matrix.

For each quirk switch of the reference server (a behaviour RFC 7643/7644 allow and Entra ID tolerates),
every profile runs against a server with only that quirk on, and must report nothing: no failure, no
deviation, no harness error and no blocked requirement. The exceptions are ALLOWED, deviations only: an RFC
deviation that a quirk is by definition, or what only Microsoft's gallery harness asks for. A quirk that is
one identity provider's own practice (Okta's error example) runs under that provider's profile only (ONLY_UNDER).
BREAKS names the few legal behaviours an identity provider does not survive: there the quirk must be reported,
exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scim_conformance.requirements import load_registry
from scim_conformance.server import QUIRKS, ReferenceServer
from tests.suite_runner import WITHOUT_HTML, run_suite

PROFILES: list[str] = yaml.safe_load((Path(__file__).parent / "defects.yaml").read_text(encoding="utf-8"))["profiles"]
TOKEN = "quirk-token-3e7a91c4d2"
# quirk -> {requirement id: why it may be reported (as a deviation only)}
_MAPPED = ("Entra sends what its mappings name whether the server declares it or not; the attributes the server "
           "does not declare are listed once, as a deviation (remove those mappings in Entra, or support them)")
ALLOWED: dict[str, dict[str, str]] = {
    "plain-text-401": {"RFC-AUTH-ERROR-BODY": "RFC 7644 §3.12 asks for a SCIM Error body on every error; Entra "
                       "ignores the body of a 401, so its profiles show this in their advisory RFC section only",
                       "OKTA-AUTH-401": "only Okta's Runscope spec test asks for a SCIM Error body on the 401 (its "
                       "source's word is tested: a deviation, never a failure)"},
    "no-canonical-values": {"ENTRA-SCHEMAS-CANONICAL-VALUES": "RFC 7643 §7 makes canonicalValues optional; only "
                            "Microsoft's gallery harness asks for them, so only a profile that onboards a gallery "
                            "app reports their absence, as a deviation"},
    "no-enterprise-extension": {"ENTRA-SCHEMAS-MAPPED-ATTRIBUTES": _MAPPED},
    "core-subset": {"ENTRA-SCHEMAS-MAPPED-ATTRIBUTES": _MAPPED},
}
# quirk -> {profile: (the findings it must report, why)}: what that profile's client breaks on, although another
# client (or the RFC) allows it. Reporting it is that profile's verdict, not a false alarm; every other profile
# stays silent.
BREAKS: dict[str, dict[str, tuple[set[str], str]]] = {
    "name-formatted-required": {"okta": (
        {"OKTA-USER-CREATE", "OKTA-REQUEST-JSON"},
        "Okta's create carries name.givenName and name.familyName only (its documented body, the okta profile's "
        "mappings): a server that requires name.formatted refuses every user Okta creates")},
    "plain-text-401": {"rfc7644": (
        {"RFC-AUTH-ERROR-BODY"},
        "RFC 7644 §3.12: errors MUST come back as a JSON Error body; the identity providers judge a 401 by its "
        "status alone")},
}
# Quirks that are one identity provider's practice, not the RFC's: only that provider's profiles must stay silent
# (the RFC profile and the other providers' may report the RFC point they break).
ONLY_UNDER: dict[str, list[str]] = {"okta-error-example": ["okta"]}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_quirk_raises_no_finding(tmp_path: Path, quirk: str) -> None:
    allowed = ALLOWED.get(quirk, {})
    with ReferenceServer(token=TOKEN, quirks=(quirk,)) as server:
        for profile in ONLY_UNDER.get(quirk, PROFILES):
            report_dir = tmp_path / profile
            report_dir.mkdir()
            run = run_suite(profile, report_dir, base_url=server.base_url, token=TOKEN, extra=WITHOUT_HTML)
            findings = (run.failing | run.outcomes("error", "blocked")) - (run.outcomes("deviation") & set(allowed))
            expected = BREAKS.get(quirk, {}).get(profile, (set(), ""))[0]
            assert findings == expected, f"{quirk} under {profile}: false alarms {sorted(findings - expected)}, " \
                f"not reported {sorted(expected - findings)}\n{run.stdout[-3000:]}"
            assert run.returncode == (1 if expected else 0), run.stdout[-2000:] + run.stderr[-2000:]


def test_allowed_findings_name_known_quirks() -> None:
    registry = load_registry()
    assert sorted(set(ALLOWED) - set(QUIRKS)) == [] and sorted(set(BREAKS) - set(QUIRKS)) == []
    assert sorted(set(ONLY_UNDER) - set(QUIRKS)) == []
    assert sorted({p for profiles in ONLY_UNDER.values() for p in profiles} - set(PROFILES)) == []
    assert sorted({rid for profiles in BREAKS.values() for ids, _ in profiles.values() for rid in ids}
                  - set(registry.requirements)) == []
    assert sorted({rid for ids in ALLOWED.values() for rid in ids} - set(registry.requirements)) == []
