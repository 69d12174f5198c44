"""Groups: created empty, members added and removed by PATCH, matched by displayName."""

from __future__ import annotations

import copy

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute
from scim_conformance.steps import delete_twice, lookup, patch, with_members
from scim_conformance.steps import member_ids as stored_member_ids
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement


def _member_ids(scim, group_id, requirement_id):
    return stored_member_ids(reread(scim, "/Groups", group_id, requirement_id))


@requirement("ENTRA-GROUP-CREATE", "OKTA-GROUP-CREATE")
def test_create_group(groups, identities, requirement_id):
    """The IdP creates a group in its own words (Entra: its schema URI beside the core one; Okta: members [])."""
    expect.created(groups.post(identities.group_body()), requirement_id)


@requirement("ENTRA-GROUP-DUPLICATE")
def test_create_duplicate_group(groups, identities):
    """Entra requires group names to be unique in the app."""
    body = identities.group_body()
    groups.create(body)
    again = copy.deepcopy(body)
    again["externalId"] = identities.unknown_id()
    expect.scim_error(groups.post(groups.in_accepted_form(again)), "ENTRA-GROUP-DUPLICATE", 409)


@requirement("ENTRA-GROUP-GET-EXCLUDING-MEMBERS")
def test_get_group_excluding_members(scim, users, groups, identities, dialect):
    """Entra reads a group by id without its members."""
    member = users.create(identities.user_body())
    group = groups.create(identities.group_body())
    with_members(scim, dialect, group["id"], [member["id"]])
    exchange = scim.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"}, partial=True)
    data = expect.body(expect.status(exchange, "ENTRA-GROUP-GET-EXCLUDING-MEMBERS", 200),
                       "ENTRA-GROUP-GET-EXCLUDING-MEMBERS")
    if any(k.lower() == "members" for k in data):
        expect.fail("ENTRA-GROUP-GET-EXCLUDING-MEMBERS", "no members key", "members returned", exchange)


@requirement("ENTRA-GROUP-RENAME")
def test_rename_group(scim, groups, identities, dialect):
    """A renamed group in Entra arrives as a replace on displayName; the next lookup uses the new name."""
    group = groups.create(identities.group_body())
    new_name = f"{group['displayName']} renamed"
    patch(scim, "/Groups", group["id"], "ENTRA-GROUP-RENAME", dialect,
          dialect.operation("replace", "displayName", new_name))
    exchange = lookup(scim, "/Groups", "displayName", new_name, excludedAttributes="members")
    found = expect.list_response(exchange, "ENTRA-GROUP-RENAME")
    expect.equal("ENTRA-GROUP-RENAME", "ids found by the new name", [group["id"]], [g.get("id") for g in found],
                 exchange)


@requirement("ENTRA-GROUP-RENAME-PATHLESS", "RFC-PATCH-REPLACE-PATHLESS")
def test_rename_group_pathless(scim, groups, identities, dialect, requirement_id):
    """Microsoft's validator updates displayName and externalId with path-less replaces."""
    group = groups.create(identities.group_body())
    new_name, new_external = f"{group['displayName']} pathless", identities.unknown_id()
    patch(scim, "/Groups", group["id"], requirement_id, dialect,
          dialect.operation("replace", value={"displayName": new_name}),
          dialect.operation("replace", value={"externalId": new_external}))
    stored = reread(scim, "/Groups", group["id"], requirement_id)
    expect.equal(requirement_id, "displayName", new_name, get_attribute(stored, "displayName"))
    expect.equal(requirement_id, "externalId", new_external, get_attribute(stored, "externalId"))


@requirement("ENTRA-GROUP-ADD-MEMBER", "OKTA-GROUP-ADD-MEMBER", "RFC-GROUP-MEMBER-ADD")
def test_add_member(scim, users, groups, identities, dialect, requirement_id):
    """An assignment adds the user to the group: the user's id, with $ref null (Entra) or its display (Okta)."""
    member = users.create(identities.user_body())
    group = groups.create(identities.group_body())
    patch(scim, "/Groups", group["id"], requirement_id, dialect, dialect.add_members([member]))
    expect.equal(requirement_id, "member ids", [member["id"]], _member_ids(scim, group["id"], requirement_id))


