"""RFC 7644 §3.5.2 PATCH in the RFC's own words, when /ServiceProviderConfig advertises it."""

from __future__ import annotations

from typing import Any

import pytest

from scim_conformance import expect
from scim_conformance.attributes import ENTERPRISE_USER, get_attribute, parse_path, read
from scim_conformance.resources import plain_body
from scim_conformance.steps import advertised, patch, text_attribute
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement


@pytest.fixture(autouse=True)
def _patch_advertised(service_provider_config):
    advertised(service_provider_config, "patch")


def _types(stored: dict[str, Any], attribute: str) -> list[str]:
    return sorted(str(e.get("type")) for e in get_attribute(stored, attribute) or [] if isinstance(e, dict))


@requirement("RFC-PATCH-ADD")
def test_add(scim, users, identities, rfc_dialect, declared):
    """A client adds a home email and a role, adds a title the user already has, and a nickName without a path."""
    rid = "RFC-PATCH-ADD"
    expect.declared_by(declared, "/Users", "emails")
    user = users.create(plain_body(identities.user_body()))
    home = f"home.{user['userName']}"
    # Each kind of add on an attribute the server declares: a multi-valued one, an existing single value, no path.
    text = text_attribute(declared)
    pathless = declared.first("/Users", *(a for a in ("nickName", "displayName", "title") if a != text))
    roles = declared.declares("/Users", "roles")
    patch(scim, "/Users", user["id"], rid, rfc_dialect,
          rfc_dialect.operation("add", "emails", [{"type": "home", "value": home}]),
          *([rfc_dialect.operation("add", "roles", [{"value": "reader"}])] if roles else []),
          rfc_dialect.operation("add", text, "Added Title"),
          *([rfc_dialect.operation("add", value={pathless: "Addie"})] if pathless else []))
    stored = reread(scim, "/Users", user["id"], rid)
    expect.equal(rid, "email types", ["home", "work"], _types(stored, "emails"))
    expect.equal(rid, 'emails[type eq "home"].value', home, read(stored, parse_path('emails[type eq "home"].value')))
    if roles:
        got = [get_attribute(r, "value") for r in get_attribute(stored, "roles") or []]
        expect.equal(rid, "roles", ["reader"], got)
    expect.equal(rid, text, "Added Title", get_attribute(stored, text))
    if pathless:
        expect.equal(rid, pathless, "Addie", get_attribute(stored, pathless))


@requirement("RFC-PATCH-REPLACE")
def test_replace(scim, users, identities, rfc_dialect, declared):
    """A client replaces a title, a given name, the work email, active and the manager in one request."""
    rid = "RFC-PATCH-REPLACE"
    expect.declared_by(declared, "/Users", 'emails[type eq "work"].value', "active")
    manager = users.create(plain_body(identities.user_body()))
    user = users.create(plain_body(identities.user_body()))
    email = f"new.{user['userName']}"
    text = text_attribute(declared)
    with_manager = declared.declares("/Users", f"{ENTERPRISE_USER}:manager")
    patch(scim, "/Users", user["id"], rid, rfc_dialect,
          rfc_dialect.operation("replace", text, "Replaced Title"),
          rfc_dialect.operation("replace", "name.givenName", "Replaced"),
          rfc_dialect.operation("replace", 'emails[type eq "work"].value', email),
          rfc_dialect.operation("replace", "active", rfc_dialect.boolean(False)),
          *([rfc_dialect.operation("replace", f"{ENTERPRISE_USER}:manager", rfc_dialect.manager_value(manager["id"]))]
            if with_manager else []))
    stored = reread(scim, "/Users", user["id"], rid)
    expect.equal(rid, text, "Replaced Title", get_attribute(stored, text))
    expect.equal(rid, "name.givenName", "Replaced", read(stored, parse_path("name.givenName")))
    expect.equal(rid, 'emails[type eq "work"].value', email, read(stored, parse_path('emails[type eq "work"].value')))
    expect.equal(rid, "active", False, get_attribute(stored, "active"))
    if with_manager:
        expect.equal(rid, "manager.value", manager["id"], read(stored, parse_path(f"{ENTERPRISE_USER}:manager.value")))


@requirement("RFC-PATCH-REMOVE")
def test_remove(scim, users, identities, rfc_dialect, declared):
    """A client removes the title, the home email (by a value filter) and every phone number."""
    rid = "RFC-PATCH-REMOVE"
    expect.declared_by(declared, "/Users", "title", "emails", "phoneNumbers")
    body = plain_body(identities.user_body())
    body["emails"] = [*body.get("emails", []), {"type": "home", "value": f"home.{body['userName']}"}]
    user = users.create(body)
    if _types(user, "emails") != ["home", "work"] or not get_attribute(user, "phoneNumbers"):
        expect.blocked("the user was not created with a work and a home email and a phone number")
    patch(scim, "/Users", user["id"], rid, rfc_dialect,
          rfc_dialect.operation("remove", "title"),
          rfc_dialect.operation("remove", 'emails[type eq "home"]'),
          rfc_dialect.operation("remove", "phoneNumbers"))
    stored = reread(scim, "/Users", user["id"], rid)
    expect.equal(rid, "title", None, get_attribute(stored, "title"))
    expect.equal(rid, "email types", ["work"], _types(stored, "emails"))
    if get_attribute(stored, "phoneNumbers"):
        expect.fail(rid, "no phoneNumbers", f"phoneNumbers {get_attribute(stored, 'phoneNumbers')}")


@requirement("RFC-PATCH-ERRORS")
def test_errors(scim, users, identities, rfc_dialect):
    """A client sends five faulty PATCH requests, one mistake each."""
    rid = "RFC-PATCH-ERRORS"
    user = users.create(plain_body(identities.user_body()))
    faults = [
        ("remove without a path", rfc_dialect.operation("remove"), "noTarget"),
        ("a malformed path", rfc_dialect.operation("replace", 'emails[type eq "work"', "x"), "invalidPath"),
        ("a readOnly target", rfc_dialect.operation("replace", "id", identities.unknown_id()), "mutability"),
        ("a string for a boolean", rfc_dialect.operation("replace", "active", "maybe"), "invalidValue"),
        ("an unknown op", {"op": "frobnicate", "path": "title", "value": "x"}, None),
    ]
    for what, operation, scim_type in faults:
        exchange = scim.patch(f"/Users/{user['id']}", rfc_dialect.patch(operation))
        if exchange.status != 400:
            expect.fail(rid, f"400 to {what}", expect.describe(exchange), exchange)
        got = exchange.json.get("scimType") if isinstance(exchange.json, dict) else None
        if scim_type is not None and got != scim_type:
            expect.fail(rid, f"scimType {scim_type} for {what}", f"scimType {got!r}", exchange)


@requirement("RFC-PATCH-ATOMIC")
def test_atomic(scim, users, identities, rfc_dialect, declared):
    """A client sends a valid title change followed by an operation with a malformed path, in one request."""
    rid = "RFC-PATCH-ATOMIC"
    text = text_attribute(declared)
    body = plain_body(identities.user_body())
    user = users.create(body)
    before = get_attribute(user, text)
    exchange = scim.patch(f"/Users/{user['id']}", rfc_dialect.patch(
        rfc_dialect.operation("replace", text, "Half Applied"),
        rfc_dialect.operation("replace", 'emails[type eq "work"', "x")))
    if exchange.status is None or exchange.status < 400:
        expect.blocked(f"the invalid operation was accepted ({expect.describe(exchange)})")
    stored = reread(scim, "/Users", user["id"], rid)
    expect.equal(rid, f"{text} after the failed request", before, get_attribute(stored, text))
