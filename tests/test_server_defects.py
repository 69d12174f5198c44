"""Each defect switch changes exactly the behaviour it names: a probe sees the compliant answer on a server
without the switch and the defective answer on a server with it. Every switch in DEFECTS has a probe."""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from scim_conformance.server import DEFECTS, ReferenceServer

TOKEN = "defect-token"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MANAGER = f"{ENTERPRISE}:manager"
MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


class Client:
    def __init__(self, server: ReferenceServer) -> None:
        self.base = server.base_url
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"})

    def name(self, prefix: str = "u") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"

    def user(self, **extra: Any) -> dict:
        body = {"userName": self.name(), "active": True, "emails": [{"type": "work", "value": "w@x.test"}], **extra}
        response = self.http.post(f"{self.base}/Users", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def group(self, members: tuple[str, ...] = (), **extra: Any) -> dict:
        body = {"displayName": self.name("g"), "members": [{"value": m} for m in members], **extra}
        response = self.http.post(f"{self.base}/Groups", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.base}{path}", params=params)

    def post(self, path: str, body: Any, **headers: str) -> requests.Response:
        return self.http.post(f"{self.base}{path}", json=body, headers=headers)

    def patch(self, path: str, *operations: dict) -> requests.Response:
        return self.http.patch(f"{self.base}{path}", json={"Operations": list(operations)})

    def count(self, path: str, text: str) -> int | None:
        response = self.get(path, filter=text)
        return response.json()["totalResults"] if response.status_code == 200 else response.status_code


# --- probes: each returns what a client observes -----------------------------------------------------


def status_no_token(c: Client) -> int:
    return requests.get(f"{c.base}/Users").status_code


def no_user_agent(c: Client) -> tuple[int, str]:
    # http.client, unlike requests/urllib3, adds no User-Agent of its own.
    url = urlsplit(c.base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request("GET", f"{url.path}/Users", headers={"Authorization": f"Bearer {TOKEN}"})
        response = connection.getresponse()
        response.read()
        return response.status, response.headers["Content-Type"].split(";")[0]
    finally:
        connection.close()


def unknown_param(c: Client) -> int:
    return c.http.get(f"{c.base}/Users?aadOptscim062020").status_code


def content_type(c: Client) -> str:
    return c.get("/Users").headers["Content-Type"]


def charset(c: Client) -> int:
    return c.post("/Users", {"userName": c.name()}, **{"Content-Type": "application/scim+json; charset=utf-8"}
                  ).status_code


def error_status(c: Client) -> Any:
    return c.get(f"/Users/{uuid.uuid4()}").json()["status"]


def filter_miss(c: Client) -> int:
    return c.get("/Users", filter=f'userName eq "{uuid.uuid4()}"').status_code


def plus_encoding(c: Client) -> int | None:
    user = c.user()
    response = c.http.get(f'{c.base}/Users?filter=userName+eq+"{user["userName"]}"')
    return response.json()["totalResults"] if response.status_code == 200 else response.status_code


def username_case(c: Client) -> int | None:
    user = c.user()
    return c.count("/Users", f'userName eq "{user["userName"].upper()}"')


def displayname_case(c: Client) -> int | None:
    group = c.group()
    return c.count("/Groups", f'displayName eq "{group["displayName"].upper()}"')


def externalid_filter(c: Client) -> int | None:
    user = c.user(externalId=uuid.uuid4().hex)
    return c.count("/Users", f'externalId eq "{user["externalId"]}"')


def email_filter(c: Client) -> int | None:
    user = c.user(emails=[{"type": "work", "value": f"{uuid.uuid4().hex}@x.test"}])
    return c.count("/Users", f'emails[type eq "work"].value eq "{user["emails"][0]["value"]}"')


def filter_ignored(c: Client) -> int | None:
    c.user()
    user = c.user()
    return c.count("/Users", f'userName eq "{user["userName"]}"')


def excluded_members(c: Client) -> bool:
    group = c.group((c.user()["id"],))
    return "members" in c.get(f"/Groups/{group['id']}", excludedAttributes="members").json()


def null_values(c: Client) -> int:
    return c.post("/Users", {"userName": c.name(), "title": None}).status_code


def unlisted_extension(c: Client) -> int:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": c.name(),
            "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User": {"badge": "7"}}
    return c.post("/Users", body).status_code


def string_boolean_create(c: Client) -> int:
    return c.post("/Users", {"userName": c.name(), "active": "True"}).status_code


def string_boolean_stored(c: Client) -> Any:
    user = c.post("/Users", {"userName": c.name(), "active": "False"}).json()
    return c.get(f"/Users/{user['id']}").json()["active"]


def duplicate_user(c: Client) -> int:
    user = c.user()
    return c.post("/Users", {"userName": user["userName"]}).status_code


def duplicate_group(c: Client) -> int:
    group = c.group()
    return c.post("/Groups", {"displayName": group["displayName"]}).status_code


def phone(c: Client) -> str:
    return c.user(phoneNumbers=[{"type": "work", "value": "+1 555-010-0100"}])["phoneNumbers"][0]["value"]


def missing_id(c: Client) -> int:
    return c.get(f"/Users/{uuid.uuid4()}").status_code


def active_shown(c: Client) -> bool:
    user = c.user()
    return "active" in c.get(f"/Users/{user['id']}").json()


def op_case(c: Client) -> int:
    user = c.user()
    return c.patch(f"/Users/{user['id']}", {"op": "Replace", "path": "title", "value": "X"}).status_code


def patch_stored(c: Client) -> tuple[Any, Any]:
    user = c.user()
    answer = c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "title", "value": "X"}).json()
    return answer.get("title"), c.get(f"/Users/{user['id']}").json().get("title")


