"""RFC 7644 §4 discovery, and the schema characteristics it publishes put to work (RFC 7643 §2.2, §3.1)."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_USER
from scim_conformance.client import Exchange
from scim_conformance.resources import plain_body

requirement = pytest.mark.requirement


@requirement("RFC-DISCOVERY-SCHEMAS-ALL")
def test_schemas_cover_resource_types(scim, profile):
    """A client reads /ResourceTypes, then looks up in /Schemas every schema the resource types name."""
    rid = "RFC-DISCOVERY-SCHEMAS-ALL"
    types_exchange = scim.get("/ResourceTypes")
    types = expect.list_response(types_exchange, rid)
    endpoints = {str(t.get("endpoint")).lower() for t in types}
    wanted = {"/users"} | ({"/groups"} if profile.groups else set())
    if not wanted <= endpoints:
        expect.fail(rid, f"resource types for {', '.join(sorted(wanted))}", f"endpoints {sorted(endpoints)}",
                    types_exchange)
    named = {str(t.get("schema")) for t in types}
    named |= {str(e.get("schema")) for t in types for e in t.get("schemaExtensions") or [] if isinstance(e, dict)}
    schemas_exchange = scim.get("/Schemas")
    served = {str(s.get("id")).lower() for s in expect.list_response(schemas_exchange, rid)}
    missing = sorted(n for n in named if n.lower() not in served)
    if missing:
        expect.fail(rid, "every schema /ResourceTypes names in /Schemas", f"missing {', '.join(missing)}",
                    schemas_exchange)


@requirement("RFC-DISCOVERY-SINGLE")
def test_single_schema_and_resource_type(scim):
    """A client fetches the User schema by its URI and the User resource type by its id."""
    rid = "RFC-DISCOVERY-SINGLE"
    for path, wanted in ((f"/Schemas/{CORE_USER}", CORE_USER), ("/ResourceTypes/User", "User")):
        exchange = scim.get(path)
        data = expect.body(expect.status(exchange, rid, 200), rid)
        expect.equal(rid, f"id of {path}", wanted, data.get("id"), exchange)


def _core_user_schema(scim, rid: str) -> tuple[dict, Exchange]:
    """The core User schema as GET /Schemas lists it (what discovery clients read; the single one is optional)."""
    exchange = scim.get("/Schemas")
    found = [s for s in expect.list_response(exchange, rid) if s.get("id") == CORE_USER]
    if not found:
        expect.blocked(f"/Schemas does not list {CORE_USER} (RFC-DISCOVERY-SCHEMAS-ALL judges that)")
    return found[0], exchange


def _sub_attribute(schema: dict, attribute: str, sub: str) -> dict:
    parent = next((a for a in schema.get("attributes") or [] if str(a.get("name")).lower() == attribute.lower()), {})
    return next((a for a in parent.get("subAttributes") or [] if str(a.get("name")).lower() == sub.lower()), {})


@requirement("RFC-SCHEMA-PRIMARY-BOOLEAN")
def test_core_schema_primary_is_boolean(scim):
    """A client reads from the published User schema how to send the primary flag of an email."""
    rid = "RFC-SCHEMA-PRIMARY-BOOLEAN"
    schema, exchange = _core_user_schema(scim, rid)
    for attribute in ("emails", "phoneNumbers"):
        primary = _sub_attribute(schema, attribute, "primary")
        if primary:  # a server may leave a sub-attribute out; one it publishes has the RFC's type
            expect.equal(rid, f"{attribute}.primary type", "boolean", primary.get("type"), exchange)


@requirement("RFC-READONLY-IGNORED")
def test_client_id_and_meta_ignored(users, identities):
    """A client sends an id and meta of its own on create; id and meta are readOnly, so the server sets both."""
    rid = "RFC-READONLY-IGNORED"
    body = plain_body(identities.user_body())
    sent_id = identities.unknown_id()
    body["id"] = sent_id
    body["meta"] = {"resourceType": "User", "created": "2001-01-01T00:00:00Z", "lastModified": "2001-01-01T00:00:00Z"}
    exchange = users.post(body)
    if exchange.status == 400:
        return  # refusing the readOnly values outright also leaves them unset
    if exchange.status not in (200, 201):
        expect.blocked(f"the create answered {expect.describe(exchange)}")
    data = expect.body(exchange, rid)
    if data.get("id") == sent_id:
        expect.fail(rid, "an id assigned by the server", f"the id the client sent ({sent_id})", exchange)
    created = (data.get("meta") or {}).get("created")
    if isinstance(created, str) and created.startswith("2001-01-01"):
        expect.fail(rid, "meta.created set by the server", f"meta.created {created!r} as the client sent it",
                    exchange)


@requirement("RFC-REQUIRED-MISSING")
def test_required_attribute_missing(users, identities):
    """A client creates a user without userName, which the User schema marks required."""
    rid = "RFC-REQUIRED-MISSING"
    body = plain_body(identities.user_body())
    del body["userName"]
    exchange = users.post(body)
    expect.status(exchange, rid, 400)
    scim_type = exchange.json.get("scimType") if isinstance(exchange.json, dict) else None
    if scim_type is not None and scim_type != "invalidValue":
        expect.fail(rid, "scimType invalidValue (RFC 7644 Table 9)", f"scimType {scim_type!r}", exchange)


@requirement("RFC-UNIQUENESS")
def test_username_unique_in_any_case(users, identities):
    """A client creates a user, then a second one whose userName differs only in letter case."""
    rid = "RFC-UNIQUENESS"
    first = users.create(plain_body(identities.user_body()))
    second = users.in_accepted_form(plain_body(identities.user_body()))  # as the first one was taken
    second["userName"] = first["userName"].upper()
    exchange = users.post(second)
    expect.status(exchange, rid, 409)
    scim_type = exchange.json.get("scimType") if isinstance(exchange.json, dict) else None
    expect.equal(rid, "scimType", "uniqueness", scim_type, exchange)
