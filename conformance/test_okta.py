"""What only Okta sends: its connector test, PUT of the whole user, Group Push's own PATCH shapes, imports.

Everything Okta does the way Entra does is judged by the shared checks of the capability modules, which
name an OKTA-* requirement beside the ENTRA-* one. Research notes: docs/research/okta.md.
"""

from __future__ import annotations

import copy
import uuid

import pytest

from scim_conformance import expect
from scim_conformance.attributes import ERROR, get_attribute
from scim_conformance.steps import lookup, patch, put, walk_pages
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
TEST_CONNECTOR_COUNT = 2  # Okta's Test Connector Configuration asks for GET /Users?startIndex=1&count=2


@requirement("OKTA-LIST-USERS")
def test_connector_lists_users(scim, users, identities):
    """Okta's Test Connector Configuration lists users: GET /Users?startIndex=1&count=2."""
    for _ in range(TEST_CONNECTOR_COUNT + 1):
        users.create(identities.user_body())
    # Only ids, unlike Okta: on a live tenant the first page holds other people, who must not land in a report.
    exchange = scim.get("/Users", params={"startIndex": 1, "count": TEST_CONNECTOR_COUNT, "attributes": "id"},
                        partial=True)
    page = expect.list_response(exchange, "OKTA-LIST-USERS")
    data = exchange.json
    for key, wanted in (("startIndex", 1), ("itemsPerPage", len(page))):
        expect.equal("OKTA-LIST-USERS", key, wanted, data.get(key), exchange)
    if len(page) > TEST_CONNECTOR_COUNT:
        expect.fail("OKTA-LIST-USERS", f"at most {TEST_CONNECTOR_COUNT} users (count)", f"{len(page)} users",
                    exchange)
    if any(not r.get("id") for r in page):
        expect.fail("OKTA-LIST-USERS", "every user with an id", "a user without one", exchange)


@requirement("OKTA-AUTH-401")
def test_wrong_token_scim_error(scim):
    """Okta's spec test sends a token the server never issued and expects a SCIM Error with a detail."""
    exchange = scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'},
                        token=f"not-a-valid-token-{uuid.uuid4().hex}")
    data = expect.body(expect.status(exchange, "OKTA-AUTH-401", 401), "OKTA-AUTH-401")
    if ERROR not in (data.get("schemas") or []) or not data.get("detail"):
        expect.fail("OKTA-AUTH-401", "a SCIM Error with a detail", expect.describe(exchange), exchange)


@requirement("OKTA-REQUEST-JSON")
def test_create_labelled_application_json(users, identities):
    """Okta's spec test creates its user with Content-Type application/json."""
    exchange = users.post(identities.user_body(), headers={"Content-Type": "application/json"})
    expect.status(exchange, "OKTA-REQUEST-JSON", 201, 200)


@requirement("OKTA-GROUP-LOOKUP")
def test_group_lookup(scim, groups, identities, dialect):
    """Group Push finds a group whose id it does not know by displayName, with startIndex=1&count=100."""
    group = groups.create(identities.group_body())
    groups.create(identities.group_body())  # a second group that must not answer the lookup
    exchange = lookup(scim, "/Groups", "displayName", group["displayName"], dialect)
    found = expect.list_response(exchange, "OKTA-GROUP-LOOKUP")
    expect.equal("OKTA-GROUP-LOOKUP", "ids found", [group["id"]], [g.get("id") for g in found], exchange)


def _read_premise(scim, endpoint, resource_id):
    """Okta reads the resource before it writes it back; a read that fails leaves nothing to judge."""
    exchange = scim.get(f"{endpoint}/{resource_id}")
    if exchange.status != 200 or not isinstance(exchange.json, dict):
        expect.blocked(f"reading {endpoint}/{resource_id} before the PUT answered {expect.describe(exchange)}")
    return copy.deepcopy(exchange.json)


def _as_okta_puts(resource, dialect):
    """The resource read back, as Okta sends it back: its own empty lists (groups []) included."""
    for attribute in dialect.empty_attributes.get("users", ()):
        resource.setdefault(attribute, [])
    return resource


@requirement("OKTA-PUT-REPLACE")
def test_put_profile_update(scim, users, identities, dialect):
    """A first name changed in Okta: Okta reads the user, changes name.givenName and PUTs the whole user back."""
    user = users.create(identities.user_body())
    body = _as_okta_puts(_read_premise(scim, "/Users", user["id"]), dialect)
    before = copy.deepcopy(body)
    new_given = f"{get_attribute(body.get('name') or {}, 'givenName') or 'Given'}update"
    body.setdefault("name", {})["givenName"] = new_given
    put(scim, "/Users", body, "OKTA-PUT-REPLACE")
    stored = reread(scim, "/Users", user["id"], "OKTA-PUT-REPLACE")
    expect.equal("OKTA-PUT-REPLACE", "name.givenName", new_given, get_attribute(stored.get("name") or {}, "givenName"))
    for key in ("userName", "emails", "externalId"):
        expect.equal("OKTA-PUT-REPLACE", key, get_attribute(before, key), get_attribute(stored, key))