def rename_index(c: Client) -> tuple[Any, Any]:
    user = c.user()
    new_name = c.name("renamed")
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "userName", "value": new_name})
    return c.count("/Users", f'userName eq "{new_name}"'), c.count("/Users", f'userName eq "{user["userName"]}"')


def no_target(c: Client) -> int:
    user = c.user()
    return c.patch(f"/Users/{user['id']}", {"op": "replace", "path": 'emails[type eq "home"].value',
                                            "value": "h@x.test"}).status_code


def no_target_keeps_others(c: Client) -> list[str]:
    user = c.user()
    answer = c.patch(f"/Users/{user['id']}", {"op": "add", "path": 'emails[type eq "home"].value',
                                              "value": "h@x.test"}).json()
    return [e["type"] for e in answer["emails"]]


def urn_path(c: Client) -> tuple[Any, bool]:
    user = c.user()
    answer = c.patch(f"/Users/{user['id']}", {"op": "add", "path": f"{ENTERPRISE}:employeeNumber", "value": "7"})
    body = c.get(f"/Users/{user['id']}").json()
    return answer.status_code, body.get(ENTERPRISE, {}).get("employeeNumber") == "7"


def path_case(c: Client) -> list[str]:
    user = c.user()
    c.patch(f"/Users/{user['id']}", {"op": "add", "path": 'emails[type eq "other"].Value', "value": "o@x.test"})
    return [e.get("value") for e in c.get(f"/Users/{user['id']}").json()["emails"]]


def pathless_dotted(c: Client) -> tuple[Any, bool]:
    user = c.user()
    c.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"name.givenName": "Pat"}})
    body = c.get(f"/Users/{user['id']}").json()
    return body.get("name"), "name.givenName" in body


def pathless(c: Client) -> int:
    user = c.user()
    return c.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"title": "T"}}).status_code


def multi_op(c: Client) -> tuple[Any, Any]:
    user = c.user()
    c.patch(f"/Users/{user['id']}", {"op": "add", "path": "title", "value": "T"},
            {"op": "add", "path": "nickName", "value": "N"})
    body = c.get(f"/Users/{user['id']}").json()
    return body.get("title"), body.get("nickName")


def add_existing(c: Client) -> int:
    user = c.user(title="Old")
    return c.patch(f"/Users/{user['id']}", {"op": "add", "path": "title", "value": "New"}).status_code


def deactivated(c: Client) -> tuple[int, Any]:
    user = c.user()
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False})
    return c.get(f"/Users/{user['id']}").status_code, c.count("/Users", f'userName eq "{user["userName"]}"')


def patch_missing(c: Client) -> int:
    return c.patch(f"/Users/{uuid.uuid4()}", {"op": "replace", "path": "title", "value": "x"}).status_code


def empty_replace(c: Client) -> Any:
    user = c.user(title="Old")
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "title", "value": ""})
    return c.get(f"/Users/{user['id']}").json().get("title")


def null_replace(c: Client) -> int:
    user = c.user(title="Old")
    return c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "title", "value": None}).status_code


def manager_as(value: Callable[[str], Any], path: str = MANAGER) -> Callable[[Client], int]:
    def probe(c: Client) -> int:
        boss, user = c.user(), c.user()
        return c.patch(f"/Users/{user['id']}", {"op": "add", "path": path, "value": value(boss["id"])}).status_code
    return probe


