"""Users: Entra's create, read and delete, with the bodies it really sends."""

from __future__ import annotations

import copy

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute
from scim_conformance.steps import lookup

requirement = pytest.mark.requirement


@requirement("ENTRA-USER-CREATE")
def test_create_user(users, identities):
    """Entra creates a user with its default body, then reads the id from the answer to link it."""
    body = identities.user_body()
    exchange = users.post(body)
    data = expect.body(expect.status(exchange, "ENTRA-USER-CREATE", 201, 200), "ENTRA-USER-CREATE")
    if not isinstance(data.get("id"), str) or not data["id"]:
        expect.fail("ENTRA-USER-CREATE", "a non-empty id", f"id {data.get('id')!r}", exchange)
    expect.equal("ENTRA-USER-CREATE", "userName", body["userName"], data.get("userName"), exchange)


@requirement("ENTRA-USER-CREATE-EXTENSION-UNLISTED")
def test_create_with_unlisted_extension(users, identities):
    """A custom extension attribute arrives as an object whose URN Entra does not list in schemas."""
    body = identities.user_body()
    body["urn:ietf:params:scim:schemas:extension:CustomApp:2.0:User"] = {"costCode": "CC-1042"}
    exchange = users.post(body)
    expect.status(exchange, "ENTRA-USER-CREATE-EXTENSION-UNLISTED", 201, 200)


@requirement("ENTRA-USER-CREATE-NULLS")
def test_create_with_nulls(users, identities):
    """Microsoft's reference walkthrough posts JSON null for every unmapped attribute."""
    body = identities.user_body()
    body.update({"nickName": None, "profileUrl": None, "ims": None, "photos": None, "userType": None})
    exchange = users.post(body)
    expect.status(exchange, "ENTRA-USER-CREATE-NULLS", 201, 200)


@requirement("ENTRA-USER-CREATE-STRING-BOOLEAN")
def test_create_with_string_active(scim, users, identities):
    """The default active mapping yields the text "True"; the user must still come out active."""
    body = identities.user_body()
    body["active"] = "True"
    exchange = users.post(body)
    data = expect.body(expect.status(exchange, "ENTRA-USER-CREATE-STRING-BOOLEAN", 201, 200),
                       "ENTRA-USER-CREATE-STRING-BOOLEAN")
    again = scim.get(f"/Users/{data.get('id')}")
    stored = expect.body(expect.status(again, "ENTRA-USER-CREATE-STRING-BOOLEAN", 200),
                         "ENTRA-USER-CREATE-STRING-BOOLEAN")
    expect.equal("ENTRA-USER-CREATE-STRING-BOOLEAN", "active", True, get_attribute(stored, "active"), again)


@requirement("ENTRA-USER-DUPLICATE")
def test_create_duplicate(users, identities):
    """Creating the same userName twice is a conflict, not a second account."""
    body = identities.user_body()
    users.create(body)
    duplicate = copy.deepcopy(body)
    duplicate["externalId"] = f"{body.get('externalId', 'x')}-again"
    exchange = users.post(users.like_last(duplicate))
    expect.scim_error(exchange, "ENTRA-USER-DUPLICATE", 409)


@requirement("ENTRA-USER-READ-AS-SENT")
def test_read_back_as_sent(scim, users, identities):
    """Entra reads the user back and compares every value with its own; anything reformatted looks changed."""
    body = identities.user_body()
    user = users.create(body)
    exchange = scim.get(f"/Users/{user['id']}")
    stored = expect.body(expect.status(exchange, "ENTRA-USER-READ-AS-SENT", 200), "ENTRA-USER-READ-AS-SENT")
    expect.equal("ENTRA-USER-READ-AS-SENT", "id", user["id"], stored.get("id"), exchange)
    for attribute in ("emails", "phoneNumbers", "addresses"):
        for sent in body.get(attribute, []):
            found = [e for e in get_attribute(stored, attribute) or []
                     if isinstance(e, dict) and e.get("type") == sent["type"]]
            got = found[0] if found else {}
            for key, value in sent.items():
                expect.equal("ENTRA-USER-READ-AS-SENT", f"{attribute}[type eq {sent['type']!r}].{key}",
                             value, got.get(key), exchange)
    for key in ("userName", "displayName", "title", "externalId"):
        if key in body:
            expect.equal("ENTRA-USER-READ-AS-SENT", key, body[key], get_attribute(stored, key), exchange)


@requirement("ENTRA-USER-UNKNOWN-404")
def test_get_unknown_user(scim, identities):
    """Entra reads a linked user by id; an id that does not exist answers 404."""
    exchange = scim.get(f"/Users/{identities.unknown_id()}")
    expect.scim_error(exchange, "ENTRA-USER-UNKNOWN-404", 404)


@requirement("ENTRA-USER-ATTRIBUTES-RETURNED")
def test_accepted_attributes_returned(scim, users, identities):
    """Everything Entra sent must be visible on a re-read, or Entra re-sends it every cycle."""
    body = identities.user_body()
    user = users.create(body)
    exchange = scim.get(f"/Users/{user['id']}")
    stored = expect.body(expect.status(exchange, "ENTRA-USER-ATTRIBUTES-RETURNED", 200),
                         "ENTRA-USER-ATTRIBUTES-RETURNED")
    missing = [k for k, v in body.items() if k not in ("schemas", "meta", "password") and v not in ([], None)
               and get_attribute(stored, k) is None]
    if missing:
        expect.fail("ENTRA-USER-ATTRIBUTES-RETURNED", "every posted attribute on re-read",
                    f"missing {', '.join(missing)}", exchange)


@requirement("ENTRA-USER-DELETE")
def test_delete_user(scim, users, identities):
    """Entra deletes a user after its hard delete; the user is then gone by id and by filter."""
    user = users.create(identities.user_body())
    exchange = users.delete(user["id"])
    expect.status(exchange, "ENTRA-USER-DELETE", 204)
    expect.scim_error(scim.get(f"/Users/{user['id']}"), "ENTRA-USER-DELETE", 404)
    expect.no_match(lookup(scim, "/Users", "userName", user["userName"]), "ENTRA-USER-DELETE")


@requirement("ENTRA-USER-DELETE-AGAIN")
def test_delete_user_twice(scim, users, identities):
    """A second DELETE of the same user answers 404."""
    user = users.create(identities.user_body())
    first = users.delete(user["id"])
    if first.status != 204:
        expect.blocked(f"the first DELETE answered {first.status}")
    again = scim.delete(f"/Users/{user['id']}")
    expect.scim_error(again, "ENTRA-USER-DELETE-AGAIN", 404)
