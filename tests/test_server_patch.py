"""PATCH on the reference server in every shape Entra ID sends (both aadOptscim062020 dialects)."""

from __future__ import annotations

import uuid

import pytest
import requests

from scim_conformance.server import ReferenceServer

TOKEN = "patch-token"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def new_user(http: requests.Session, srv: ReferenceServer, **extra: object) -> dict:
    name = f"pat-{uuid.uuid4().hex[:10]}@example.test"
    body = {
        "schemas": [CORE_USER, ENTERPRISE],
        "userName": name,
        "externalId": name.split("@")[0],
        "active": True,
        "displayName": "Pat Lee",
        "name": {"givenName": "Pat", "familyName": "Lee", "formatted": "Pat Lee"},
        "emails": [{"type": "work", "value": name, "primary": True}],
        "phoneNumbers": [{"type": "work", "value": "+1 555 0100", "primary": True}],
        ENTERPRISE: {"department": "R&D"},
        **extra,
    }
    response = http.post(f"{srv.base_url}/Users", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def new_group(http: requests.Session, srv: ReferenceServer, members: list[str] = ()) -> dict:
    body = {"displayName": f"grp-{uuid.uuid4().hex[:10]}", "members": [{"value": m} for m in members]}
    response = http.post(f"{srv.base_url}/Groups", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def patch(http: requests.Session, url: str, *operations: dict, status: int = 200) -> dict:
    response = http.patch(url, json={"schemas": [PATCH_OP], "Operations": list(operations)})
    assert response.status_code == status, response.text
    return response.json()


def user_url(srv: ReferenceServer, user: dict) -> str:
    return f"{srv.base_url}/Users/{user['id']}"


def stored(http: requests.Session, url: str) -> dict:
    return http.get(url).json()


@pytest.mark.parametrize("op", ["Replace", "replace", "REPLACE"])
def test_op_is_case_insensitive(http: requests.Session, srv: ReferenceServer, op: str) -> None:
    user = new_user(http, srv)
    result = patch(http, user_url(srv, user), {"op": op, "path": "title", "value": "Boss"})
    assert result["title"] == "Boss"
    assert stored(http, user_url(srv, user)) == result


def test_response_is_the_full_resource_honouring_attributes(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    response = http.patch(f"{user_url(srv, user)}?attributes=title",
                          json={"Operations": [{"op": "add", "path": "title", "value": "CTO"}]})
    assert response.json() == {"schemas": user["schemas"], "id": user["id"], "title": "CTO"}
    assert response.json() != stored(http, user_url(srv, user))
    after = stored(http, user_url(srv, user))
    assert after["meta"]["version"] != user["meta"]["version"]
    assert after["meta"]["lastModified"] >= user["meta"]["lastModified"]


def test_multi_valued_filter_path_and_dotted_path(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    result = patch(
        http, user_url(srv, user),
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@example.test"},
        {"op": "Replace", "path": "name.familyName", "value": "Leeward"},
    )
    assert result["emails"] == [{"type": "work", "value": "new@example.test", "primary": True}]
    assert result["name"] == {"givenName": "Pat", "familyName": "Leeward", "formatted": "Pat Lee"}


def test_rename_moves_the_lookup(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    new_name = f"renamed-{uuid.uuid4().hex[:8]}@example.test"
    patch(http, user_url(srv, user), {"op": "Replace", "path": "userName", "value": new_name})

    def count(name: str) -> int:
        return http.get(f"{srv.base_url}/Users", params={"filter": f'userName eq "{name}"'}).json()["totalResults"]

    assert count(new_name.upper()) == 1
    assert count(user["userName"]) == 0


def test_rename_onto_a_taken_name_is_409(http: requests.Session, srv: ReferenceServer) -> None:
    first, second = new_user(http, srv), new_user(http, srv)
    response = http.patch(user_url(srv, second), json={"Operations": [
        {"op": "replace", "path": "userName", "value": first["userName"].upper()}]})
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"


def test_add_a_missing_single_valued_attribute(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    assert patch(http, user_url(srv, user), {"op": "Add", "path": "nickName", "value": "Patty"})["nickName"] == "Patty"
    assert patch(http, user_url(srv, user), {"op": "add", "path": "nickName", "value": "P"})["nickName"] == "P"


@pytest.mark.parametrize("op", ["Replace", "Add"])
def test_filtered_path_without_match_creates_the_element(http: requests.Session, srv: ReferenceServer,
                                                         op: str) -> None:
    user = new_user(http, srv)
    result = patch(
        http, user_url(srv, user),
        {"op": op, "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0199"},
        {"op": op, "path": 'addresses[type eq "work"].locality', "value": "Springfield"},
    )
    assert result["phoneNumbers"] == [
        {"type": "work", "value": "+1 555 0100", "primary": True},
        {"type": "mobile", "value": "+1 555 0199"},
    ]
    assert result["addresses"] == [{"type": "work", "locality": "Springfield"}]


def test_add_primary_on_a_missing_home_email(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    result = patch(http, user_url(srv, user),
                   {"op": "Add", "path": 'emails[type eq "home"].primary', "value": "True"})
    assert result["emails"] == [user["emails"][0], {"type": "home", "primary": True}]


def test_path_attribute_names_are_case_insensitive(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    result = patch(
        http, user_url(srv, user),
        {"op": "Add", "path": 'emails[type eq "other"].Value', "value": "o@example.test"},
        {"op": "Replace", "path": "NAME.GIVENNAME", "value": "Patricia"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Department",
         "value": "Sales"},
    )
    assert {"type": "other", "value": "o@example.test"} in result["emails"]
    assert result["name"]["givenName"] == "Patricia"
    assert result[ENTERPRISE]["department"] == "Sales"


def test_urn_qualified_paths_land_in_the_extension(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    result = patch(
        http, user_url(srv, user),
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "E-1001"},
        {"op": "Add", "path": f"{ENTERPRISE}:costCenter", "value": "CC-1"},
        {"op": "Remove", "path": f"{ENTERPRISE}:department"},
    )
    assert result[ENTERPRISE] == {"employeeNumber": "E-1001", "costCenter": "CC-1"}
    assert not any(key.startswith(f"{ENTERPRISE}:") for key in result)


def test_a_path_naming_the_extension_targets_the_whole_extension_object(
    http: requests.Session, srv: ReferenceServer
) -> None:
    # scim2-tester patches urn:...:enterprise:2.0:User itself; it once landed under a bogus
    # "urn:...:enterprise:2.0" key that no schema allows, and every later response failed validation.
    user, boss = new_user(http, srv), new_user(http, srv)
    url = user_url(srv, user)
    result = patch(http, url, {"op": "add", "path": ENTERPRISE, "value": {
        "schemas": [ENTERPRISE], "costCenter": "CC-9", "manager": {"value": boss["id"]}}})
    assert result[ENTERPRISE] == {"department": "R&D", "costCenter": "CC-9", "manager": {
        "value": boss["id"], "$ref": f"{srv.base_url}/Users/{boss['id']}", "displayName": "Pat Lee"}}
    assert [key for key in result if key.lower().startswith("urn:")] == [ENTERPRISE]
    # replace on the object changes what it names and keeps the rest (RFC 7644 §3.5.2.3)
    result = patch(http, url, {"op": "replace", "path": ENTERPRISE, "value": {"department": "Ops"}})
    assert result[ENTERPRISE]["department"] == "Ops" and result[ENTERPRISE]["costCenter"] == "CC-9"
    result = patch(http, url, {"op": "remove", "path": ENTERPRISE})
    assert ENTERPRISE not in result and ENTERPRISE not in result["schemas"]
    assert ENTERPRISE not in stored(http, url)
    problem = patch(http, url, {"op": "remove", "path": CORE_USER}, status=400)
    assert problem["scimType"] == "invalidPath"


def test_custom_extension_attribute_by_urn_path(http: requests.Session, srv: ReferenceServer) -> None:
    custom = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
    user = new_user(http, srv)
    result = patch(http, user_url(srv, user), {"op": "Add", "path": f"{custom}:badgeId", "value": "B-7"})
    assert result[custom] == {"badgeId": "B-7"}
    assert custom in result["schemas"]


def test_pathless_replace_with_dotted_and_urn_keys(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    result = patch(
        http, user_url(srv, user),
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "pat.lee@example.test"},
        {"op": "replace", "value": {
            "displayName": "Pat Q. Lee",
            "name.givenName": "Patricia",
            "name.familyName": "Q-Lee",
            f"{ENTERPRISE}:employeeNumber": "E-2002",
            "active": "False",
        }},
    )
    assert result["displayName"] == "Pat Q. Lee"
    assert result["name"] == {"givenName": "Patricia", "familyName": "Q-Lee", "formatted": "Pat Lee"}
    assert result[ENTERPRISE] == {"department": "R&D", "employeeNumber": "E-2002"}
    assert result["active"] is False
    assert result["emails"][0]["value"] == "pat.lee@example.test"
    assert "name.givenName" not in result


def test_pathless_value_with_extension_object_and_username(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    new_name = f"pathless-{uuid.uuid4().hex[:8]}@example.test"
    result = patch(http, user_url(srv, user), {"op": "replace", "value": {
        "userName": new_name, ENTERPRISE: {"division": "West"}, "name": {"middleName": "Q"}}})
    assert result["userName"] == new_name
    assert result[ENTERPRISE] == {"department": "R&D", "division": "West"}
    assert result["name"]["middleName"] == "Q" and result["name"]["givenName"] == "Pat"


@pytest.mark.parametrize(
    "op, value",
    [("Replace", "False"), ("replace", False), ("Add", "False"), ("Replace", "false"), ("REPLACE", "FALSE")],
)
def test_disable_in_every_dialect(http: requests.Session, srv: ReferenceServer, op: str, value: object) -> None:
    user = new_user(http, srv)
    result = patch(http, user_url(srv, user), {"op": op, "path": "active", "value": value})
    assert result["active"] is False
    again = stored(http, user_url(srv, user))
    assert again["active"] is False
    listed = http.get(f"{srv.base_url}/Users", params={"filter": f'userName eq "{user["userName"]}"'}).json()
    assert listed["totalResults"] == 1 and listed["Resources"][0]["active"] is False


@pytest.mark.parametrize("value", ["True", True])
def test_reenable(http: requests.Session, srv: ReferenceServer, value: object) -> None:
    user = new_user(http, srv, active=False)
    assert patch(http, user_url(srv, user), {"op": "Replace", "path": "active", "value": value})["active"] is True


def test_many_operations_mixed_with_disable(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    operations = [
        {"op": "Replace", "path": "displayName", "value": "D"},
        {"op": "Add", "path": "title", "value": "T"},
        {"op": "Replace", "path": "preferredLanguage", "value": "en-US"},
        {"op": "Add", "path": "nickName", "value": "N"},
        {"op": "Replace", "path": "name.givenName", "value": "G"},
        {"op": "Replace", "path": "name.familyName", "value": "F"},
        {"op": "Replace", "path": "name.formatted", "value": "G F"},
        {"op": "Replace", "path": "externalId", "value": "X-1"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "w@example.test"},
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "1"},
        {"op": "Add", "path": 'phoneNumbers[type eq "fax"].value', "value": "2"},
        {"op": "Replace", "path": 'addresses[type eq "work"].streetAddress', "value": "1 Main St"},
        {"op": "Replace", "path": 'addresses[type eq "work"].postalCode', "value": "12345"},
        {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "7"},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Ops"},
        {"op": "Replace", "path": "active", "value": "False"},
    ]
    result = patch(http, user_url(srv, user), *operations)
    assert (result["displayName"], result["title"], result["nickName"], result["externalId"]) == ("D", "T", "N", "X-1")
    assert result["name"] == {"givenName": "G", "familyName": "F", "formatted": "G F"}
    assert [p["type"] for p in result["phoneNumbers"]] == ["work", "mobile", "fax"]
    assert result["addresses"] == [{"type": "work", "streetAddress": "1 Main St", "postalCode": "12345"}]
    assert result[ENTERPRISE] == {"department": "Ops", "employeeNumber": "7"}
    assert result["active"] is False
    found = http.get(f"{srv.base_url}/Users", params={"filter": 'externalId eq "X-1"'}).json()
    assert [r["id"] for r in found["Resources"]] == [user["id"]]


def test_a_failing_operation_changes_nothing(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    response = http.patch(user_url(srv, user), json={"Operations": [
        {"op": "Replace", "path": "title", "value": "changed"},
        {"op": "Replace", "path": "active", "value": "sometimes"},
    ]})
    assert response.status_code == 400
    assert stored(http, user_url(srv, user)) == user


@pytest.mark.parametrize("value", ["", None])
def test_replace_with_empty_or_null_clears(http: requests.Session, srv: ReferenceServer, value: object) -> None:
    user = new_user(http, srv, title="Engineer")
    result = patch(http, user_url(srv, user), {"op": "replace", "path": "title", "value": value},
                   {"op": "replace", "path": "name.formatted", "value": value})
    assert "title" not in result
    assert "formatted" not in result["name"]


def test_remove_operations(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv, emails=[{"type": "work", "value": "w@x.test"}, {"type": "home", "value": "h@x.test"}])
    result = patch(http, user_url(srv, user),
                   {"op": "Remove", "path": 'emails[type eq "home"]'},
                   {"op": "remove", "path": "displayName"},
                   {"op": "remove", "path": "name.givenName"},
                   {"op": "remove", "path": "nickName"})  # absent: a no-op, not an error
    assert result["emails"] == [{"type": "work", "value": "w@x.test"}]
    assert "displayName" not in result and "givenName" not in result["name"]


def test_patch_unknown_id_is_404(http: requests.Session, srv: ReferenceServer) -> None:
    response = http.patch(f"{srv.base_url}/Users/{uuid.uuid4()}",
                          json={"Operations": [{"op": "replace", "path": "title", "value": "x"}]})
    assert response.status_code == 404
    assert response.json()["status"] == "404"


# --- manager -----------------------------------------------------------------------------------------

MANAGER = f"{ENTERPRISE}:manager"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Add", "path": MANAGER, "value": "{boss}"},
        {"op": "add", "path": MANAGER, "value": {"value": "{boss}"}},
        {"op": "Replace", "path": MANAGER, "value": "{boss}"},
        {"op": "Add", "path": "manager", "value": [{"$ref": "https://x/Users/{boss}", "value": "{boss}"}]},
        {"op": "replace", "value": {MANAGER: "{boss}"}},
    ],
    ids=["bare-string", "object", "replace", "legacy", "pathless"],
)
def test_set_manager(http: requests.Session, srv: ReferenceServer, operation: dict) -> None:
    boss, user = new_user(http, srv, displayName="The Boss"), new_user(http, srv)

    def fill(value: object) -> object:
        if isinstance(value, str):
            return value.replace("{boss}", boss["id"])
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    result = patch(http, user_url(srv, user), fill(operation))
    assert result[ENTERPRISE]["manager"] == {
        "value": boss["id"], "$ref": f"{srv.base_url}/Users/{boss['id']}", "displayName": "The Boss"
    }
    assert result[ENTERPRISE]["department"] == "R&D"
    assert "manager" not in result
    found = http.get(f"{srv.base_url}/Users", params={"filter": f'{MANAGER}.value eq "{boss["id"]}"'}).json()
    assert [r["id"] for r in found["Resources"]] == [user["id"]]


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": MANAGER, "value": ""},
        {"op": "replace", "path": MANAGER, "value": {"value": ""}},
        {"op": "replace", "path": MANAGER, "value": None},
        {"op": "remove", "path": MANAGER},
        {"op": "Remove", "path": "manager"},
    ],
    ids=["empty-string", "empty-object", "null", "remove", "legacy-remove"],
)
def test_remove_manager(http: requests.Session, srv: ReferenceServer, operation: dict) -> None:
    boss = new_user(http, srv)
    user = new_user(http, srv)
    patch(http, user_url(srv, user), {"op": "add", "path": MANAGER, "value": boss["id"]})
    result = patch(http, user_url(srv, user), operation)
    assert "manager" not in result[ENTERPRISE]
    assert result[ENTERPRISE] == {"department": "R&D"}


def test_removing_the_only_manager_drops_the_extension(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv, **{ENTERPRISE: {"manager": {"value": "m"}}})
    assert user[ENTERPRISE]["manager"]["value"] == "m"
    result = patch(http, user_url(srv, user), {"op": "remove", "path": MANAGER})
    assert ENTERPRISE not in result and ENTERPRISE not in result["schemas"]


# --- roles -------------------------------------------------------------------------------------------


def test_roles_with_json_string_values(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv, roles=[{"primary": "True", "type": "WindowsAzureActiveDirectoryRole",
                                       "value": "Reader"}])
    assert user["roles"] == [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Reader"}]
    encoded = '{"id":"7f0c","value":"Admin","displayName":"Admin"}'
    result = patch(http, user_url(srv, user), {"op": "Add", "path": "roles", "value": [{"value": encoded}]})
    assert result["roles"][1] == {"value": encoded}  # stored exactly as sent
    result = patch(http, user_url(srv, user), {"op": "Replace", "path": 'roles[primary eq "True"].value',
                                               "value": "Writer"})
    assert result["roles"][0]["value"] == "Writer" and result["roles"][0]["primary"] is True


def test_roles_primary_string_filter_creates_a_boolean(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    result = patch(http, user_url(srv, user),
                   {"op": "Add", "path": 'roles[primary eq "True"].value', "value": "Admin"},
                   {"op": "Add", "path": 'roles[primary eq "True"].display', "value": "Administrator"})
    assert result["roles"] == [{"primary": True, "value": "Admin", "display": "Administrator"}]


def test_assertive_roles_replace_the_whole_set(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv, roles=[{"value": "A"}, {"value": "B"}])
    result = patch(http, user_url(srv, user), {"op": "replace", "path": "roles", "value": [{"value": "C"}]})
    assert result["roles"] == [{"value": "C"}]


# --- groups ------------------------------------------------------------------------------------------


def members(group: dict) -> list[str]:
    return [m["value"] for m in group.get("members", [])]


def test_group_member_add_and_both_remove_dialects(http: requests.Session, srv: ReferenceServer) -> None:
    u1, u2, u3 = (new_user(http, srv) for _ in range(3))
    group = new_group(http, srv)
    url = f"{srv.base_url}/Groups/{group['id']}"
    result = patch(http, url, {"op": "Add", "path": "members",
                               "value": [{"$ref": None, "value": u1["id"]}, {"$ref": None, "value": u2["id"]}]})
    assert members(result) == [u1["id"], u2["id"]]
    patch(http, url, {"op": "Add", "path": "members", "value": [{"value": u1["id"]}, {"value": u3["id"]}]})
    assert members(stored(http, url)) == [u1["id"], u2["id"], u3["id"]]  # no duplicate u1
    result = patch(http, url, {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": u1["id"]}]})
    assert members(result) == [u2["id"], u3["id"]]
    result = patch(http, url, {"op": "remove", "path": f'members[value eq "{u2["id"]}"]'})
    assert members(result) == [u3["id"]]
    result = patch(http, url, {"op": "remove", "path": f'members[value eq "{u1["id"]}"]'})  # absent: no-op
    assert members(result) == [u3["id"]]
    result = patch(http, url, {"op": "remove", "path": "members"})
    assert members(result) == []


def test_add_then_remove_in_one_request(http: requests.Session, srv: ReferenceServer) -> None:
    user = new_user(http, srv)
    group = new_group(http, srv)
    url = f"{srv.base_url}/Groups/{group['id']}"
    result = patch(http, url, {"op": "add", "path": "members", "value": [{"value": user["id"]}]},
                   {"op": "remove", "path": f'members[value eq "{user["id"]}"]'})
    assert members(result) == []


def test_fifty_members_in_one_operation(http: requests.Session, srv: ReferenceServer) -> None:
    users = [new_user(http, srv)["id"] for _ in range(50)]
    group = new_group(http, srv)
    url = f"{srv.base_url}/Groups/{group['id']}"
    result = patch(http, url, {"op": "Add", "path": "members", "value": [{"value": u} for u in users]})
    assert members(result) == users
    assert members(stored(http, url)) == users


def test_replace_members_and_group_attributes(http: requests.Session, srv: ReferenceServer) -> None:
    u1, u2 = new_user(http, srv), new_user(http, srv)
    group = new_group(http, srv, [u1["id"]])
    url = f"{srv.base_url}/Groups/{group['id']}"
    new_name = f"renamed-{uuid.uuid4().hex[:8]}"
    result = patch(http, url, {"op": "replace", "path": "members", "value": [{"value": u2["id"]}]},
                   {"op": "Replace", "path": "displayName", "value": new_name})
    assert members(result) == [u2["id"]] and result["displayName"] == new_name
    result = patch(http, url, {"op": "replace", "value": {"externalId": "ext-9", "displayName": new_name + "x"}})
    assert (result["externalId"], result["displayName"]) == ("ext-9", new_name + "x")
    found = http.get(f"{srv.base_url}/Groups", params={"filter": f'displayName eq "{new_name.upper()}X"'}).json()
    assert found["totalResults"] == 1


def test_group_rename_onto_a_taken_name_is_409(http: requests.Session, srv: ReferenceServer) -> None:
    first, second = new_group(http, srv), new_group(http, srv)
    response = http.patch(f"{srv.base_url}/Groups/{second['id']}", json={"Operations": [
        {"op": "Replace", "path": "displayName", "value": first["displayName"].upper()}]})
    assert response.status_code == 409


def test_adding_a_missing_member_is_400(http: requests.Session, srv: ReferenceServer) -> None:
    group = new_group(http, srv)
    response = http.patch(f"{srv.base_url}/Groups/{group['id']}", json={"Operations": [
        {"op": "Add", "path": "members", "value": [{"value": "no-such-user"}]}]})
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