@requirement("OKTA-PUT-OMITTED")
def test_put_leaves_out_cleared_value(scim, users, identities, dialect):
    """A title cleared in Okta: the next PUT no longer carries it."""
    body = identities.user_body()
    body["title"] = "Engineer"
    user = users.create(body)
    current = _read_premise(scim, "/Users", user["id"])
    if get_attribute(current, "title") != "Engineer":
        expect.blocked("the server did not keep the title it was sent")
    current = _as_okta_puts({k: v for k, v in current.items() if k.lower() != "title"}, dialect)
    answer = scim.put(f"/Users/{user['id']}", current)
    if answer.status != 200:
        expect.blocked(f"the PUT answered {expect.describe(answer)} (judged by the PUT check)")
    stored = reread(scim, "/Users", user["id"], "OKTA-PUT-OMITTED")
    if get_attribute(stored, "title") not in (None, ""):
        expect.fail("OKTA-PUT-OMITTED", "title absent or empty", f"title {get_attribute(stored, 'title')!r}")


def _members(scim, group_id, requirement_id):
    stored = reread(scim, "/Groups", group_id, requirement_id)
    return sorted(m.get("value") for m in get_attribute(stored, "members") or [] if isinstance(m, dict))


def _group_with(scim, groups, identities, dialect, members):
    """A pushed group holding `members` already (the premise of a membership change)."""
    group = groups.create(identities.group_body())
    added = scim.patch(f"/Groups/{group['id']}", dialect.patch(dialect.add_members(members)))
    if added.status not in (200, 204):
        expect.blocked(f"adding members answered {expect.describe(added)}")
    return group


@requirement("OKTA-GROUP-RENAME")
def test_group_rename_with_id(scim, groups, identities, dialect):
    """Okta renames a pushed group with a path-less replace that restates the group's id beside displayName."""
    group = groups.create(identities.group_body())
    new_name = f"{group['displayName']} renamed"
    patch(scim, "/Groups", group["id"], "OKTA-GROUP-RENAME", dialect,
          dialect.operation("replace", value={"id": group["id"], "displayName": new_name}))
    stored = reread(scim, "/Groups", group["id"], "OKTA-GROUP-RENAME")
    expect.equal("OKTA-GROUP-RENAME", "displayName", new_name, get_attribute(stored, "displayName"))


@requirement("OKTA-GROUP-MEMBERS-ONE-REQUEST")
def test_group_remove_and_add_in_one_patch(scim, users, groups, identities, dialect):
    """Okta batches a group's membership changes: one PATCH removes one member and adds another."""
    leaver, joiner = users.create(identities.user_body()), users.create(identities.user_body())
    group = _group_with(scim, groups, identities, dialect, [leaver])
    patch(scim, "/Groups", group["id"], "OKTA-GROUP-MEMBERS-ONE-REQUEST", dialect,
          *dialect.remove_members([leaver["id"]]), dialect.add_members([joiner]))
    expect.equal("OKTA-GROUP-MEMBERS-ONE-REQUEST", "member ids", [joiner["id"]],
                 _members(scim, group["id"], "OKTA-GROUP-MEMBERS-ONE-REQUEST"))


@requirement("OKTA-GROUP-PUSH-NOW")
def test_group_push_now(scim, users, groups, identities, dialect):
    """Push Now makes the app's group match Okta's: a replace on members with the whole list."""
    first, second, third = (users.create(identities.user_body()) for _ in range(3))
    group = _group_with(scim, groups, identities, dialect, [first, second])
    patch(scim, "/Groups", group["id"], "OKTA-GROUP-PUSH-NOW", dialect,
          dialect.operation("replace", "members", [dialect.member(m) for m in (second, third)]))
    expect.equal("OKTA-GROUP-PUSH-NOW", "member ids", sorted([second["id"], third["id"]]),
                 _members(scim, group["id"], "OKTA-GROUP-PUSH-NOW"))


def _import_count(dialect):
    return dialect.import_count or 100


@requirement("OKTA-IMPORT-USERS")
def test_import_users(scim, users, identities, dialect):
    """An import walks /Users with count=100, adding 100 to startIndex each time, until totalResults."""
    count = _import_count(dialect)
    created = [users.create(identities.user_body())["id"] for _ in range(count + 1)]
    walk_pages(scim, "/Users", "OKTA-IMPORT-USERS", created, count, advance_by_count=True)


@requirement("OKTA-IMPORT-GROUPS")
def test_import_groups(scim, groups, identities, dialect):
    """A group import walks /Groups the same way."""
    count = _import_count(dialect)
    created = [groups.create(identities.group_body())["id"] for _ in range(count + 1)]
    walk_pages(scim, "/Groups", "OKTA-IMPORT-GROUPS", created, count, advance_by_count=True)
