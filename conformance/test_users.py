"""Users: Entra's create, read and delete, with the bodies it really sends."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_USER, ENTERPRISE_USER, get_attribute
from scim_conformance.steps import accepted_variant, as_declared, delete_twice, lookup, unlike_sent
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
# Entra lists the enterprise URN in schemas itself; its custom extensions are the ones it leaves out.
ENTERPRISE_ATTRIBUTE = "department"


@requirement("ENTRA-USER-CREATE", "OKTA-USER-CREATE")
def test_create_user(users, identities, requirement_id):
    """The IdP creates a user with its own create body, then reads the id from the answer to link it."""
    body = identities.user_body()
    exchange = users.post(body)
    data = expect.created(exchange, requirement_id)
    expect.equal(requirement_id, "userName", body["userName"], data.get("userName"), exchange)


def _user_extensions(scim) -> list[str]:
    """The extension URNs the server advertises for User in /ResourceTypes, custom ones first."""
    exchange = scim.get("/ResourceTypes")
    data = exchange.json
    if exchange.status != 200 or not isinstance(data, dict | list):
        expect.blocked(f"/ResourceTypes, which says which extensions the server has, answered "
                       f"{expect.describe(exchange)}")
    types = data.get("Resources") or [] if isinstance(data, dict) else data
    user = next((t for t in types if isinstance(t, dict)
                 and (t.get("schema") == CORE_USER or str(t.get("name")).lower() == "user")), {})
    urns = [e.get("schema") for e in user.get("schemaExtensions") or [] if isinstance(e, dict)]
    urns = [u for u in urns if isinstance(u, str) and u]
    return sorted(urns, key=lambda u: u.lower() == ENTERPRISE_USER.lower())


def _writable_string(scim, urn: str) -> str | None:
    """A writable, single-valued string attribute of an extension, read from /Schemas/{urn}."""
    if urn.lower() == ENTERPRISE_USER.lower():
        return ENTERPRISE_ATTRIBUTE
    schema = scim.get(f"/Schemas/{urn}").json
    attributes = schema.get("attributes") if isinstance(schema, dict) else None
    for attribute in attributes if isinstance(attributes, list) else []:
        if isinstance(attribute, dict) and attribute.get("type") == "string" and not attribute.get("multiValued") \
                and attribute.get("mutability", "readWrite") in ("readWrite", "writeOnly") and attribute.get("name"):
            return str(attribute["name"])
    return None


@requirement("ENTRA-USER-CREATE-TUTORIAL")
def test_create_tutorial_example(users, identities):
    """Microsoft's own Create User example: the enterprise URN in schemas, and no enterprise object at all."""
    person = identities.source_user()
    body = {"schemas": [CORE_USER, ENTERPRISE_USER], "externalId": person["mailNickname"],
            "userName": person["userPrincipalName"], "active": True,
            "emails": [{"primary": True, "type": "work", "value": person["mail"]}], "meta": {"resourceType": "User"},
            "name": {"formatted": person["displayName"], "familyName": person["surname"],
                     "givenName": person["givenName"]},
            "roles": []}
    # Answered 201 with an id is all this shape needs; how values are stored is ENTRA-USER-READ-AS-SENT's.
    expect.created(users.post(body), "ENTRA-USER-CREATE-TUTORIAL")