def manager_emptied(c: Client) -> Any:
    boss, user = c.user(), c.user()
    c.patch(f"/Users/{user['id']}", {"op": "add", "path": MANAGER, "value": boss["id"]})
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": MANAGER, "value": {"value": ""}})
    return c.get(f"/Users/{user['id']}").json().get(ENTERPRISE, {}).get("manager")


def roles_json(c: Client) -> int:
    user = c.user()
    encoded = '{"id":"g","value":"Admin","displayName":"Admin"}'
    return c.patch(f"/Users/{user['id']}", {"op": "Add", "path": "roles", "value": [{"value": encoded}]}).status_code


def roles_string_filter(c: Client) -> int:
    user = c.user(roles=[{"value": "Reader", "primary": True}])
    return c.patch(f"/Users/{user['id']}", {"op": "Replace", "path": 'roles[primary eq "True"].value',
                                            "value": "Writer"}).status_code


def roles_kept(c: Client) -> Any:
    user = c.user(roles=[{"value": "Reader"}])
    return c.get(f"/Users/{user['id']}").json().get("roles")


def password_shown(c: Client) -> bool:
    user = c.user(password="Secret-123")
    return "password" in c.get(f"/Users/{user['id']}").json()


def deleted_readable(c: Client) -> tuple[int, int]:
    user = c.user()
    return c.http.delete(f"{c.base}/Users/{user['id']}").status_code, c.get(f"/Users/{user['id']}").status_code


def delete_missing(c: Client) -> int:
    return c.http.delete(f"{c.base}/Users/{uuid.uuid4()}").status_code


def ms_group_schema(c: Client) -> int:
    return c.post("/Groups", {"schemas": [CORE_GROUP, MS_GROUP], "displayName": c.name("g")}).status_code


def member_remove(c: Client) -> tuple[int, int]:
    u1, u2 = c.user()["id"], c.user()["id"]
    group = c.group((u1, u2))
    status = c.patch(f"/Groups/{group['id']}", {"op": "Remove", "path": "members", "value": [{"value": u1}]}
                     ).status_code
    return status, len(c.get(f"/Groups/{group['id']}").json()["members"])


