"""Seeded random input against the reference server: whatever arrives, the answer is a SCIM response below
500 on a connection that stays usable (the spec's "never a 500 or a dropped connection for bad input")."""

from __future__ import annotations

import json
import random

import pytest
import requests

from scim_conformance.server import ReferenceServer

TOKEN = "fuzz-token"
ATOMS = ["", "x", "True", "false", "null", "{", "emails", "members", "urn:ietf:params:scim:schemas:extension:"
         "enterprise:2.0:User:manager", 'emails[type eq "work"].value', "name.givenName", 0, -1, 1.5, True, False,
         None, "\u00e9\u4e2d", "a" * 300]
KEYS = ["userName", "op", "path", "value", "Operations", "emails", "members", "active", "name", "schemas",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "displayName", "roles", "id", "meta",
        "phoneNumbers", "primary", "type", "manager", "$ref", "externalId", "groups", "password"]
FILTER_WORDS = ["userName", "eq", "ne", "co", "pr", "gt", "and", "or", "not", "(", ")", "[", "]", '"x"', "true",
                "null", "1", "emails", ".value", "type", "urn:a:b", "meta.created", '"', "\\"]


def random_json(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth > 4 or roll < 0.4:
        return rng.choice(ATOMS)
    if roll < 0.7:
        return {rng.choice(KEYS): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def random_operation(rng: random.Random) -> object:
    operation = {"op": rng.choice(["add", "Replace", "REMOVE", "x", 3]),
                 "path": rng.choice([*ATOMS[:10], 'members[value eq "nope"]', 'roles[primary eq "True"].value']),
                 "value": random_json(rng)}
    for key in list(operation):
        if rng.random() < 0.2:
            del operation[key]
    return operation


def assert_scim(response: requests.Response, sent: object) -> None:
    assert response.status_code < 500, (sent, response.text)
    assert response.headers["Content-Type"] == "application/scim+json", sent
    if response.status_code >= 400:
        assert response.json()["status"] == str(response.status_code)


def test_random_create_bodies(http: requests.Session, srv: ReferenceServer) -> None:
    rng = random.Random(7644)
    for _ in range(150):
        body = random_json(rng)
        if isinstance(body, dict) and rng.random() < 0.5:
            body["userName"] = f"fuzz-{rng.random()}"
        for endpoint in ("Users", "Groups"):
            assert_scim(http.post(f"{srv.base_url}/{endpoint}", data=json.dumps(body)), body)


def test_random_patches_keep_the_user_valid(http: requests.Session, srv: ReferenceServer) -> None:
    rng = random.Random(7643)
    user = http.post(f"{srv.base_url}/Users", json={"userName": "fuzz-target@example.test",
                                                    "emails": [{"type": "work", "value": "w@x.test"}]}).json()
    group = http.post(f"{srv.base_url}/Groups", json={"displayName": "fuzz-group",
                                                      "members": [{"value": user["id"]}]}).json()
    for _ in range(150):
        body = {"Operations": [random_operation(rng) for _ in range(rng.randint(1, 3))]}
        for url in (f"{srv.base_url}/Users/{user['id']}", f"{srv.base_url}/Groups/{group['id']}"):
            response = http.patch(url, json=body)
            assert_scim(response, body)
            again = http.get(url)
            assert again.status_code == 200, again.text  # whatever was applied left a readable resource
    final = http.get(f"{srv.base_url}/Users/{user['id']}").json()
    assert isinstance(final["userName"], str) and final["userName"]


def test_random_filters(http: requests.Session, srv: ReferenceServer) -> None:
    rng = random.Random(3442)
    for _ in range(300):
        text = " ".join(rng.choice(FILTER_WORDS) for _ in range(rng.randint(1, 8)))
        assert_scim(http.get(f"{srv.base_url}/Users", params={"filter": text}), text)
        assert_scim(http.get(f"{srv.base_url}/Groups", params={"filter": text, "attributes": text}), text)


@pytest.mark.parametrize(
    "endpoint, operations",
    [
        ("Groups", [{"op": "Replace", "path": "members", "value": ["{", {"value": ["name.givenName"]}, "True"]}]),
        ("Groups", [{"op": "Replace", "path": "members", "value": {"value": {"password": "x"}}}]),
        ("Users", [{"op": "add", "path": 'emails[type eq "work"].value', "value": ["a", 0]},
                   {"op": "REMOVE", "path": "emails", "value": [[]]}]),
    ],
)
def test_found_by_fuzzing_unhashable_ids(
    http: requests.Session, srv: ReferenceServer, endpoint: str, operations: list
) -> None:
    if endpoint == "Users":
        body = {"userName": f"fuzz-{random.random()}", "emails": [{"type": "work", "value": "w@x.test"}]}
    else:
        body = {"displayName": f"fuzz-{random.random()}"}
    resource = http.post(f"{srv.base_url}/{endpoint}", json=body).json()
    url = f"{srv.base_url}/{endpoint}/{resource['id']}"
    response = http.patch(url, json={"Operations": operations})
    assert_scim(response, operations)
    assert response.status_code == 400
    assert http.get(url).json() == resource
