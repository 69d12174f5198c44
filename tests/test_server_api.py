"""The reference server over real sockets: endpoints, lists and paging, auth, content types, bad input."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from scim_conformance.server import DEFECTS, ReferenceServer

TOKEN = "test-token"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def unique(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"


def entra_user(user_name: str) -> dict:
    """The body Entra's default mappings produce for a new user."""
    return {
        "schemas": [CORE_USER, ENTERPRISE],
        "externalId": user_name.split("@")[0],
        "userName": user_name,
        "active": True,
        "displayName": "Pat Lee",
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Pat Lee", "familyName": "Lee", "givenName": "Pat"},
        "phoneNumbers": [
            {"type": "work", "value": "+1 (555) 010-0001", "primary": True},
            {"type": "mobile", "value": "+1 555-010-0002", "primary": False},
            {"type": "fax", "value": "555 0003", "primary": False},
        ],
        "addresses": [{"type": "work", "primary": False, "locality": "Springfield", "country": "US"}],
        "title": "Engineer",
        "roles": [],
        ENTERPRISE: {"department": "R&D", "employeeNumber": "E-1001"},
    }


def create_user(http: requests.Session, srv: ReferenceServer, **extra: object) -> dict:
    body = {**entra_user(unique()), **extra}
    response = http.post(f"{srv.base_url}/Users", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response: requests.Response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type:
        assert body["scimType"] == scim_type
    return body


# --- users -------------------------------------------------------------------------------------------


def test_create_user_returns_201_full_resource_and_location(http: requests.Session, srv: ReferenceServer) -> None:
    body = entra_user(unique())
    body["id"] = "client-chosen"  # read-only input is ignored
    body["password"] = "s3cret!"
    response = http.post(f"{srv.base_url}/Users", json=body)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/scim+json"
    user = response.json()
    assert user["id"] and user["id"] != "client-chosen"
    assert response.headers["Location"] == f"{srv.base_url}/Users/{user['id']}"
    assert user["userName"] == body["userName"]
    assert user["active"] is True
    assert user["phoneNumbers"] == body["phoneNumbers"]  # stored exactly as sent
    assert user[ENTERPRISE] == {"department": "R&D", "employeeNumber": "E-1001"}
    assert set(user["schemas"]) == {CORE_USER, ENTERPRISE}
    meta = user["meta"]
    assert meta["resourceType"] == "User"
    assert meta["location"] == response.headers["Location"]
    assert meta["created"] == meta["lastModified"]
    assert meta["version"].startswith('W/"')
    assert "password" not in user
    assert "roles" not in user  # [] means no roles
    again = http.get(meta["location"]).json()
    assert again == user
    assert "password" not in again


def test_create_tolerates_nulls_string_booleans_and_unlisted_extensions(
    http: requests.Session, srv: ReferenceServer
) -> None:
    custom = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
    body = {
        "schemas": [CORE_USER],
        "userName": unique(),
        "active": "True",
        "addresses": None,
        "title": None,
        "nickName": "pat",
        "unknownAttribute": {"x": 1},
        "emails": [{"type": "work", "value": "a@b.test", "primary": "TRUE"}],
        custom: {"costCenter": "CC-9", "shoeSize": None},
        ENTERPRISE: {"manager": None},
    }
    user = http.post(f"{srv.base_url}/Users", json=body).json()
    assert user["active"] is True
    assert user["emails"][0]["primary"] is True
    assert "addresses" not in user and "title" not in user and "unknownAttribute" not in user
    assert user[custom] == {"costCenter": "CC-9"}
    assert custom in user["schemas"]
    assert ENTERPRISE not in user


def test_create_accepts_any_json_content_type(http: requests.Session, srv: ReferenceServer) -> None:
    for content_type in ("application/scim+json", "application/json", "application/scim+json; charset=utf-8",
                         "application/json; charset=UTF-8"):
        body = json.dumps({"schemas": [CORE_USER], "userName": unique()})
        response = http.post(f"{srv.base_url}/Users", data=body, headers={"Content-Type": content_type})
        assert response.status_code == 201, content_type


def test_duplicate_username_is_409_uniqueness_case_insensitively(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    response = http.post(f"{srv.base_url}/Users", json=entra_user(user["userName"].upper()))
    body = assert_error(response, 409, "uniqueness")
    assert body["detail"]


def test_get_unknown_user_is_404(http: requests.Session, srv: ReferenceServer) -> None:
    assert_error(http.get(f"{srv.base_url}/Users/{uuid.uuid4()}"), 404)


def test_put_replaces_the_resource_and_keeps_id_and_created(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    replacement = {"schemas": [CORE_USER], "userName": user["userName"], "active": "False", "nickName": "x"}
    response = http.put(f"{srv.base_url}/Users/{user['id']}", json=replacement)
    assert response.status_code == 200
    after = response.json()
    assert after["id"] == user["id"]
    assert after["active"] is False
    assert after["nickName"] == "x"
    assert "emails" not in after and ENTERPRISE not in after
    assert after["meta"]["created"] == user["meta"]["created"]
    assert after["meta"]["version"] != user["meta"]["version"]
    assert_error(http.put(f"{srv.base_url}/Users/{uuid.uuid4()}", json=replacement), 404)


def test_put_to_a_taken_username_is_409(http: requests.Session, srv: ReferenceServer) -> None:
    first, second = create_user(http, srv), create_user(http, srv)
    response = http.put(f"{srv.base_url}/Users/{second['id']}", json={"userName": first["userName"]})
    assert_error(response, 409, "uniqueness")


def test_delete_user_then_404_and_filter_empty(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    response = http.delete(f"{srv.base_url}/Users/{user['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(http.get(f"{srv.base_url}/Users/{user['id']}"), 404)
    listed = http.get(f"{srv.base_url}/Users", params={"filter": f'userName eq "{user["userName"]}"'}).json()
    assert listed["totalResults"] == 0
    assert_error(http.delete(f"{srv.base_url}/Users/{user['id']}"), 404)


def test_attributes_and_excluded_attributes_on_get(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    url = f"{srv.base_url}/Users/{user['id']}"
    only = http.get(url, params={"attributes": f"userName,name.givenName,{ENTERPRISE}:employeeNumber"}).json()
    assert only == {
        "schemas": user["schemas"],
        "id": user["id"],
        "userName": user["userName"],
        "name": {"givenName": "Pat"},
        ENTERPRISE: {"employeeNumber": "E-1001"},
    }
    without = http.get(url, params={"excludedAttributes": "emails,name.formatted,id"}).json()
    assert "emails" not in without
    assert without["name"] == {"familyName": "Lee", "givenName": "Pat"}
    assert without["id"] == user["id"]  # id is always returned


# --- filters and lists -------------------------------------------------------------------------------


def test_filter_lookups_entra_makes(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    name, email = user["userName"], user["emails"][0]["value"]
    for text in (
        f'userName eq "{name}"',
        f'userName eq "{name.upper()}"',
        f'externalId eq "{user["externalId"]}"',
        f'emails[type eq "work"].value eq "{email}"',
        f'emails[type eq "work"].value eq "{email.upper()}"',
        f'emails.value eq "{email}" and displayName eq "pat lee"',
        f'name.familyName eq "LEE" and userName eq "{name}"',
        f'id eq "{user["id"]}" and active eq true',
    ):
        listed = http.get(f"{srv.base_url}/Users", params={"filter": text}).json()
        assert listed["totalResults"] == 1, text
        assert listed["Resources"][0]["id"] == user["id"]


def test_filter_query_encodings(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    name = user["userName"]
    queries = (f'filter=userName+eq+"{name}"', f"filter=userName%20eq%20%22{name}%22", f'filter=userName eq "{name}"')
    for query in queries:
        response = http.get(f"{srv.base_url}/Users?{query}")
        assert response.status_code == 200, query
        assert response.json()["totalResults"] == 1, query


def test_filter_that_matches_nothing_is_an_empty_list(http: requests.Session, srv: ReferenceServer) -> None:
    response = http.get(f"{srv.base_url}/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'})
    assert response.status_code == 200
    assert response.json() == {
        "schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
    }


@pytest.mark.parametrize("text", ['userName eq', 'userName xx "a"', "(", 'emails[type eq "work"'])
def test_malformed_filter_is_400_invalid_filter(http: requests.Session, srv: ReferenceServer, text: str) -> None:
    assert_error(http.get(f"{srv.base_url}/Users", params={"filter": text}), 400, "invalidFilter")


def test_unknown_query_parameters_are_ignored(http: requests.Session, srv: ReferenceServer) -> None:
    response = http.get(f"{srv.base_url}/Users?aadOptscim062020&count=1&foo=bar")
    assert response.status_code == 200
    assert response.json()["itemsPerPage"] <= 1


def test_paging_walks_all_users_in_stable_order(http: requests.Session, srv: ReferenceServer) -> None:
    for _ in range(12):
        create_user(http, srv)
    total = http.get(f"{srv.base_url}/Users", params={"count": 0}).json()
    assert total["Resources"] == [] and total["totalResults"] >= 12
    seen: list[str] = []
    start = 1
    while True:
        page = http.get(f"{srv.base_url}/Users", params={"startIndex": start, "count": 5}).json()
        assert page["startIndex"] == start
        assert page["totalResults"] == total["totalResults"]
        assert page["itemsPerPage"] == len(page["Resources"]) <= 5
        if not page["Resources"]:
            break
        seen += [r["id"] for r in page["Resources"]]
        start += len(page["Resources"])
    assert len(seen) == len(set(seen)) == total["totalResults"]
    everything = http.get(f"{srv.base_url}/Users", params={"count": 1000}).json()
    assert [r["id"] for r in everything["Resources"]] == seen


def test_filtered_paging(http: requests.Session, srv: ReferenceServer) -> None:
    marker = uuid.uuid4().hex[:8]
    for i in range(7):
        http.post(f"{srv.base_url}/Users", json={"userName": f"{marker}-{i}@x.test"})
    page = http.get(f"{srv.base_url}/Users", params={"filter": f'userName sw "{marker}"', "startIndex": 6,
                                                      "count": 5}).json()
    assert page["totalResults"] == 7
    assert [r["userName"] for r in page["Resources"]] == [f"{marker}-5@x.test", f"{marker}-6@x.test"]


def test_out_of_range_paging_parameters_are_clamped(http: requests.Session, srv: ReferenceServer) -> None:
    huge = http.get(f"{srv.base_url}/Users", params={"startIndex": "9" * 30, "count": "9" * 30}).json()
    assert huge["Resources"] == [] and huge["startIndex"] == 2**31
    low = http.get(f"{srv.base_url}/Users", params={"startIndex": "-5", "count": "-1"}).json()
    assert (low["startIndex"], low["itemsPerPage"], low["Resources"]) == (1, 0, [])
    assert low["totalResults"] == huge["totalResults"] > 0


@pytest.mark.parametrize("params", [{"startIndex": "x"}, {"count": "many"}])
def test_non_integer_paging_parameters_are_400(http: requests.Session, srv: ReferenceServer, params: dict) -> None:
    assert_error(http.get(f"{srv.base_url}/Users", params=params), 400, "invalidValue")


def test_search_by_post(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'userName eq "{user["userName"]}"', "attributes": ["userName"]}
    listed = http.post(f"{srv.base_url}/Users/.search", json=body).json()
    assert listed["Resources"] == [{"schemas": user["schemas"], "id": user["id"], "userName": user["userName"]}]


def test_search_at_the_root_spans_every_resource_type() -> None:
    # RFC 7644 §3.4.3: POST /.search at the server root searches all resource types (scim2-tester uses it).
    with ReferenceServer(token=TOKEN) as server:
        http = requests.Session()
        http.headers.update({"Authorization": f"Bearer {TOKEN}"})
        first, second = (http.post(f"{server.base_url}/Users", json=entra_user(unique())).json() for _ in range(2))
        group = http.post(f"{server.base_url}/Groups",
                          json={"displayName": unique("g"), "externalId": first["externalId"]}).json()

        def search(**body: object) -> dict:
            response = http.post(f"{server.base_url}/.search",
                                 json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], **body})
            assert response.status_code == 200, response.text
            return response.json()

        everything = search()
        assert (everything["schemas"], everything["totalResults"]) == ([LIST], 3)
        assert [r["id"] for r in everything["Resources"]] == [first["id"], second["id"], group["id"]]
        assert everything["Resources"][2]["schemas"] == [CORE_GROUP]
        # Each type binds the filter to its own schema: groups have no userName, both have externalId.
        assert [r["id"] for r in search(filter=f'externalId eq "{first["externalId"]}"')["Resources"]] == [
            first["id"], group["id"]]
        assert search(filter='userName pr')["totalResults"] == 2
        page = search(startIndex=2, count=2, attributes=["externalId"])
        assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 2)
        assert page["Resources"] == [
            {"schemas": second["schemas"], "id": second["id"], "externalId": second["externalId"]},
            {"schemas": [CORE_GROUP], "id": group["id"], "externalId": group["externalId"]},
        ]
        assert search(startIndex=4)["Resources"] == []
        assert_error(http.post(f"{server.base_url}/.search", json={"filter": "userName eq"}), 400, "invalidFilter")
        assert_error(http.put(f"{server.base_url}/.search", json={}), 405)


# --- groups ------------------------------------------------------------------------------------------


def test_group_lifecycle_as_entra_drives_it(http: requests.Session, srv: ReferenceServer) -> None:
    name = f"Sales-({uuid.uuid4().hex[:6]})"
    body = {"schemas": [CORE_GROUP, MS_GROUP], "externalId": "obj-1", "displayName": name,
            "meta": {"resourceType": "Group"}}
    response = http.post(f"{srv.base_url}/Groups", json=body)
    assert response.status_code == 201
    group = response.json()
    assert group["displayName"] == name and group["members"] == []
    assert response.headers["Location"].endswith(f"/Groups/{group['id']}")
    assert_error(http.post(f"{srv.base_url}/Groups", json={**body, "displayName": name.lower()}), 409, "uniqueness")
    listed = http.get(f"{srv.base_url}/Groups", params={"excludedAttributes": "members",
                                                        "filter": f'displayName eq "{name.upper()}"'}).json()
    assert listed["totalResults"] == 1
    assert "members" not in listed["Resources"][0]
    by_id = http.get(f"{srv.base_url}/Groups/{group['id']}", params={"excludedAttributes": "members"}).json()
    assert "members" not in by_id and by_id["displayName"] == name
    assert http.delete(f"{srv.base_url}/Groups/{group['id']}").status_code == 204
    assert_error(http.delete(f"{srv.base_url}/Groups/{group['id']}"), 404)


def test_deleting_a_user_removes_it_from_groups(http: requests.Session, srv: ReferenceServer) -> None:
    alice, bob = create_user(http, srv), create_user(http, srv)
    members = [{"value": alice["id"]}, {"value": bob["id"]}]
    group = http.post(f"{srv.base_url}/Groups", json={"displayName": unique("g"), "members": members}).json()
    assert {m["value"] for m in group["members"]} == {alice["id"], bob["id"]}
    first = next(m for m in group["members"] if m["value"] == alice["id"])
    assert first == {"value": alice["id"], "type": "User", "$ref": f"{srv.base_url}/Users/{alice['id']}",
                     "display": "Pat Lee"}
    http.delete(f"{srv.base_url}/Users/{alice['id']}")
    after = http.get(f"{srv.base_url}/Groups/{group['id']}").json()
    assert [m["value"] for m in after["members"]] == [bob["id"]]
    by_member = http.get(f"{srv.base_url}/Groups", params={"filter": f'members eq "{bob["id"]}"'}).json()
    assert [g["id"] for g in by_member["Resources"]] == [group["id"]]


def test_a_members_display_is_kept_as_the_client_sent_it(http: requests.Session, srv: ReferenceServer) -> None:
    # RFC 7643 §2.4: display is immutable, so a client may set it; the server fills it only when it is left out.
    alice, bob = create_user(http, srv), create_user(http, srv)
    group = http.post(f"{srv.base_url}/Groups", json={"displayName": unique("g"),
                                                      "members": [{"value": alice["id"], "display": "A."}]}).json()
    assert [m["display"] for m in group["members"]] == ["A."]
    patched = http.patch(f"{srv.base_url}/Groups/{group['id']}", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": bob["id"], "display": "B."}]}]}).json()
    assert [m["display"] for m in patched["members"]] == ["A.", "B."]
    schema = http.get(f"{srv.base_url}/Schemas/{CORE_GROUP}").json()
    members = next(a for a in schema["attributes"] if a["name"] == "members")
    assert next(s for s in members["subAttributes"] if s["name"] == "display")["mutability"] == "immutable"
    http.delete(f"{srv.base_url}/Groups/{group['id']}")


def test_group_with_unknown_member_is_400(http: requests.Session, srv: ReferenceServer) -> None:
    body = {"displayName": unique("g"), "members": [{"value": str(uuid.uuid4())}]}
    assert_error(http.post(f"{srv.base_url}/Groups", json=body), 400, "invalidValue")


def test_etags_version_reads_and_guard_changes(http: requests.Session, srv: ReferenceServer) -> None:
    """RFC 7644 §3.14, as advertised: ETag equals meta.version, If-None-Match gives 304, a stale If-Match 412."""
    assert http.get(f"{srv.base_url}/ServiceProviderConfig").json()["etag"]["supported"] is True
    user = create_user(http, srv)
    url = f"{srv.base_url}/Users/{user['id']}"
    read = http.get(url)
    etag = read.headers["ETag"]
    assert etag == read.json()["meta"]["version"]
    unchanged = http.get(url, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["ETag"]) == (304, b"", etag)
    change = {"Operations": [{"op": "replace", "path": "title", "value": "Versioned"}]}
    assert_error(http.patch(url, json=change, headers={"If-Match": 'W/"999"'}), 412)
    assert http.get(url).json()["title"] == user["title"]
    changed = http.patch(url, json=change, headers={"If-Match": etag.removeprefix("W/")})  # weak comparison
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert http.put(url, json={"userName": user["userName"]}, headers={"If-Match": etag}).status_code == 412
    assert http.delete(url, headers={"If-Match": "*"}).status_code == 204


def test_me_is_not_implemented(http: requests.Session, srv: ReferenceServer) -> None:
    assert_error(http.get(f"{srv.base_url}/Me"), 501)


# --- discovery ---------------------------------------------------------------------------------------


def test_service_provider_config(http: requests.Session, srv: ReferenceServer) -> None:
    config = http.get(f"{srv.base_url}/ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types(http: requests.Session, srv: ReferenceServer) -> None:
    listed = http.get(f"{srv.base_url}/ResourceTypes").json()
    assert {r["id"] for r in listed["Resources"]} == {"User", "Group"}
    user = http.get(f"{srv.base_url}/ResourceTypes/User").json()
    assert user["endpoint"] == "/Users" and user["schema"] == CORE_USER
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert_error(http.get(f"{srv.base_url}/ResourceTypes/Device"), 404)


def _nulls(value: object) -> bool:
    if isinstance(value, dict):
        return any(v is None or _nulls(v) for v in value.values())
    if isinstance(value, list):
        return any(_nulls(v) for v in value)
    return False


def test_schemas(http: requests.Session, srv: ReferenceServer) -> None:
    listed = http.get(f"{srv.base_url}/Schemas").json()
    assert listed["schemas"] == [LIST]
    by_id = {s["id"]: s for s in listed["Resources"]}
    assert set(by_id) == {CORE_USER, CORE_GROUP, ENTERPRISE}
    assert not _nulls(listed)
    attrs = {a["name"]: a for a in by_id[CORE_USER]["attributes"]}
    emails_type = next(s for s in attrs["emails"]["subAttributes"] if s["name"] == "type")
    assert emails_type["canonicalValues"] == ["work", "home", "other"]
    phone_type = next(s for s in attrs["phoneNumbers"]["subAttributes"] if s["name"] == "type")
    assert phone_type["canonicalValues"] == ["work", "home", "mobile", "fax", "pager", "other"]
    address_type = next(s for s in attrs["addresses"]["subAttributes"] if s["name"] == "type")
    assert address_type["canonicalValues"] == ["work", "home", "other"]
    assert attrs["userName"]["uniqueness"] == "server" and attrs["userName"]["required"] is True
    assert attrs["password"]["returned"] == "never" and attrs["password"]["mutability"] == "writeOnly"
    assert attrs["groups"]["mutability"] == "readOnly"
    single = http.get(f"{srv.base_url}/Schemas/{ENTERPRISE}").json()
    assert single["id"] == ENTERPRISE
    assert {a["name"] for a in single["attributes"]} >= {"employeeNumber", "department", "manager"}
    assert_error(http.get(f"{srv.base_url}/Schemas/urn:nope"), 404)


# --- auth and transport ------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}])
@pytest.mark.parametrize("path", ["/Users", "/Groups", "/Schemas", "/ServiceProviderConfig", "/ResourceTypes"])
def test_every_endpoint_requires_the_bearer_token(srv: ReferenceServer, headers: dict, path: str) -> None:
    response = requests.get(f"{srv.base_url}{path}", headers=headers)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_scheme_is_case_insensitive(srv: ReferenceServer) -> None:
    assert requests.get(f"{srv.base_url}/Users", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def read_answer(sock: socket.socket) -> bytes:
    """One answer off a connection: its head and as much body as its Content-Length says (less if it closes)."""
    answer = b""
    while True:
        head, found, body = answer.partition(b"\r\n\r\n")
        if found:
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if len(body) >= length:
                return answer
        data = sock.recv(65536)
        if not data:
            return answer
        answer += data


def raw_exchange(srv: ReferenceServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(request)
        return read_answer(sock)


def test_request_without_user_agent_is_served(srv: ReferenceServer) -> None:
    answer = raw_exchange(srv, f"GET /scim/v2/Users?count=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}"
                               "\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 200")


def test_absolute_form_request_target(srv: ReferenceServer) -> None:
    answer = raw_exchange(srv, f"GET http://proxy.example/scim/v2/Users?count=1 HTTP/1.1\r\nHost: x\r\n"
                               f"Authorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 200")


def test_keep_alive_serves_several_requests_on_one_connection(srv: ReferenceServer) -> None:
    request = f"GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        for _ in range(3):
            sock.sendall(request.encode())
            head, _, body = read_answer(sock).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            assert json.loads(body)["patch"]["supported"] is True


def test_expect_100_continue_is_answered_before_the_body(srv: ReferenceServer) -> None:
    # The answers leave through a buffered writer; the interim one must not wait there for the final one.
    body = json.dumps(entra_user(unique())).encode()
    head = (f"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: "
            f"application/scim+json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n"
            "Connection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=2) as sock:
        sock.sendall(head.encode())
        interim = read_answer(sock)  # a timeout here: the server holds the 100 back
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        answer = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]


def test_unknown_endpoints_and_methods_answer_scim_errors(http: requests.Session, srv: ReferenceServer) -> None:
    assert_error(http.get(f"{srv.base_url}/Devices"), 404)
    assert_error(http.get(f"{srv.base_url.removesuffix('/scim/v2')}/other"), 404)
    assert_error(http.delete(f"{srv.base_url}/Users"), 405)
    assert_error(http.post(f"{srv.base_url}/Schemas", json={}), 405)
    assert_error(http.request("OPTIONS", f"{srv.base_url}/Users"), 405)


# --- bad input never gets a 500 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, status, scim_type",
    [
        (b"{not json", 400, "invalidSyntax"),
        (b"", 400, "invalidSyntax"),
        (b"\xff\xfe\x00garbage", 400, "invalidSyntax"),
        (b"[1, 2]", 400, "invalidSyntax"),
        (b'"a string"', 400, "invalidSyntax"),
        (b'{"userName": NaN}', 400, "invalidSyntax"),
        (b"[" * 5000 + b"]" * 5000, 400, "invalidSyntax"),
        (b'{"a":' * 100 + b"1" + b"}" * 100, 400, "invalidSyntax"),
        (b'{"userName": 42}', 400, "invalidValue"),
        (b'{"userName": ""}', 400, "invalidValue"),
        (b'{"displayName": "no userName"}', 400, "invalidValue"),
        (b'{"userName": "x@y.test", "active": "maybe"}', 400, "invalidValue"),
        (b'{"userName": "x@y.test", "active": 1}', 400, "invalidValue"),
        (b'{"userName": "x@y.test", "emails": {"value": "a"}}', 400, "invalidValue"),
        (b'{"userName": "x@y.test", "emails": ["a@b"]}', 400, "invalidValue"),
        (b'{"userName": "x@y.test", "name": "Pat"}', 400, "invalidValue"),
        (b'{"userName": "x@y.test", "schemas": "urn:x"}', 400, "invalidValue"),
        (b'{"userName": "x@y.test", "urn:ietf:params:scim:schemas:extension:X:2.0:User": 5}', 400, "invalidValue"),
    ],
)
def test_bad_create_bodies_are_4xx_errors(
    http: requests.Session, srv: ReferenceServer, data: bytes, status: int, scim_type: str
) -> None:
    assert_error(http.post(f"{srv.base_url}/Users", data=data), status, scim_type)


def test_unsupported_content_type_is_415(http: requests.Session, srv: ReferenceServer) -> None:
    response = http.post(f"{srv.base_url}/Users", data="userName=x", headers={"Content-Type": "text/plain"})
    assert_error(response, 415)


def test_oversized_body_is_413_and_the_connection_survives(http: requests.Session, srv: ReferenceServer) -> None:
    big = json.dumps({"userName": "big@x.test", "title": "x" * (1024 * 1024 + 10)})
    assert_error(http.post(f"{srv.base_url}/Users", data=big), 413)
    assert http.get(f"{srv.base_url}/ServiceProviderConfig").status_code == 200


def test_malformed_request_line_gets_a_scim_error(srv: ReferenceServer) -> None:
    answer = raw_exchange(srv, b"GARBAGE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") or answer.startswith(b"HTTP/1.0 400")
    assert b"urn:ietf:params:scim:api:messages:2.0:Error" in answer


AUTH_LINE = f"Authorization: Bearer {TOKEN}\r\n"


@pytest.mark.parametrize(("request_head", "status"), [
    ("GET /scim/v2/Users?x=" + "x" * 70_000 + " HTTP/1.1\r\n", 414),
    ("GET /scim/v2/Users HTTP/2.0\r\n", 505),
    ("GET /scim/v2/Users HTTP/1.x\r\n", 400),
    ("GET /scim/v2/Users HTTP/1.1 extra\r\n", 400),
    ("POST /scim/v2/Users\r\n", 400),  # two words are HTTP/0.9, which knows only GET
    ("GET /scim/v2/Users HTTP/1.1\r\n" + "X-Filler: 1\r\n" * 101, 431),
    ("GET /scim/v2/Users HTTP/1.1\r\nX-Long: " + "x" * 70_000 + "\r\n", 431),
    ("GET /scim/v2/Users HTTP/1.1\r\nNot a header field\r\n", 400),
    ("GET /scim/v2/Users HTTP/1.1\r\nX-Spaced : 1\r\n", 400),
])
def test_protocol_errors_get_their_status_and_a_scim_error(srv: ReferenceServer, request_head: str,
                                                           status: int) -> None:
    answer = raw_exchange(srv, f"{request_head}Host: x\r\n{AUTH_LINE}\r\n".encode())
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"urn:ietf:params:scim:api:messages:2.0:Error" in answer


def test_header_fields_are_read_as_http_says(srv: ReferenceServer) -> None:
    # Names in any case, values trimmed, a folded line joined to the field before it.
    folded = f"GET /scim/v2/Users?count=1 HTTP/1.1\r\nhost: x\r\nAUTHORIZATION:   Bearer\r\n\t{TOKEN}  \r\n\r\n"
    assert raw_exchange(srv, folded.encode()).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(("version", "connection", "kept"), [
    ("HTTP/1.1", "", True), ("HTTP/1.1", "Connection: close\r\n", False), ("HTTP/1.0", "", False),
    ("HTTP/1.0", "Connection: keep-alive\r\n", True),
])
def test_the_connection_is_kept_as_the_request_asks(srv: ReferenceServer, version: str, connection: str,
                                                     kept: bool) -> None:
    request = f"GET /scim/v2/ServiceProviderConfig {version}\r\nHost: x\r\n{AUTH_LINE}{connection}\r\n".encode()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=2) as sock:
        sock.sendall(request)
        assert read_answer(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(request)  # a second request on the same connection
        try:
            again = sock.recv(65536)
        except ConnectionResetError:
            again = b""
        assert again.startswith(b"HTTP/1.1 200") is kept, again[:100]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"Operations": "replace"},
        {"Operations": []},
        {"Operations": [42]},
        {"Operations": [{"op": "frobnicate", "path": "title", "value": "x"}]},
        {"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]},
        {"Operations": [{"op": "replace", "path": 7, "value": "x"}]},
        {"Operations": [{"op": "replace", "value": "not an object"}]},
        {"Operations": [{"op": "remove"}]},
        {"Operations": [{"op": "replace", "path": "active", "value": "perhaps"}]},
        {"Operations": [{"op": "replace", "path": "emails", "value": 5}]},
        {"Operations": [{"op": "replace", "path": "userName", "value": None}]},
        {"Operations": [{"op": "replace", "path": "id", "value": "mine"}]},
        {"Operations": [{"op": "replace", "path": "emails[type eq \"work\"]", "value": "a string"}]},
    ],
)
def test_bad_patch_bodies_are_400(http: requests.Session, srv: ReferenceServer, body: dict) -> None:
    user = create_user(http, srv)
    response = http.patch(f"{srv.base_url}/Users/{user['id']}", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert_error(response, 400)
    assert http.get(f"{srv.base_url}/Users/{user['id']}").json() == user  # nothing changed


def test_concurrent_creates_lose_nothing(srv: ReferenceServer) -> None:
    marker = uuid.uuid4().hex[:8]

    def worker(n: int) -> list[int]:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        return [session.post(f"{srv.base_url}/Users", json={"userName": f"{marker}-{n}-{i}@x.test"}).status_code
                for i in range(10)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for result in pool.map(worker, range(8)) for s in result]
    assert statuses == [201] * 80
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    listed = session.get(f"{srv.base_url}/Users", params={"filter": f'userName sw "{marker}"', "count": 200}).json()
    assert listed["totalResults"] == 80
    assert len({r["id"] for r in listed["Resources"]}) == 80


def test_concurrent_duplicate_creates_make_exactly_one_user(srv: ReferenceServer) -> None:
    name = unique()

    def attempt(_: int) -> int:
        return requests.post(f"{srv.base_url}/Users", json={"userName": name},
                             headers={"Authorization": f"Bearer {TOKEN}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [201] + [409] * 7


def test_defect_names_are_validated() -> None:
    with pytest.raises(ValueError, match="bogus") as info:
        ReferenceServer(defects=("filter-miss-404", "bogus"))
    assert "filter-miss-404" in str(info.value)  # the message lists the valid names
    assert all(isinstance(text, str) and text for text in DEFECTS.values())


def test_generated_token_base_url_and_clean_stop() -> None:
    server = ReferenceServer()
    assert len(server.token) >= 20
    with pytest.raises(RuntimeError):
        _ = server.base_url
    before = set(threading.enumerate())
    keep_alive = requests.Session()
    with server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/scim/v2"
        ok = keep_alive.get(f"{server.base_url}/Users", headers={"Authorization": f"Bearer {server.token}"})
        assert ok.status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.port}/scim/v2/Users", timeout=2)
    # Idle keep-alive workers are ended with the server instead of lingering on a closed database.
    deadline = time.monotonic() + 2
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not set(threading.enumerate()) - before


def test_schema_urn_keys_in_any_case_and_core_urn_object(http: requests.Session, srv: ReferenceServer) -> None:
    name = unique()
    body = {CORE_USER: {"userName": name, "title": "T"}, ENTERPRISE.lower(): {"department": "D"}}
    user = http.post(f"{srv.base_url}/Users", json=body).json()
    assert (user["userName"], user["title"]) == (name, "T")
    assert user[ENTERPRISE] == {"department": "D"}
    assert CORE_USER not in user


def test_deeper_paths_under_a_resource_are_404(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    assert_error(http.get(f"{srv.base_url}/Users/{user['id']}/extra"), 404)
    assert_error(http.patch(f"{srv.base_url}/Users/{user['id']}/extra", json={}), 404)


def test_users_show_their_groups_read_only(http: requests.Session, srv: ReferenceServer) -> None:
    user = create_user(http, srv)
    group = http.post(f"{srv.base_url}/Groups", json={"displayName": unique("g"),
                                                      "members": [{"value": user["id"]}]}).json()
    shown = http.get(f"{srv.base_url}/Users/{user['id']}").json()
    assert shown["groups"] == [{"value": group["id"], "$ref": f"{srv.base_url}/Groups/{group['id']}",
                                "display": group["displayName"], "type": "direct"}]
    # A client cannot write groups on the user; membership is changed on the group.
    replaced = http.put(f"{srv.base_url}/Users/{user['id']}", json={"userName": user["userName"], "groups": []})
    assert [g["value"] for g in replaced.json()["groups"]] == [group["id"]]
    assert "groups" not in http.get(f"{srv.base_url}/Users/{user['id']}",
                                    params={"excludedAttributes": "groups"}).json()
    http.delete(f"{srv.base_url}/Groups/{group['id']}")
    assert "groups" not in http.get(f"{srv.base_url}/Users/{user['id']}").json()