def member_filter_remove(c: Client) -> int:
    u1, u2 = c.user()["id"], c.user()["id"]
    group = c.group((u1, u2))
    c.patch(f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{u1}"]'})
    return len(c.get(f"/Groups/{group['id']}").json()["members"])


def member_add(c: Client) -> int:
    group = c.group()
    value = [{"value": c.user()["id"]}, {"value": c.user()["id"]}]
    c.patch(f"/Groups/{group['id']}", {"op": "Add", "path": "members", "value": value})
    return len(c.get(f"/Groups/{group['id']}").json()["members"])


def member_add_again(c: Client) -> int:
    user = c.user()["id"]
    group = c.group((user,))
    return c.patch(f"/Groups/{group['id']}", {"op": "Add", "path": "members", "value": [{"value": user}]}
                   ).status_code


def canonical_values(c: Client) -> bool:
    return "canonicalValues" in c.get("/Schemas").text


def spc_bulk(c: Client) -> bool:
    return "bulk" in c.get("/ServiceProviderConfig").json()


def total_type(c: Client) -> str:
    return type(c.get("/Users").json()["totalResults"]).__name__


def group_schemas(c: Client) -> bool:
    return "schemas" in c.get(f"/Groups/{c.group()['id']}").json()


def username_kept(c: Client) -> bool:
    return c.user(userName="Pat.Lee-" + uuid.uuid4().hex[:6])["userName"].startswith("Pat.Lee-")


def start_index(c: Client) -> int:
    for _ in range(3):
        c.user()
    return c.get("/Users", startIndex=2, count=1).json()["startIndex"]


def total_results(c: Client) -> bool:
    for _ in range(3):
        c.user()
    page = c.get("/Users", count=1).json()
    return page["totalResults"] > 1


def slow(c: Client) -> bool:
    began = time.monotonic()
    c.get("/ServiceProviderConfig")
    return time.monotonic() - began >= 1.9


# --- probes for the rfc7644 profile's defects ----------------------------------------------------------


def enterprise_schema_listed(c: Client) -> bool:
    return ENTERPRISE in {s["id"] for s in c.get("/Schemas").json()["Resources"]}


def single_schema(c: Client) -> tuple[int, int]:
    return (c.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").status_code,
            c.get("/ResourceTypes/User").status_code)


def client_id_kept(c: Client) -> bool:
    sent = str(uuid.uuid4())
    return c.post("/Users", {"id": sent, "userName": c.name()}).json()["id"] == sent


def without_username(c: Client) -> int:
    return c.post("/Users", {"displayName": "No Login"}).status_code


def create_answer(c: Client) -> tuple[int, bool]:
    response = c.post("/Users", {"userName": c.name()})
    return response.status_code, response.headers.get("Location") == response.json()["meta"]["location"]


def fresh_meta_equal(c: Client) -> bool:
    meta = c.user()["meta"]
    return meta["created"] == meta["lastModified"]


def attributes_honoured(c: Client) -> bool:
    user = c.user(title="T")
    return "title" not in c.get(f"/Users/{user['id']}", attributes="userName").json()


def put_stored(c: Client) -> str | None:
    user = c.user(title="Old")
    c.http.put(f"{c.base}/Users/{user['id']}", json={"userName": user["userName"], "title": "New"})
    return c.get(f"/Users/{user['id']}").json().get("title")


def gt_equal(c: Client) -> int | None:
    user = c.user()
    return c.count("/Users", f'userName gt "{user["userName"]}" and userName eq "{user["userName"]}"')


def precedence(c: Client) -> int | None:
    user = c.user()
    return c.count("/Users", f'userName eq "{user["userName"]}" or userName eq "x" and userName eq "y"')


def shouted_operator(c: Client) -> int | None:
    user = c.user()
    return c.count("/Users", f'userName Eq "{user["userName"]}"')


def encoded_percent(c: Client) -> int | None:
    user = c.user(title="50%2B off")
    return c.count("/Users", f'userName eq "{user["userName"]}" and title eq "50%2B off"')


def invalid_filter(c: Client) -> int:
    return c.get("/Users", filter='userName regex "x"').status_code


def search_post(c: Client) -> int:
    return c.post("/Groups/.search", {"filter": 'displayName eq "x"'}).status_code


def patch_status(*operation: dict) -> Callable[[Client], int]:
    def probe(c: Client) -> int:
        return c.patch(f"/Users/{c.user()['id']}", *operation).status_code

    return probe


def half_applied(c: Client) -> str | None:
    user = c.user(title="Old")
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "title", "value": "New"},
            {"op": "replace", "path": 'emails[type eq "work"', "value": "x"})
    return c.get(f"/Users/{user['id']}").json().get("title")


def member_ref(c: Client) -> bool:
    group = c.group((c.user()["id"],))
    return "$ref" in c.get(f"/Groups/{group['id']}").json()["members"][0]


def application_json(c: Client) -> int:
    return c.post("/Users", {"userName": c.name()}, **{"Content-Type": "application/json"}).status_code


def me(c: Client) -> int:
    return c.get("/Me").status_code


def sorted_titles(c: Client) -> list[str]:
    tag = uuid.uuid4().hex
    for title in ("b", "C", "a"):
        c.user(title=f"{tag} {title}")
    listed = c.get("/Users", filter=f'title sw "{tag}"', sortBy="title", sortOrder="descending").json()
    return [r["title"][-1] for r in listed["Resources"]]


def etag_header(c: Client) -> bool:
    return "ETag" in c.get(f"/Users/{c.user()['id']}").headers


def stale_if_match(c: Client) -> int:
    user = c.user()
    return c.http.patch(f"{c.base}/Users/{user['id']}", headers={"If-Match": 'W/"0"'},
                        json={"Operations": [{"op": "replace", "path": "title", "value": "x"}]}).status_code
def email_primary_type(c: Client) -> Any:
    user = next(r for r in c.get("/Schemas").json()["Resources"] if r["id"].endswith(":core:2.0:User"))
    emails = next(a for a in user["attributes"] if a["name"] == "emails")
    return next(sub["type"] for sub in emails["subAttributes"] if sub["name"] == "primary")


def department_created(c: Client) -> Any:
    user = c.user(**{ENTERPRISE: {"department": "Sales"}})
    stored = c.get(f"/Users/{user['id']}").json()
    return stored.get(ENTERPRISE, {}).get("department"), stored.get("id") == user["id"]


def _mobile_after(c: Client, value: Any) -> Any:
    user = c.user(phoneNumbers=[{"type": "mobile", "value": "+1 555-0101"}])
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": value})
    return [p.get("value") for p in c.get(f"/Users/{user['id']}").json().get("phoneNumbers", [])]