@requirement("ENTRA-USER-NON-ASCII")
def test_non_ascii_read_back(scim, users, identities, declared):
    """Entra sends names and addresses as the directory holds them: Zoë Ærøskøbing of Łódź, Ñandú-Straße."""
    rid = "ENTRA-USER-NON-ASCII"
    user = users.create(identities.non_ascii_user_body())
    exchange = scim.get(f"/Users/{user['id']}")
    stored = expect.body(expect.status(exchange, rid, 200), rid)
    judged, absent = [], []

    def same(path: str, sent: Any, got: Any) -> bool:
        if not isinstance(sent, str) or sent.isascii() or not declared.declares("/Users", path):
            return True  # ASCII values are ENTRA-USER-READ-AS-SENT's; undeclared ones the server never claimed
        if got is None:
            absent.append(path)  # a value not stored at all is ENTRA-USER-READ-AS-SENT's too
            return True
        judged.append(path)
        return bool(sent == got)

    wrong = unlike_sent(users.sent[user["id"]], stored, same)
    if not judged:
        expect.blocked(f"the user read back without any of the values holding letters outside ASCII "
                       f"({', '.join(absent) or 'none was accepted'}; judged by ENTRA-USER-READ-AS-SENT)")
    if wrong:
        expect.fail(rid, f"each of the {len(judged)} values with letters outside ASCII read back identical",
                    "; ".join(wrong), exchange)


@requirement("ENTRA-USER-CREATE-EXTENSION-UNLISTED")
def test_create_with_unlisted_extension(scim, users, identities):
    """An extension attribute arrives as an object whose URN Entra does not list in schemas."""
    chosen = next(((urn, name) for urn in _user_extensions(scim) if (name := _writable_string(scim, urn))), None)
    if chosen is None:
        expect.not_applicable("the server advertises no User extension with a writable string attribute "
                              "in /ResourceTypes and /Schemas")
    urn, name = chosen
    value = f"CC-{identities.digits(4)}"

    def carrying(listed: bool):
        def change(body: dict[str, Any]) -> None:
            body[urn] = {**(body.get(urn) or {}), name: value}
            body["schemas"] = [s for s in body.get("schemas", []) if s != urn] + ([urn] if listed else [])
        return change

    # The control lists the URN, so a refusal of the check's own body can only be about the listing.
    control = users.post(accepted_variant(users, identities.user_body, carrying(listed=True)))
    if control.status not in (200, 201):
        expect.blocked(f"the server refused the extension even with {urn} listed in schemas "
                       f"({expect.describe(control)})")
    body = copy.deepcopy(users.in_accepted_form(identities.user_body()))
    carrying(listed=False)(body)
    exchange = users.post(body)
    data = expect.created(exchange, "ENTRA-USER-CREATE-EXTENSION-UNLISTED")
    kept_listed = get_attribute(get_attribute(reread(scim, "/Users", control.json["id"],
                                                     "ENTRA-USER-CREATE-EXTENSION-UNLISTED"), urn) or {}, name)
    if kept_listed == value:
        stored = reread(scim, "/Users", data["id"], "ENTRA-USER-CREATE-EXTENSION-UNLISTED")
        expect.equal("ENTRA-USER-CREATE-EXTENSION-UNLISTED", f"{urn}:{name} (stored when the URN was listed)",
                     value, get_attribute(get_attribute(stored, urn) or {}, name))


@requirement("ENTRA-USER-CREATE-NULLS")
def test_create_with_nulls(users, identities):
    """Microsoft's reference walkthrough posts JSON null for every unmapped attribute."""
    body = accepted_variant(users, identities.user_body, lambda b: b.update(
        {"nickName": None, "profileUrl": None, "ims": None, "photos": None, "userType": None}))
    expect.status(users.post(body), "ENTRA-USER-CREATE-NULLS", 201, 200)


@requirement("ENTRA-USER-CREATE-STRING-BOOLEAN")
def test_create_with_string_active(scim, users, identities):
    """The default active mapping yields the text "True"; the user must still come out active."""
    body = accepted_variant(users, identities.user_body, lambda b: b.update({"active": "True"}))
    data = expect.created(users.post(body), "ENTRA-USER-CREATE-STRING-BOOLEAN")
    again = scim.get(f"/Users/{data['id']}")
    stored = expect.body(expect.status(again, "ENTRA-USER-CREATE-STRING-BOOLEAN", 200),
                         "ENTRA-USER-CREATE-STRING-BOOLEAN")
    expect.equal("ENTRA-USER-CREATE-STRING-BOOLEAN", "active", True, get_attribute(stored, "active"), again)


