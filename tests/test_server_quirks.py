"""Each quirk switch changes exactly the behaviour it names, the way the defect switches do: a probe sees the
usual answer on a server without the switch and the quirky (but legal) one with it. Every quirk has a probe,
so the quirk matrix cannot pass because a switch does nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from scim_conformance.server import QUIRKS, ReferenceServer
from tests.test_server_defects import TOKEN, Client, retry_after_when_crowded


def _id_shape(c: Client) -> str:
    user_id = c.user()["id"]
    try:
        uuid.UUID(user_id)
        return "uuid"
    except ValueError:
        return "integer" if user_id.isdigit() else "other"


def null_unassigned(c: Client) -> tuple[bool, bool]:
    config = c.get("/ServiceProviderConfig").json()
    return config["documentationUri"] is None, c.get(f"/Users/{c.user()['id']}").json().get("nickName", "") is None


def patch_answer(c: Client) -> tuple[int, bool]:
    response = c.patch(f"/Users/{c.user()['id']}", {"op": "replace", "path": "displayName", "value": "Quirk"})
    return response.status_code, bool(response.content)


def primary_false(c: Client) -> bool:
    user = c.user(phoneNumbers=[{"type": "work", "value": "1", "primary": False}])
    return "primary" in c.get(f"/Users/{user['id']}").json()["phoneNumbers"][0]


def canonical_values(c: Client) -> bool:
    return "canonicalValues" in c.get("/Schemas").text


def special_use_email(c: Client) -> int:
    body = {"userName": f"q-{uuid.uuid4().hex[:8]}@example.com", "emails": [{"value": "x@mail.example.test"}]}
    return c.post("/Users", body).status_code


def unauthorised(c: Client) -> tuple[int, str]:
    response = requests.get(f"{c.base}/Users")
    return response.status_code, response.headers["Content-Type"].split(";")[0]


def user_groups(c: Client) -> bool:
    user = c.user()
    c.group(members=(user["id"],))
    return "groups" in c.get(f"/Users/{user['id']}").json()


def unknown_user_error(c: Client) -> tuple[str, Any]:
    response = c.get(f"/Users/{uuid.uuid4()}")
    return response.headers["Content-Type"], response.json()["status"]


def location(c: Client) -> bool:
    """Whether meta.location names the id as it is (not percent-encoded), and Location says the same."""
    response = c.http.post(f"{c.base}/Users", json={"userName": c.name()})
    user = response.json()
    return user["meta"]["location"].endswith(f"/Users/{user['id']}") and response.headers["Location"] == \
        user["meta"]["location"]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _user_schema(c: Client) -> dict[str, Any]:
    return next(s for s in c.get("/Schemas").json()["Resources"] if s["name"] == "User")


def formatted_required(c: Client) -> tuple[bool, int, int]:
    """Declared required; a create without a formatted name refused, one with it taken."""
    name = next(a for a in _user_schema(c)["attributes"] if a["name"] == "name")
    formatted = next(s for s in name["subAttributes"] if s["name"] == "formatted")
    without = c.post("/Users", {"userName": c.name(), "name": {"givenName": "A", "familyName": "B"}}).status_code
    with_it = c.post("/Users", {"userName": c.name(), "name": {"formatted": "A B"}}).status_code
    return formatted["required"], without, with_it


def enterprise_declared(c: Client) -> tuple[bool, bool, bool]:
    """Listed in /Schemas, named by /ResourceTypes, stored when sent."""
    listed = any(s["id"] == ENTERPRISE for s in c.get("/Schemas").json()["Resources"])
    user_type = next(t for t in c.get("/ResourceTypes").json()["Resources"] if t["name"] == "User")
    user = c.user(**{ENTERPRISE: {"department": "Research"}})
    stored = ENTERPRISE in c.get(f"/Users/{user['id']}").json()
    return listed, bool(user_type["schemaExtensions"]), stored


def title_declared(c: Client) -> tuple[bool, bool]:
    """title listed in the User schema, and stored when sent."""
    listed = any(a["name"] == "title" for a in _user_schema(c)["attributes"])
    user = c.user(title="Chemist")
    return listed, "title" in c.get(f"/Users/{user['id']}").json()


PROBES: dict[str, tuple[Callable[[Client], Any], Any, Any]] = {
    "null-unassigned": (null_unassigned, (False, False), (True, True)),
    "patch-204": (patch_answer, (200, True), (204, False)),
    "primary-false-omitted": (primary_false, True, False),
    "no-canonical-values": (canonical_values, True, False),
    "integer-ids": (_id_shape, "uuid", "integer"),
    "opaque-ids": (_id_shape, "uuid", "other"),
    "strict-email-domains": (special_use_email, 201, 400),
    "plain-text-401": (unauthorised, (401, "application/scim+json"), (401, "text/plain")),
    "no-user-groups": (user_groups, True, False),
    "one-request-at-a-time": (retry_after_when_crowded, None, "seconds"),
    "okta-error-example": (unknown_user_error, ("application/scim+json", "404"), ("text/json;charset=UTF-8", 404)),
    "location-percent-encoded": (location, True, False),
    "name-formatted-required": (formatted_required, (False, 201, 201), (True, 400, 201)),
    "no-enterprise-extension": (enterprise_declared, (True, True, True), (False, False, False)),
    "core-subset": (title_declared, (True, True), (False, False)),
}


def test_every_quirk_has_a_probe() -> None:
    assert set(PROBES) == set(QUIRKS)


@pytest.fixture(scope="module")
def usual() -> Iterator[ReferenceServer]:
    with ReferenceServer(token=TOKEN) as server:
        yield server


@pytest.mark.parametrize("quirk", sorted(PROBES))
def test_quirk_changes_its_behaviour(usual: ReferenceServer, quirk: str) -> None:
    probe, plain, quirky = PROBES[quirk]
    assert probe(Client(usual)) == plain
    with ReferenceServer(token=TOKEN, quirks=(quirk,)) as server:
        assert probe(Client(server)) == quirky


def test_integer_ids_are_one_sequence_across_types() -> None:
    """A member id must name one resource: users and groups never share an id."""
    with ReferenceServer(token=TOKEN, quirks=("integer-ids",)) as server:
        c = Client(server)
        user, group = c.user(), c.group()
        assert int(group["id"]) == int(user["id"]) + 1


def test_an_unknown_quirk_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown quirk"):
        ReferenceServer(quirks=("nope",))