def mobile_replaced(c: Client) -> Any:
    return _mobile_after(c, "+1 555-0199")


def mobile_cleared(c: Client) -> Any:
    return _mobile_after(c, None)


def employee_number_filter(c: Client) -> Any:
    c.user(**{ENTERPRISE: {"employeeNumber": "E-31337"}})
    return c.count("/Users", f'{ENTERPRISE}:employeeNumber eq "E-31337"')


def count_ignored(c: Client) -> int:
    for _ in range(3):
        c.user()
    return len(c.get("/Users", count=2).json()["Resources"])


def page_cap(c: Client) -> bool:
    for _ in range(51):
        c.user()
    return len(c.get("/Users", count=100, attributes="id").json()["Resources"]) > 50



def _put_given_name(c: Client, body_of: Callable[[dict], dict]) -> tuple[int, Any]:
    user = c.user(name={"givenName": "Ann", "familyName": "Lee"}, title="Engineer")
    body = body_of(c.get(f"/Users/{user['id']}").json())
    answer = c.http.put(f"{c.base}/Users/{user['id']}", json=body)
    stored = c.get(f"/Users/{user['id']}").json()
    return answer.status_code, (stored["name"]["givenName"], stored.get("title"))


def put_given_name(c: Client) -> tuple[int, Any]:
    def changed(read: dict) -> dict:
        read["name"]["givenName"] = "Anna"
        return read
    return _put_given_name(c, changed)


def put_echoing_id(c: Client) -> int:
    return _put_given_name(c, lambda read: {**read, "groups": []})[0]


def put_without_title(c: Client) -> Any:
    return _put_given_name(c, lambda read: {k: v for k, v in read.items() if k != "title"})[1][1]


def put_empty_title(c: Client) -> tuple[int, Any]:
    return _put_given_name(c, lambda read: {**read, "title": ""})


def put_with_password(c: Client) -> int:
    return _put_given_name(c, lambda read: {**read, "password": "Pw-4f1c9e2b!x"})[0]


def member_add_hundred(c: Client) -> int:
    group = c.group()
    c.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": c.user()["id"]}
                                                                                 for _ in range(60)]})
    return len(c.get(f"/Groups/{group['id']}").json()["members"])


def retry_after_when_crowded(c: Client) -> str | None:
    """Eight lookups at once: the one-at-a-time server refuses those that find it busy, saying when to come back."""
    start = threading.Barrier(8)

    def lookup(_: int) -> requests.Response:
        start.wait(timeout=10)
        return c.get("/Users", filter='userName eq "nobody"')

    with ThreadPoolExecutor(8) as pool:
        refused = [r for r in pool.map(lookup, range(8)) if r.status_code == 429]
    return None if not refused else "seconds" if refused[0].headers["Retry-After"].isdigit() else "date"


def rename_restating_id(c: Client) -> int:
    group = c.group()
    return c.patch(f"/Groups/{group['id']}", {"op": "replace", "value": {"id": group["id"],
                                                                          "displayName": c.name("g")}}).status_code


def members_replaced(c: Client) -> int:
    first, second = c.user(), c.user()
    group = c.group((first["id"],))
    c.patch(f"/Groups/{group['id']}", {"op": "replace", "path": "members", "value": [{"value": second["id"]}]})
    return len(c.get(f"/Groups/{group['id']}").json()["members"])


def empty_members(c: Client) -> int:
    return c.post("/Groups", {"displayName": c.name("g"), "members": []}).status_code


# defect → (probe, what a compliant server shows, what the defective server shows)
def duplicate_scim_type(c: Client) -> Any:
    user = c.user()
    return c.post("/Users", {"userName": user["userName"]}).json().get("scimType")


def unauthorized_body(c: Client) -> str:
    return requests.get(f"{c.base}/Users").headers["Content-Type"].split(";")[0]


def challenge(c: Client) -> bool:
    return bool(requests.get(f"{c.base}/Users").headers.get("WWW-Authenticate"))


