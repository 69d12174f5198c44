"""RFC 7644 §3.3-§3.6 and §3.9: create, read, replace and delete, and the attributes a client asks for."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

import pytest

from scim_conformance import expect
from scim_conformance.attributes import ENTERPRISE_USER, ERROR, get_attribute
from scim_conformance.client import Exchange
from scim_conformance.resources import plain_body
from scim_conformance.steps import accepted_variant, group_with_one_member, lookup, text_attribute
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement


def _created(exchange: Exchange) -> dict[str, Any]:
    """The created resource, or blocked: these checks judge what a successful create says, not whether it succeeds."""
    data = exchange.json
    if exchange.status not in (200, 201) or not isinstance(data, dict) or not data.get("id"):
        expect.blocked(f"the create answered {expect.describe(exchange)}")
    return data


def _url(value: Any) -> Any:
    """A URL as the address it names: percent-encoding undone (%2D and - name the same resource, RFC 3986 §6.2.2)."""
    return unquote(value) if isinstance(value, str) else value


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@requirement("RFC-CREATE-201")
def test_create_answers_201(users, identities):
    """A client creates a plain RFC 7643 user."""
    expect.status(users.post(users.in_form("minimal", identities.user_body())), "RFC-CREATE-201", 201)


@requirement("RFC-CREATE-LOCATION")
def test_create_location_header(users, identities):
    """A client creates a user and reads its address from the Location header."""
    exchange = users.post(users.in_form("minimal", identities.user_body()))
    data = _created(exchange)
    location = (data.get("meta") or {}).get("location")
    expect.equal("RFC-CREATE-LOCATION", "Location header (meta.location, percent-decoded)", _url(location),
                 _url(exchange.header("Location")), exchange)


@requirement("RFC-META")
def test_create_meta(users, identities):
    """A client creates a user and reads the server's metadata about it."""
    rid = "RFC-META"
    exchange = users.post(users.in_form("minimal", identities.user_body()))
    data = _created(exchange)
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    expect.equal(rid, "meta.resourceType", "User", meta.get("resourceType"), exchange)
    created, modified = _datetime(meta.get("created")), _datetime(meta.get("lastModified"))
    if created is None or modified is None:
        expect.fail(rid, "meta.created and meta.lastModified as DateTimes",
                    f"created {meta.get('created')!r}, lastModified {meta.get('lastModified')!r}", exchange)
    if created != modified:
        expect.fail(rid, "lastModified equal to created on a resource never modified",
                    f"created {meta.get('created')}, lastModified {meta.get('lastModified')}", exchange)
    location = meta.get("location")
    if not isinstance(location, str) or not _url(location).endswith(f"/Users/{data['id']}"):
        expect.fail(rid, f"meta.location ending in /Users/{data['id']}", f"meta.location {location!r}", exchange)


@requirement("RFC-READ-UNKNOWN-404")
def test_read_unknown_id(scim, identities):
    """A client reads a user id that does not exist."""
    rid = "RFC-READ-UNKNOWN-404"
    exchange = scim.get(f"/Users/{identities.unknown_id()}")
    error = expect.scim_error(exchange, rid, 404)
    if error is None:
        expect.fail(rid, f"a SCIM Error body ({ERROR})", expect.describe(exchange), exchange)
    if str(error.get("status")) != "404":  # its JSON type is judged by RFC-ERROR-SCHEMA
        expect.fail(rid, 'Error status "404"', f"status {error.get('status')!r}", exchange)


@requirement("RFC-ATTRIBUTES")
def test_attributes_parameter(scim, users, identities, rfc_dialect, service_provider_config, declared):
    """A client asks for a few attributes of a user: by id, in a filtered list, and in a PATCH answer."""
    rid = "RFC-ATTRIBUTES"
    body = plain_body(identities.user_body())
    user = users.create(body)
    wanted = f"userName,name.givenName,{ENTERPRISE_USER}:department"
    exchange = scim.get(f"/Users/{user['id']}", params={"attributes": wanted}, partial=True)
    _only_asked_for(rid, expect.body(expect.status(exchange, rid, 200), rid), user["id"], exchange)
    if (service_provider_config.get("filter") or {}).get("supported") is True:
        listed = lookup(scim, "/Users", "userName", body["userName"], attributes=wanted)
        found = expect.list_response(listed, rid, total_results=1)
        _only_asked_for(rid, found[0], user["id"], listed)
    if (service_provider_config.get("patch") or {}).get("supported") is True:
        asked = text_attribute(declared, "nickName", "displayName")  # not among those the answer must leave out
        change = rfc_dialect.patch(rfc_dialect.operation("replace", asked, "Ace"))
        patched = scim.patch(f"/Users/{user['id']}", change, params={"attributes": asked}, partial=True)
        expect.status(patched, rid, 200, 204)
        if patched.status == 200:
            data = expect.body(patched, rid)
            expect.equal(rid, f"{asked} in the PATCH answer", "Ace", get_attribute(data, asked), patched)
            extra = sorted(k for k in ("emails", "title", "userName") if get_attribute(data, k) is not None)
            if extra:
                expect.fail(rid, f"only id and {asked} in the PATCH answer", f"also {', '.join(extra)}", patched)


