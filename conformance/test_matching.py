"""Matching: before every create, Entra asks whether the object exists, one eq filter per matching attribute."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute, parse_path, read
from scim_conformance.steps import holding, lookup, with_members

requirement = pytest.mark.requirement
WORK_EMAIL = 'emails[type eq "work"].value'


def _swap_case(value: str) -> str:
    return value.swapcase()


def _other_case(scim, endpoint, attribute, resource, requirement_id, **params):
    """Look `resource` up by `attribute` in another letter case, once the exact case is shown to work.

    The exact-case lookup runs first, beside a decoy of the same kind: unless it finds just the resource, the
    other case proves nothing (the exact-case lookup's own check judges that), and the check is blocked instead of
    failing twice.
    """
    exact = lookup(scim, endpoint, attribute, resource[attribute], **params)
    listed = exact.json.get("Resources") if exact.status == 200 and isinstance(exact.json, dict) else None
    if [r.get("id") for r in listed or [] if isinstance(r, dict)] != [resource["id"]]:
        expect.blocked(f"the exact-case lookup {attribute} eq \"{resource[attribute]}\" does not find just this "
                       f"{endpoint[1:-1].lower()}, as its own check reports: {expect.describe(exact)}")
    exchange = lookup(scim, endpoint, attribute, _swap_case(resource[attribute]), **params)
    found = expect.list_response(exchange, requirement_id)
    expect.equal(requirement_id, "ids found", [resource["id"]], [r.get("id") for r in found], exchange)


@requirement("ENTRA-MATCH-USERNAME", "OKTA-LOOKUP-USERNAME")
def test_lookup_by_username(scim, users, identities, dialect, requirement_id):
    """The IdP finds an existing user by userName, and links it only if exactly one answers."""
    user = users.create(identities.user_body())
    users.create(identities.user_body())  # a second user that must not answer the lookup
    exchange = lookup(scim, "/Users", "userName", user["userName"], dialect)
    resources = expect.list_response(exchange, requirement_id)
    expect.equal(requirement_id, "ids found", [user["id"]], [r.get("id") for r in resources], exchange)


@requirement("ENTRA-MATCH-USERNAME-CASE")
def test_lookup_by_username_other_case(scim, users, identities):
    """A userName that changed only in letter case in Entra still finds the same user."""
    user = users.create(identities.user_body())
    users.create(identities.user_body())  # a decoy the lookups must not find
    _other_case(scim, "/Users", "userName", user, "ENTRA-MATCH-USERNAME-CASE")


@requirement("ENTRA-MATCH-EXTERNALID")
def test_lookup_by_external_id(scim, users, identities, dialect):
    """With userName giving nothing, Entra tries the next matching attribute: externalId."""
    body = identities.user_body()
    user = users.create(body)
    stored = holding(scim, dialect, "/Users", user["id"], {"externalId": body.get("externalId") or user["userName"]})
    exchange = lookup(scim, "/Users", "externalId", get_attribute(stored, "externalId"))
    resources = expect.list_response(exchange, "ENTRA-MATCH-EXTERNALID")
    expect.equal("ENTRA-MATCH-EXTERNALID", "ids found", [user["id"]], [r.get("id") for r in resources], exchange)


@requirement("ENTRA-MATCH-EMAIL")
def test_lookup_by_work_email(scim, users, identities, dialect):
    """When email is a matching attribute, Entra filters on emails[type eq "work"].value (not RFC filter syntax)."""
    body = identities.user_body()
    user = users.create(body)
    stored = holding(scim, dialect, "/Users", user["id"], {WORK_EMAIL: read(body, parse_path(WORK_EMAIL))})
    email = read(stored, parse_path(WORK_EMAIL))
    exchange = lookup(scim, "/Users", 'emails[type eq "work"].value', email)
    resources = expect.list_response(exchange, "ENTRA-MATCH-EMAIL")
    expect.equal("ENTRA-MATCH-EMAIL", "ids found", [user["id"]], [r.get("id") for r in resources], exchange)


@requirement("ENTRA-MATCH-GROUP")
def test_lookup_group_excluding_members(scim, users, groups, identities, dialect):
    """Entra finds a group by displayName and asks the server to leave the members out."""
    member = users.create(identities.user_body())
    group = groups.create(identities.group_body())
    with_members(scim, dialect, group["id"], [member["id"]])
    groups.create(identities.group_body())
    exchange = lookup(scim, "/Groups", "displayName", group["displayName"], excludedAttributes="members")
    resources = expect.list_response(exchange, "ENTRA-MATCH-GROUP")
    expect.equal("ENTRA-MATCH-GROUP", "ids found", [group["id"]], [r.get("id") for r in resources], exchange)
    if any("members" in {k.lower() for k in r} for r in resources):
        expect.fail("ENTRA-MATCH-GROUP", "no members key (excludedAttributes=members)",
                    "members returned", exchange)


@requirement("ENTRA-MATCH-GROUP-CASE")
def test_lookup_group_other_case(scim, groups, identities):
    """A group name that differs only in letter case finds the same group."""
    group = groups.create(identities.group_body())
    groups.create(identities.group_body())  # a decoy the lookups must not find
    _other_case(scim, "/Groups", "displayName", group, "ENTRA-MATCH-GROUP-CASE", excludedAttributes="members")