def member_added(c: Client) -> int:
    group = c.group()
    c.patch(f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": c.user()["id"]}]})
    return len(c.get(f"/Groups/{group['id']}").json()["members"])


def malformed_json(c: Client) -> Any:
    answer = c.http.post(f"{c.base}/Users", data=b'{"userName": ')
    return answer.status_code, answer.json().get("scimType")


def department_after_put(c: Client) -> Any:
    user = c.user()
    body = {"userName": user["userName"], ENTERPRISE: {"department": "Sales"}}
    c.http.put(f"{c.base}/Users/{user['id']}", json=body)
    return c.get(f"/Users/{user['id']}").json().get(ENTERPRISE, {}).get("department")


def username_in_other_case(c: Client) -> int:
    return c.post("/Users", {"userName": c.user()["userName"].upper()}).status_code


def manager_changed(c: Client) -> bool:
    first, second, user = c.user(), c.user(), c.user()
    c.patch(f"/Users/{user['id']}", {"op": "add", "path": MANAGER, "value": first["id"]})
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": MANAGER, "value": second["id"]})
    return c.get(f"/Users/{user['id']}").json()[ENTERPRISE]["manager"]["value"] == second["id"]


def reactivated(c: Client) -> Any:
    user = c.user()
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False})
    c.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": True})
    return c.get(f"/Users/{user['id']}").json()["active"]


def user_schema_listed(c: Client) -> bool:
    return any(s["id"] == "urn:ietf:params:scim:schemas:core:2.0:User" for s in c.get("/Schemas").json()["Resources"])


def addresses_on_create(c: Client) -> tuple[int, int]:
    with_addresses = c.post("/Users", {"userName": c.name(), "addresses": [{"type": "work", "locality": "Lyon"}]})
    return with_addresses.status_code, c.post("/Users", {"userName": c.name()}).status_code


def name_created(c: Client) -> Any:
    user = c.user(name={"givenName": "Ada", "familyName": "Byron"})
    return c.get(f"/Users/{user['id']}").json().get("name")


def non_ascii_created(c: Client) -> Any:
    user = c.user(name={"givenName": "Zoë", "familyName": "Ærøskøbing"})
    return c.get(f"/Users/{user['id']}").json()["name"]["givenName"]


def urn_without_extension(c: Client) -> tuple[int, int]:
    listed = [CORE_USER, ENTERPRISE]
    bare = c.post("/Users", {"schemas": listed, "userName": c.name()}).status_code
    with_object = c.post("/Users", {"schemas": listed, "userName": c.name(), ENTERPRISE: {"department": "S"}})
    return bare, with_object.status_code


def plus_in_value(c: Client) -> int | None:
    tagged = f"first+{uuid.uuid4().hex[:8]}@example.test"
    c.user(externalId=tagged)
    return c.count("/Users", f'externalId eq "{tagged}"')


def and_filter(c: Client) -> int | None:
    user = c.user()
    return c.count("/Users", f'id eq "{user["id"]}" and userName eq "{user["userName"]}"')
def preferred_language(c: Client) -> tuple[bool, bool]:
    """preferredLanguage listed in the User schema, and stored when sent."""
    schema = next(s for s in c.get("/Schemas").json()["Resources"] if s["name"] == "User")
    user = c.user(preferredLanguage="fr-FR")
    return (any(a["name"] == "preferredLanguage" for a in schema["attributes"]),
            "preferredLanguage" in c.get(f"/Users/{user['id']}").json())