def _only_asked_for(rid: str, data: dict[str, Any], user_id: str, exchange: Exchange) -> None:
    expect.equal(rid, "id (returned always)", user_id, data.get("id"), exchange)
    if get_attribute(data, "userName") is None or get_attribute(get_attribute(data, "name") or {}, "givenName") is None:
        expect.fail(rid, "userName and name.givenName", "one of them missing", exchange)
    extension = get_attribute(data, ENTERPRISE_USER) or {}
    extra = [k for k in ("emails", "title", "displayName", "phoneNumbers") if get_attribute(data, k) is not None]
    extra += [f"name.{k}" for k in ("familyName", "formatted") if get_attribute(get_attribute(data, "name") or {}, k)]
    extra += ["employeeNumber"] if get_attribute(extension, "employeeNumber") is not None else []
    if extra:
        expect.fail(rid, "only the requested attributes", f"also {', '.join(extra)}", exchange)


@requirement("RFC-EXCLUDED-ATTRIBUTES")
def test_excluded_attributes(scim, users, groups, identities):
    """A client reads a group with excludedAttributes=members."""
    rid = "RFC-EXCLUDED-ATTRIBUTES"
    _member, body, group = group_with_one_member(users, groups, identities)
    if not group.get("members"):
        expect.blocked("the group was created without the member it was sent with")
    exchange = scim.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"}, partial=True)
    data = expect.body(expect.status(exchange, rid, 200), rid)
    if get_attribute(data, "members"):
        expect.fail(rid, "no members", f"{len(get_attribute(data, 'members'))} member(s)", exchange)
    expect.equal(rid, "displayName", body["displayName"], get_attribute(data, "displayName"), exchange)


def _writable_strings(declared, urn: str) -> set[str]:
    """The single-valued string attributes of a User extension the server declares readWrite and returned by
    default; nothing when it declares no such extension (or no /Schemas at all), so nothing is judged."""
    kind = declared.resource_type("/Users")
    attributes = kind.schema_attributes(urn) if kind is not None else None
    return {a.name for a in attributes or () if a.type == "string" and not a.multi_valued
            and a.mutability == "readWrite" and a.returned in ("default", "always")}


@requirement("RFC-PUT-REPLACE")
def test_put_replaces(scim, users, identities, declared):
    """A client replaces a user with PUT: new title and displayName (those the server declares), new values of
    the enterprise extension attributes the server declares writable, a foreign id and meta in the body."""
    rid = "RFC-PUT-REPLACE"
    changes = {k: v for k, v in (("title", "Replaced Title"), ("displayName", "Replaced Name"))
               if declared.declares("/Users", k)}
    if not changes:
        expect.not_applicable("the server declares neither title nor displayName in /Schemas")
    body = plain_body(identities.user_body())
    user = users.create(body)
    body = users.sent[user["id"]]  # the form the server took, so that the PUT changes only what it is about
    body = {**body, **changes, "id": identities.unknown_id(),
            "meta": {"resourceType": "User", "created": "2001-01-01T00:00:00Z"}}
    extension = body.get(ENTERPRISE_USER)
    replaced = {}
    if isinstance(extension, dict):
        replaced = {name: f"Replaced {name}" for name in sorted(_writable_strings(declared, ENTERPRISE_USER)
                                                               & set(extension))}
        body[ENTERPRISE_USER] = {**extension, **replaced}
    expect.status(scim.put(f"/Users/{user['id']}", body), rid, 200)
    stored = reread(scim, "/Users", user["id"], rid)
    expect.equal(rid, "id", user["id"], stored.get("id"))
    for key, value in changes.items():
        expect.equal(rid, key, value, get_attribute(stored, key))
    for name, value in replaced.items():
        expect.equal(rid, f"{ENTERPRISE_USER}:{name}", value,
                     get_attribute(get_attribute(stored, ENTERPRISE_USER) or {}, name))


@requirement("RFC-WRITE-UNKNOWN-404")
def test_write_unknown_id(scim, users, identities, rfc_dialect, service_provider_config):
    """A client replaces and patches a user id that does not exist."""
    path = f"/Users/{identities.unknown_id()}"
    # No DELETE here: only what this run created is ever deleted (a DELETE of an unknown id is RFC-DELETE's second
    # delete of its own user). The PUT carries a body the server can take (its declared required attributes).
    answers = [scim.put(path, users.in_form("minimal", identities.user_body()))]
    if (service_provider_config.get("patch") or {}).get("supported") is True:
        answers.append(scim.patch(path, rfc_dialect.patch(rfc_dialect.operation("replace", "displayName", "Nobody"))))
    for exchange in answers:
        expect.scim_error(exchange, "RFC-WRITE-UNKNOWN-404", 404)


@requirement("RFC-DELETE")
def test_delete(scim, users, identities):
    """A client deletes a user, then reads it and deletes it again."""
    rid = "RFC-DELETE"
    user = users.create(plain_body(identities.user_body()))
    expect.status(users.delete(user["id"]), rid, 204)
    expect.scim_error(scim.get(f"/Users/{user['id']}"), rid, 404)
    expect.scim_error(scim.delete(f"/Users/{user['id']}"), rid, 404)


@requirement("RFC-CREATE-DECLARED")
def test_create_with_declared_address(scim, users, identities, declared):
    """A client creates a user with a work address, an attribute the server declares writable."""
    kind = declared.resource_type("/Users")
    found = kind.attribute("addresses") if kind is not None else None
    if found is None or found[0].mutability != "readWrite":
        expect.not_applicable("/Schemas does not declare the User attribute addresses as readWrite")
    address = {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
               "region": "CA", "postalCode": "91608", "country": "US"}
    body = accepted_variant(users, lambda: plain_body(identities.user_body()),
                            lambda b: b.update({"addresses": [address]}))
    expect.status(users.post(body), "RFC-CREATE-DECLARED", 201, 200)  # the status itself is RFC-CREATE-201's