@requirement("ENTRA-GROUP-ADD-MANY")
def test_add_fifty_members(scim, users, groups, identities, dialect):
    """Entra adds many memberships of one group in a single operation."""
    members = [users.create(identities.user_body()) for _ in range(50)]
    group = groups.create(identities.group_body())
    patch(scim, "/Groups", group["id"], "ENTRA-GROUP-ADD-MANY", dialect, dialect.add_members(members))
    found = _member_ids(scim, group["id"], "ENTRA-GROUP-ADD-MANY")
    if found != sorted(m["id"] for m in members):
        expect.fail("ENTRA-GROUP-ADD-MANY", "all 50 users as members", f"{len(found)} member(s)")


@requirement("ENTRA-GROUP-REMOVE-MEMBER", "OKTA-GROUP-REMOVE-MEMBER", "RFC-GROUP-MEMBER-REMOVE")
def test_remove_one_member(scim, users, groups, identities, dialect, requirement_id):
    """An unassignment removes one member, in the dialect's form, and nobody else."""
    first, second = users.create(identities.user_body()), users.create(identities.user_body())
    group = groups.create(identities.group_body())
    with_members(scim, dialect, group["id"], [first["id"], second["id"]])
    patch(scim, "/Groups", group["id"], requirement_id, dialect, *dialect.remove_members([first["id"]]))
    expect.equal(requirement_id, "member ids", [second["id"]], _member_ids(scim, group["id"], requirement_id))


@requirement("ENTRA-GROUP-ADD-REMOVE-ONE-REQUEST")
def test_add_then_remove_in_one_request(scim, users, groups, identities, dialect):
    """A quick assign-then-unassign reaches the server as one PATCH: add, then remove the same member."""
    member = users.create(identities.user_body())
    group = groups.create(identities.group_body())
    patch(scim, "/Groups", group["id"], "ENTRA-GROUP-ADD-REMOVE-ONE-REQUEST", dialect,
          dialect.add_members([member]),
          dialect.operation("remove", f'members[value eq "{member["id"]}"]'))
    expect.equal("ENTRA-GROUP-ADD-REMOVE-ONE-REQUEST", "member ids", [],
                 _member_ids(scim, group["id"], "ENTRA-GROUP-ADD-REMOVE-ONE-REQUEST"))


@requirement("ENTRA-GROUP-MEMBER-IDEMPOTENT")
def test_member_changes_repeated(scim, users, groups, identities, dialect):
    """After a timeout Entra repeats an add or a remove that may already have happened."""
    member, other = users.create(identities.user_body()), users.create(identities.user_body())
    group = groups.create(identities.group_body())
    for operations in ([dialect.add_members([member])], [dialect.add_members([member])],
                       dialect.remove_members([other["id"]])):
        exchange = scim.patch(f"/Groups/{group['id']}", dialect.patch(*operations))
        if exchange.status is not None and exchange.status >= 500:
            expect.fail("ENTRA-GROUP-MEMBER-IDEMPOTENT", "no 5xx to a repeated member change",
                        expect.describe(exchange), exchange)


@requirement("ENTRA-GROUP-DELETE", "OKTA-GROUP-DELETE")
def test_delete_group(scim, groups, identities, requirement_id):
    """Deleting the group in the IdP (Okta: unlinking a pushed group with delete) deletes it in the app."""
    group = groups.create(identities.group_body())
    expect.status(groups.delete(group["id"]), requirement_id, 204)
    expect.scim_error(scim.get(f"/Groups/{group['id']}"), requirement_id, 404)


@requirement("ENTRA-GROUP-DELETE-AGAIN-NO-5XX")
def test_delete_group_twice_no_server_error(scim, groups, identities):
    """Entra repeats a DELETE whose answer it missed; a 5xx makes it retry until the group is escrowed."""
    again = delete_twice(scim, groups, groups.create(identities.group_body()))
    if again.status is not None and again.status >= 500:
        expect.fail("ENTRA-GROUP-DELETE-AGAIN-NO-5XX", "no 5xx to a DELETE of a group already deleted",
                    expect.describe(again), again)


@requirement("ENTRA-GROUP-DELETE-AGAIN")
def test_delete_group_twice(scim, groups, identities):
    """A second DELETE of the same group answers 404."""
    again = delete_twice(scim, groups, groups.create(identities.group_body()))
    expect.scim_error(again, "ENTRA-GROUP-DELETE-AGAIN", 404)