PROBES: dict[str, tuple[Callable[[Client], Any], Any, Any]] = {
    "no-auth": (status_no_token, 401, 200),
    "preferred-language-unsupported": (preferred_language, (True, True), (False, False)),
    "auth-403": (status_no_token, 401, 403),
    "require-user-agent": (no_user_agent, (200, "application/scim+json"), (403, "text/html")),
    "reject-unknown-query-param": (unknown_param, 200, 400),
    "content-type-json": (content_type, "application/scim+json", "application/json"),
    "reject-charset": (charset, 201, 415),
    "error-status-int": (error_status, "404", 404),
    "slow-responses": (slow, False, True),
    "filter-miss-404": (filter_miss, 200, 404),
    "filter-plus-literal": (plus_encoding, 1, 400),
    "username-case-sensitive": (username_case, 1, 0),
    "displayname-case-sensitive": (displayname_case, 1, 0),
    "filter-externalid-unsupported": (externalid_filter, 1, 400),
    "filter-email-unsupported": (email_filter, 1, 400),
    "filter-ignored": (filter_ignored, 1, 2),
    "filter-string-boolean-rejected": (roles_string_filter, 200, 400),
    "excluded-attributes-ignored": (excluded_members, False, True),
    "deactivated-hidden": (deactivated, (200, 1), (404, 0)),
    "paging-ignores-startindex": (start_index, 2, 1),
    "paging-wrong-total": (total_results, True, False),
    "reject-null-values": (null_values, 201, 400),
    "reject-unlisted-extension": (unlisted_extension, 201, 400),
    "reject-string-booleans": (string_boolean_create, 201, 400),
    "store-string-booleans": (string_boolean_stored, False, "False"),
    "duplicate-username-allowed": (duplicate_user, 409, 201),
    "duplicate-group-allowed": (duplicate_group, 409, 201),
    "reformat-phone": (phone, "+1 555-010-0100", "+15550100100"),
    "reject-ms-group-schema": (ms_group_schema, 201, 400),
    "roles-json-string-rejected": (roles_json, 200, 400),
    "roles-ignored": (roles_kept, [{"value": "Reader"}], None),
    "drop-active": (active_shown, True, False),
    "password-echoed": (password_shown, False, True),
    "schemas-no-canonical-values": (canonical_values, True, False),
    "spc-bulk-missing": (spc_bulk, True, False),
    "list-total-string": (total_type, "int", "str"),
    "group-schemas-missing": (group_schemas, True, False),
    "username-lowercased": (username_kept, True, False),
    "missing-id-400": (missing_id, 404, 400),
    "deleted-still-readable": (deleted_readable, (204, 404), (204, 200)),
    "delete-missing-204": (delete_missing, 404, 204),
    "op-case-sensitive": (op_case, 200, 400),
    "patch-not-applied": (patch_stored, ("X", "X"), ("X", None)),
    "rename-stale-index": (rename_index, (1, 0), (0, 1)),
    "patch-no-target-400": (no_target, 200, 400),
    "filtered-add-replaces-list": (no_target_keeps_others, ["work", "home"], ["home"]),
    "urn-path-literal": (urn_path, (200, True), (200, False)),
    "path-case-sensitive": (path_case, ["w@x.test", "o@x.test"], ["w@x.test"]),
    "pathless-dotted-literal": (pathless_dotted, ({"givenName": "Pat"}, False), (None, True)),
    "pathless-replace-rejected": (pathless, 200, 400),
    "multi-op-first-only": (multi_op, ("T", "N"), ("T", None)),
    "add-existing-400": (add_existing, 200, 400),
    "patch-missing-id-500": (patch_missing, 404, 500),
    "empty-replace-ignored": (empty_replace, None, "Old"),
    "null-replace-rejected": (null_replace, 200, 400),
    "manager-string-rejected": (manager_as(lambda boss: boss), 200, 400),
    "manager-object-rejected": (manager_as(lambda boss: {"value": boss}), 200, 400),
    "manager-legacy-500": (manager_as(lambda boss: [{"$ref": f"x/Users/{boss}", "value": boss}], "manager"), 200, 500),
    "manager-empty-kept": (manager_emptied, None, {"value": ""}),
    "member-remove-value-list-rejected": (member_remove, (200, 1), (400, 2)),
    "member-remove-all": (member_remove, (200, 1), (200, 0)),
    "member-filter-remove-ignored": (member_filter_remove, 1, 2),
    "member-add-first-only": (member_add, 2, 1),
    "member-add-duplicate-500": (member_add_again, 200, 500),
    "schemas-missing-extension": (enterprise_schema_listed, True, False),
    "schema-by-urn-404": (single_schema, (200, 200), (404, 404)),
    "client-id-honoured": (client_id_kept, False, True),
    "required-not-enforced": (without_username, 400, 201),
    "create-200": (create_answer, (201, True), (200, True)),
    "create-no-location": (create_answer, (201, True), (201, False)),
    "meta-timestamps-differ": (fresh_meta_equal, True, False),
    "attributes-ignored": (attributes_honoured, True, False),
    "put-not-applied": (put_stored, "New", "Old"),
    "filter-gt-as-ge": (gt_equal, 0, 1),
    "filter-flat-precedence": (precedence, 1, 0),
    "filter-op-case-sensitive": (shouted_operator, 1, 400),
    "query-decoded-twice": (encoded_percent, 1, 0),
    "invalid-filter-empty": (invalid_filter, 400, 200),
    "search-post-404": (search_post, 200, 404),
    "remove-without-path-ok": (patch_status({"op": "remove"}), 400, 200),
    "patch-readonly-ignored": (patch_status({"op": "replace", "path": "id", "value": "x"}), 400, 200),
    "unknown-op-ignored": (patch_status({"op": "frobnicate", "path": "title", "value": "x"}), 400, 200),
    "patch-not-atomic": (half_applied, "Old", "New"),
    "member-ref-missing": (member_ref, True, False),
    "reject-application-json": (application_json, 201, 415),
    "me-404": (me, 501, 404),
    "etag-header-missing": (etag_header, True, False),
    "if-match-ignored": (stale_if_match, 412, 200),
    "sort-ignored": (sorted_titles, ["C", "b", "a"], ["b", "C", "a"]),
    "schemas-primary-as-string": (email_primary_type, "boolean", "string"),
    "create-drops-department": (department_created, ("Sales", True), (None, True)),
    "patch-replace-nonwork-ignored": (mobile_replaced, ["+1 555-0199"], ["+1 555-0101"]),
    "null-clear-filtered-ignored": (mobile_cleared, [None], ["+1 555-0101"]),
    "filter-extension-unsupported": (employee_number_filter, 1, 400),
    "duplicate-no-scimtype": (duplicate_scim_type, "uniqueness", None),
    "delete-missing-500": (delete_missing, 404, 500),
    "auth-error-plain-text": (unauthorized_body, "application/scim+json", "text/plain"),
    "manager-replace-ignored": (manager_changed, True, False),
    "reactivation-ignored": (reactivated, True, False),
    "schemas-user-missing": (user_schema_listed, True, False),
    "create-addresses-rejected": (addresses_on_create, (201, 201), (400, 201)),
    "create-drops-name": (name_created, {"givenName": "Ada", "familyName": "Byron"}, None),
    "non-ascii-as-question-mark": (non_ascii_created, "Zoë", "Zo?"),
    "reject-urn-without-extension": (urn_without_extension, (201, 201), (400, 201)),
    "filter-plus-as-space": (plus_in_value, 1, 0),
    "filter-and-rejected": (and_filter, 1, 400),
    "paging-ignores-count": (count_ignored, 2, 3),
    "page-size-cap": (page_cap, True, False),
    "put-readonly-rejected": (put_echoing_id, 200, 400),
    "put-keeps-omitted": (put_without_title, None, "Engineer"),
    "pathless-id-rejected": (rename_restating_id, 200, 400),
    "member-replace-appends": (members_replaced, 1, 2),
    "reject-empty-members": (empty_members, 201, 400),
    "put-empty-string-rejected": (put_empty_title, (200, ("Ann", "")), (400, ("Ann", "Engineer"))),
    "put-password-rejected": (put_with_password, 200, 400),
    "member-add-batch-capped": (member_add_hundred, 60, 50),
    "retry-after-http-date": (retry_after_when_crowded, None, "date"),
    "auth-no-challenge": (challenge, True, False),
    "member-add-ignored": (member_added, 1, 0),
    "malformed-json-500": (malformed_json, (400, "invalidSyntax"), (500, None)),
    "extension-dropped": (department_after_put, "Sales", None),
    "username-unique-case-sensitive": (username_in_other_case, 409, 201),
}


