"""Generated people become create bodies through the profile's mappings, every one evaluated, none dropped silently."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scim_conformance.attributes import parse_path, place, read
from scim_conformance.expressions import ExpressionError
from scim_conformance.identities import IdentityFactory
from scim_conformance.profile import ProfileError, load_profile
from scim_conformance.sources import OKTA_USER_ATTRIBUTES, SOURCE_USER_ATTRIBUTES

BUNDLED = ("entra-id", "entra-id-aadoptscim062020", "example-saas-tenant")


def _legacy_value(expression: str | None, source: dict[str, Any], kind: str, default: Any) -> Any:
    """What identities sent before expressions were evaluated: direct sources, Join and IsSoftDeleted only."""
    value: Any = None
    if expression in source:
        value = source[expression]
    elif expression and "IsSoftDeleted" in expression:
        value = True
    elif expression and (match := re.match(r'^Join\("(?P<sep>[^"]*)",\s*(?P<args>.+)\)$', expression)):
        value = match["sep"].join(str(source.get(n, "")) for n in re.findall(r"\[(\w+)\]", match["args"]))
    if value is None:
        value = default
    if kind == "boolean" and isinstance(value, str):
        value = value.lower() == "true"
    return value


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_profiles_send_the_same_bodies_as_before(name):
    profile = load_profile(name)
    factory = IdentityFactory(profile, "scimctest", 99)
    for _ in range(3):
        source = factory.source_user()
        body = factory.user_body(dict(source))
        expected: dict[str, Any] = {}
        for mapping in profile.user_mappings:
            if mapping.type == "reference":
                continue
            value = _legacy_value(mapping.source, source, mapping.type, mapping.default)
            if value is not None and mapping.path.attribute != "roles":
                place(expected, mapping.path, value)
        for mapping in profile.user_mappings:
            if mapping.type != "reference" and mapping.path.attribute != "roles":
                assert read(body, mapping.path) == read(expected, mapping.path), mapping.target
        primary = [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": r} for r in profile.roles[:1]]
        assert body["roles"] == primary
        assert ("password" in body) is profile.password_sync
        assert 'emails[type eq "home"]' not in str(body)  # its source, extensionAttribute1, is unset
    group = factory.group_body()
    assert sorted(group) == ["displayName", "externalId", "meta", "schemas"]
    assert re.fullmatch(r"[0-9a-f-]{36}", group["externalId"]) and group["displayName"].startswith("scimctest-")
    assert factory.group_body("Named")["displayName"] == "Named"


def test_the_generated_user_has_every_attribute_a_mapping_can_name_and_repeats_under_a_seed():
    profile = load_profile("example-saas-tenant")
    first, again, other = (IdentityFactory(profile, "scimctest", seed) for seed in (5, 5, 6))
    user = first.source_user()
    # Entra's names, and Okta's for the same person (an okta profile's mappings name those).
    assert set(user) == set(SOURCE_USER_ATTRIBUTES) | set(OKTA_USER_ATTRIBUTES)
    assert {f"extensionAttribute{i}" for i in range(1, 16)} <= set(user)
    assert user["appRoleAssignments"][0]["value"] == "basic"
    assert user == again.source_user()
    assert user != other.source_user()
    assert first.user_body() == again.user_body()


def _tenant(tmp_path: Path, rows: str, name: str = "tenant") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nextends: entra-id\ndescription: x\nmappings:\n  users:\n    add:\n{rows}",
                    encoding="utf-8")
    return path


def test_expressions_reach_the_body_evaluated(tmp_path):
    path = _tenant(tmp_path, """\
      - {target: nickName, source: 'ToLower(Join(".", [givenName], [surname]))'}
      - {target: userType, source: 'IgnoreFlowIfNullOrEmpty([extensionAttribute3])'}
      - {target: locale, source: extensionAttribute4, default: en-GB}
      - {target: timezone, source: 'Switch([country], "Etc/UTC", "US", "America/New_York")'}
      - {target: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization', source: companyName}
      - {target: profileUrl, source: 'Append("https://example.test/", Guid())', flow: ObjectAddOnly}
""")
    profile = load_profile(str(path))
    factory = IdentityFactory(profile, "scimctest", 3)
    source = factory.source_user()
    body = factory.user_body(dict(source))
    assert body["nickName"] == f"{source['givenName']}.{source['surname']}".lower()
    # What a mapping names is filled in a generated person, so that the mapping is exercised ...
    assert (body["userType"], body["locale"]) == (source["extensionAttribute3"], source["extensionAttribute4"])
    # ... and for a person without those values:
    unset = factory.user_body(source | {"extensionAttribute3": None, "extensionAttribute4": None})
    assert "userType" not in unset  # IgnoreFlowIfNullOrEmpty on an unset attribute: not sent, and no default
    assert unset["locale"] == "en-GB"  # the default when the source is null
    assert body["timezone"] == "America/New_York"
    assert body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["organization"] == source["companyName"]
    assert re.fullmatch(r"https://example\.test/[0-9a-f-]{36}", body["profileUrl"])
    assert profile.user_mapping("profileUrl").flow == "ObjectAddOnly"
    assert IdentityFactory(profile, "scimctest", 3).user_body()["profileUrl"] == body["profileUrl"]


@pytest.mark.parametrize("row, message", [
    ("{target: nickName, source: 'Frobnicate([mail])'}", "Frobnicate: unknown function"),
    ("{target: nickName, source: 'Mid([mail], 1)'}", "Mid: takes 3 argument(s)"),
    ("{target: nickName, source: 'Join(\" \", [nickname])'}", "Join: unknown source attribute [nickname]"),
    ("{target: nickName, source: extension_abc_costCenter}", "unknown source attribute [extension_abc_costCenter]"),
    ("{target: nickName, source: 'Join(\" \", [mail]'}", "ends too early"),
    ("{target: nickName, source: 'CDate([mail])'}", "CDate: 'ada@mail.example.test' is not a date"),
])
def test_a_mapping_that_cannot_be_evaluated_is_a_profile_error_naming_it(tmp_path, row, message):
    path = _tenant(tmp_path, f"      - {row}\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: mappings.users[")
    assert "(nickName): source " in text
    assert message in text


def test_app_role_functions_build_the_roles_entra_posts(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text("name: roles\nextends: entra-id\ndescription: x\nroles: [basic, manager]\nmappings:\n  users:\n"
                    "    add:\n      - {target: roles, source: 'AppRoleAssignmentsComplex([appRoleAssignments])'}\n",
                    encoding="utf-8")
    body = IdentityFactory(load_profile(str(path)), "scimctest", 1).user_body()
    assert body["roles"] == [{"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "basic",
                              "value": "basic"}]
    assert read(body, parse_path("roles")) == "basic"


def test_group_mappings_are_evaluated_too(tmp_path):
    path = tmp_path / "groupy.yaml"
    path.write_text("name: groupy\nextends: entra-id\ndescription: x\nmappings:\n  groups:\n    replace:\n"
                    "      - {target: externalId, source: 'ToUpper([mailNickname])'}\n", encoding="utf-8")
    body = IdentityFactory(load_profile(str(path)), "scimctest", 1).group_body()
    assert re.fullmatch(r"SCIMCTEST-G\d+", body["externalId"])
    path.write_text("name: groupy\nextends: entra-id\ndescription: x\nmappings:\n  groups:\n    replace:\n"
                    "      - {target: externalId, source: 'ToUpper([userPrincipalName])'}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"mappings.groups\[1\] \(externalId\): source .*unknown source attribute"):
        load_profile(str(path))


def test_an_expression_failing_on_a_generated_value_names_the_mapping(tmp_path):
    path = _tenant(tmp_path, "      - {target: nickName, source: 'Mid([extensionAttribute2], 1, 2)'}\n")
    factory = IdentityFactory(load_profile(str(path)), "scimctest", 1)
    source = factory.source_user() | {"extensionAttribute2": "x"}
    source_bad = source | {"extensionAttribute2": None}
    assert factory.user_body(source)["nickName"] == "x"
    assert "nickName" not in factory.user_body(source_bad)
    path = _tenant(tmp_path, "      - {target: nickName, source: 'CDate([extensionAttribute2])'}\n", "dated")
    factory = IdentityFactory(load_profile(str(path)), "scimctest", 1)
    with pytest.raises(ExpressionError, match=r"^the mapping of nickName \(CDate\(\[extensionAttribute2\]\)\) "
                       r"cannot be evaluated for this person: CDate: 'x'"):
        factory.user_body(source)



def test_group_mappings_naming_documented_group_attributes_are_filled(tmp_path):
    path = tmp_path / "groupy.yaml"
    path.write_text("name: groupy\nextends: entra-id\ndescription: x\nmappings:\n  groups:\n    replace:\n"
                    "      - {target: externalId, source: 'Join(\"-\", [mailNickname], [onPremisesSamAccountName])'}\n",
                    encoding="utf-8")
    factory = IdentityFactory(load_profile(str(path)), "scimctest", 1)
    assert factory.source_group()["onPremisesSamAccountName"]
    assert re.fullmatch(r"scimctest-g\d+-[a-z]+\d{6}", factory.group_body()["externalId"])
