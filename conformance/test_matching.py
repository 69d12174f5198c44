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


@requirement("ENTRA-MATCH-USERNAME")
def test_lookup_by_username(scim, users, identities):
    """Entra finds an existing user by userName, and links it only if exactly one answers."""
    user = users.create(identities.user_body())
    users.create(identities.user_body())  # a second user that must not answer the lookup
    resources = expect.list_response(lookup(scim, "/Users", "userName", user["userName"]), "ENTRA-MATCH-USERNAME")
    ids = [r.get("id") for r in resources]
    expect.equal("ENTRA-MATCH-USERNAME", "ids found", [user["id"]], ids, scim.transcript[-1])


@requirement("ENTRA-MATCH-USERNAME-CASE")
def test_lookup_by_username_other_case(scim, users, identities):
    """A userName that changed only in letter case in Entra still finds the same user."""
    user = users.create(identities.user_body())
    exchange = lookup(scim, "/Users", "userName", _swap_case(user["userName"]))
    resources = expect.list_response(exchange, "ENTRA-MATCH-USERNAME-CASE")
    expect.equal("ENTRA-MATCH-USERNAME-CASE", "ids found", [user["id"]], [r.get("id") for r in resources], exchange)


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
    exchange = lookup(scim, "/Groups", "displayName", _swap_case(group["displayName"]),
                      excludedAttributes="members")
    resources = expect.list_response(exchange, "ENTRA-MATCH-GROUP-CASE")
    expect.equal("ENTRA-MATCH-GROUP-CASE", "ids found", [group["id"]], [r.get("id") for r in resources], exchange)