def test_every_defect_has_a_probe() -> None:
    # The load defects only show under concurrency or throttling: tests/test_load.py probes those.
    from tests.test_load import LOAD_PROBES

    assert set(PROBES) | set(LOAD_PROBES) == set(DEFECTS)


@pytest.fixture(scope="module")
def compliant() -> Iterator[ReferenceServer]:
    with ReferenceServer(token=TOKEN) as server:
        yield server


@pytest.mark.parametrize("defect", sorted(PROBES))
def test_defect_changes_its_behaviour(compliant: ReferenceServer, defect: str) -> None:
    probe, good, bad = PROBES[defect]
    assert probe(Client(compliant)) == good
    with ReferenceServer(token=TOKEN, defects=(defect,)) as server:
        assert probe(Client(server)) == bad


def test_defects_combine() -> None:
    with ReferenceServer(token=TOKEN, defects=("filter-miss-404", "error-status-int", "content-type-json")) as srv:
        response = Client(srv).get("/Users", filter='userName eq "nobody"')
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["status"] == 404


def test_a_defect_leaves_the_rest_of_the_cycle_alone() -> None:
    """A filter defect must not disturb create, read, PATCH and delete."""
    with ReferenceServer(token=TOKEN, defects=("filter-miss-404",)) as srv:
        c = Client(srv)
        user = c.user()
        assert c.get(f"/Users/{user['id']}").status_code == 200
        assert c.patch(f"/Users/{user['id']}", {"op": "Replace", "path": "active", "value": "False"}
                       ).json()["active"] is False
        assert c.count("/Users", f'userName eq "{user["userName"]}"') == 1
        assert c.http.delete(f"{c.base}/Users/{user['id']}").status_code == 204
