"""Profiles load, resolve extends, and refuse to be used when broken, with one line naming file, key and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scim_conformance.profile import ProfileError, available_profiles, load_profile


def test_bundled_profiles_load():
    names = {p.stem for p in available_profiles()}
    assert {"entra-id", "entra-id-aadoptscim062020"} <= names
    for path in available_profiles():
        load_profile(str(path))


def test_flag_profile_inherits_mappings_and_changes_dialect():
    base, flag = load_profile("entra-id"), load_profile("entra-id-aadoptscim062020")
    assert flag.chain == ("entra-id-aadoptscim062020", "entra-id")
    assert flag.user_mappings == base.user_mappings
    assert (base.dialect.op("replace"), flag.dialect.op("replace")) == ("Replace", "replace")
    assert (base.dialect.boolean(False), flag.dialect.boolean(False)) == ("False", False)
    assert base.dialect.remove_members(["u1"]) == [{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}]
    assert flag.dialect.remove_members(["u1"]) == [{"op": "remove", "path": 'members[value eq "u1"]'}]


def test_path_less_fold_keeps_filtered_paths_apart():
    flag = load_profile("entra-id-aadoptscim062020")
    ops = flag.dialect.replace_attributes({'emails[type eq "work"].value': "a@x", "name.givenName": "A"})
    assert ops == [{"op": "replace", "path": 'emails[type eq "work"].value', "value": "a@x"},
                   {"op": "replace", "value": {"name.givenName": "A"}}]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ("name: broken\ndescription: x\ndialect: [unclosed\n", "not valid YAML"),
    ("name: broken\ndescription: x\nflavour: vanilla\n", "unknown key ('flavour' was unexpected)"),
    ("name: broken\ndescription: x\ndialect: {op_case: shouting}\n", "dialect.op_case: 'shouting' is not one of"),
    ("name: broken\ndescription: x\nresources: {groups: 'no'}\n", "resources.groups: 'no' is not of type 'boolean'"),
    ("name: broken\ndescription: x\nextends: nowhere\n", "extends: unknown profile 'nowhere'"),
    ("name: broken\ndescription: x\nextends: entra-id\nmappings:\n  users:\n    add:\n"
     "      - {target: 'emails[type eq \"home\"].colour', source: mail}\n", "emails has no sub-attribute 'colour'"),
    ("name: broken\ndescription: x\nextends: entra-id\nmappings:\n  users:\n    add:\n"
     "      - {target: 'emails[type eq \"home\"].primary', type: boolean, default: 'yes'}\n",
     "a boolean target needs a boolean default"),
    ("name: broken\ndescription: x\nextends: entra-id\nmappings:\n  users:\n    remove: [nickName]\n",
     "'nickName' is not mapped by the parent profile"),
])
def test_malformed_profile_is_one_clear_line(tmp_path, text, expected):
    path = _write(tmp_path, "broken", text)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_extends_cycle_is_refused(tmp_path):
    _write(tmp_path, "left", "name: left\ndescription: x\nextends: right\n")
    _write(tmp_path, "right", "name: right\ndescription: x\nextends: left\n")
    with pytest.raises(ProfileError, match=r"a cycle of profiles \(left -> right -> left\)"):
        load_profile(str(tmp_path / "left.yaml"))


def test_cli_malformed_profile_exits_2_before_any_request(tmp_path):
    path = _write(tmp_path, "broken", "name: broken\ndescription: x\nflavour: vanilla\n")
    done = subprocess.run([sys.executable, "-m", "scim_conformance.cli", "run", "--profile", str(path),
                           "--scim-url", "http://127.0.0.1:9/scim/v2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "unknown key" in done.stderr and str(path) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_okta_dialect_words_requests_as_okta_documents():
    okta = load_profile("okta").dialect
    assert okta.active(False) == {"op": "replace", "value": {"active": False}}
    assert okta.add_members([{"id": "u1", "userName": "ann@example.test"}]) == {
        "op": "add", "path": "members", "value": [{"value": "u1", "display": "ann@example.test"}]}
    assert okta.remove_members(["u1"]) == [{"op": "remove", "path": 'members[value eq "u1"]'}]
    assert (okta.user_updates, dict(okta.lookup_params), okta.import_count) == (
        "put", {"startIndex": "1", "count": "100"}, 100)


def test_dialect_extensions_leave_entra_profiles_as_they_were():
    """Entra's profiles set none of the keys added for Okta, so they show and send exactly what they did."""
    for name in ("entra-id", "entra-id-aadoptscim062020", "example-saas-tenant"):
        dialect = load_profile(name).dialect
        assert list(dialect.as_dict()) == ["op_case", "booleans", "multi_attribute_replace", "member_removal",
                                           "manager", "url_flag", "headers"]
        assert dialect.add_members([{"id": "u1", "userName": "ann"}]) == {
            "op": dialect.op("add"), "path": "members", "value": [{"$ref": None, "value": "u1"}]}
        assert dialect.active(False) == {"op": dialect.op("replace"), "path": "active",
                                         "value": dialect.boolean(False)}


def test_okta_create_bodies_follow_its_protocol_reference():
    from scim_conformance.identities import IdentityFactory

    factory = IdentityFactory(load_profile("okta"), "scimctest", 1)
    user = factory.user_body()
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert "meta" not in user and "roles" not in user
    assert (user["groups"], user["active"], user["locale"]) == ([], True, "en-US")
    assert user["externalId"].startswith("00u") and user["password"]
    assert user["emails"] == [{"type": "work", "value": user["emails"][0]["value"], "primary": True}]
    assert factory.group_body("Sales") == {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                           "displayName": "Sales", "members": []}


def test_advisory_rfc_findings_never_change_the_entra_verdict():
    """Entra's report runs the cheap RFC capabilities for information: a broken RFC MUST is a deviation there,
    shown in its own section, while the rfc7644 profile fails on it."""
    from scim_conformance.requirements import load_registry
    from scim_conformance.results import RunResults

    registry = load_registry()
    check = {"nodeid": "c", "requirements": ["RFC-CREATE-201", "ENTRA-USER-CREATE"], "outcome": "fail",
             "failed_requirements": ["RFC-CREATE-201"], "verified": ["ENTRA-USER-CREATE"], "observed": [],
             "expected": "201", "actual": "200", "message": ""}
    outcomes = {}
    for name in ("entra-id", "rfc7644"):
        profile = load_profile(name)
        results = RunResults(registry, profile, {r.id for r in registry}, strict=False)
        results.add(check)
        outcomes[name] = (results.requirement_outcomes()["RFC-CREATE-201"], results.verdict()["failing"],
                          results.check_outcome("fail", ["RFC-CREATE-201"]))
        title = next(r for r in results.document()["requirements"] if r["id"] == "RFC-CREATE-201")["capability_title"]
        assert title.startswith("RFC 7644 (not needed by Entra)") == (name == "entra-id")
    assert outcomes == {"entra-id": ("deviation", [], "deviation"), "rfc7644": ("fail", ["RFC-CREATE-201"], "fail")}
    assert "rfc-filter" not in load_profile("entra-id-aadoptscim062020").advisory  # the costly part is left out
    assert "rfc-discovery" in load_profile("example-saas-tenant").advisory  # inherited through extends