@requirement("ENTRA-USER-DUPLICATE", "OKTA-USER-DUPLICATE")
def test_create_duplicate(users, identities, requirement_id):
    """Creating the same userName twice is a conflict (409), not a second account."""
    body = identities.user_body()
    users.create(body)
    duplicate = copy.deepcopy(body)
    duplicate["externalId"] = f"{body.get('externalId', 'x')}-again"
    exchange = users.post(users.in_accepted_form(duplicate))
    # The 409 is what the IdP acts on. The Error's shape is RFC-ERROR-SCHEMA's, and scimType uniqueness
    # RFC-UNIQUENESS's (RFC 7644 §3.3), both in the advisory RFC section of an Entra report.
    expect.status(exchange, requirement_id, 409)


@requirement("ENTRA-USER-READ-AS-SENT")
def test_read_back_as_sent(scim, users, identities, declared, requirement_id):
    """The IdP reads the user back and compares every value with its own; anything reformatted looks changed."""
    user = users.create(identities.user_body())
    body = users.sent[user["id"]]  # what the server accepted: the IdP's body, or a plainer one it fell back to
    exchange = scim.get(f"/Users/{user['id']}")
    stored = expect.body(expect.status(exchange, requirement_id, 200), requirement_id)
    expect.equal(requirement_id, "id", user["id"], stored.get("id"), exchange)
    # Compared as the server declares them (RFC 7643 §2.2 caseExact); an attribute it never claimed to hold is not
    # a value it lost (ENTRA-SCHEMAS-MAPPED-ATTRIBUTES names those once).
    same = as_declared(lambda path: declared.case_exact("/Users", path), lambda path: declared.declares("/Users", path))
    wrong = unlike_sent(body, stored, same)
    if wrong:
        expect.fail(requirement_id, "every value sent (names and the enterprise extension included) read back "
                    "as sent", "; ".join(wrong), exchange)


@requirement("ENTRA-USER-UNKNOWN-404")
def test_get_unknown_user(scim, identities, requirement_id):
    """The IdP reads a linked user by id; an id that does not exist answers 404."""
    exchange = scim.get(f"/Users/{identities.unknown_id()}")
    expect.scim_error(exchange, requirement_id, 404)


@requirement("ENTRA-USER-ATTRIBUTES-RETURNED")
def test_accepted_attributes_returned(scim, users, identities, declared):
    """Everything Entra sent must be visible on a re-read, or Entra re-sends it every cycle."""
    user = users.create(identities.user_body())
    body = users.sent[user["id"]]
    exchange = scim.get(f"/Users/{user['id']}")
    stored = expect.body(expect.status(exchange, "ENTRA-USER-ATTRIBUTES-RETURNED", 200),
                         "ENTRA-USER-ATTRIBUTES-RETURNED")
    missing = [k for k, v in body.items() if k not in ("schemas", "meta", "password") and v not in ([], None)
               and declared.declares("/Users", k) and get_attribute(stored, k) is None]
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


@requirement("ENTRA-USER-DELETE-AGAIN-NO-5XX")
def test_delete_user_twice_no_server_error(scim, users, identities):
    """Entra repeats a DELETE whose answer it missed; a 5xx makes it retry until the user is escrowed."""
    again = delete_twice(scim, users, users.create(identities.user_body()))
    if again.status is not None and again.status >= 500:
        expect.fail("ENTRA-USER-DELETE-AGAIN-NO-5XX", "no 5xx to a DELETE of a user already deleted",
                    expect.describe(again), again)


@requirement("ENTRA-USER-DELETE-AGAIN")
def test_delete_user_twice(scim, users, identities):
    """A second DELETE of the same user answers 404."""
    again = delete_twice(scim, users, users.create(identities.user_body()))
    expect.scim_error(again, "ENTRA-USER-DELETE-AGAIN", 404)
