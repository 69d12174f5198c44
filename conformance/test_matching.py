"""Matching: before every create, Entra asks whether the object exists, one eq filter per matching attribute."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest

from scim_conformance import expect
from scim_conformance.attributes import AttributePath, get_attribute, parse_path, place, read
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


def _ids(exchange: Any) -> list[Any]:
    """The ids a lookup answered with (none when it is no ListResponse)."""
    data = exchange.json if exchange.status == 200 and isinstance(exchange.json, dict) else {}
    resources = data.get("Resources")
    return [r.get("id") for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []


def place_value(body: dict[str, Any], path: AttributePath, value: str) -> dict[str, Any]:
    place(body, path, value)
    return body


# Matching attributes that may hold a + (a userPrincipalName cannot).
_MAY_HOLD_PLUS = ("externalid", WORK_EMAIL.lower())


@requirement("ENTRA-MATCH-PLUS-SIGN")
def test_lookup_value_with_plus(scim, users, identities, dialect, profile):
    """Entra looks a user up by a matched value holding a + (first+tag@…), which goes out percent-encoded as %2B."""
    rid = "ENTRA-MATCH-PLUS-SIGN"
    target = next((t for t in profile.user_matching if t.lower() in _MAY_HOLD_PLUS), None)
    if target is None:
        expect.not_applicable(f"profile {profile.name} matches users on neither externalId nor the work email")
    path = parse_path(target)
    body = identities.user_body()
    local, _, domain = body["userName"].partition("@")
    value = f"{local.lower()}+tag@{domain}"
    user = users.create(place_value(body, path, value))
    stored = holding(scim, dialect, "/Users", user["id"], {target: value})
    if read(stored, path) != value:
        expect.blocked(f"{target} reads back as {read(stored, path)!r}, not as sent (judged by "
                       f"ENTRA-USER-READ-AS-SENT)")
    # A + that is part of the value can only travel as %2B, whichever way the spaces go (+ is
    # ENTRA-CONN-PROBE-ENCODING's): they go as %20 here, so that only the value's own + is judged.
    def found(wanted: str) -> Any:
        return scim.get("/Users", query="filter=" + quote(f'{target} eq "{wanted}"', safe='"@'))

    exchange = found(value)
    if _ids(exchange) != [user["id"]]:
        # The control: the same lookup for a value without a +. When that fails too, the lookup itself is broken.
        plain = value.replace("+", "-")
        control = users.create(place_value(identities.user_body(), path, plain))
        answer = found(plain)
        if _ids(answer) != [control["id"]]:
            expect.blocked(f"a lookup by {target} finds no user even without a + ({expect.describe(answer)}; "
                           f"judged by the {target} matching requirement)")
    resources = expect.list_response(exchange, rid)
    expect.equal(rid, f"ids found by {target}", [user["id"]], [r.get("id") for r in resources], exchange)


@requirement("ENTRA-FILTER-AND")
def test_and_filter(scim, users, identities):
    """Entra's check queries join two eq comparisons with and (id eq "…" and manager eq "…")."""
    rid = "ENTRA-FILTER-AND"
    user = users.create(identities.user_body())
    other = users.create(identities.user_body())
    both = scim.get("/Users", params={"filter": f'id eq "{user["id"]}" and userName eq "{user["userName"]}"'})
    resources = expect.list_response(both, rid)
    expect.equal(rid, "ids found when both comparisons hold", [user["id"]], [r.get("id") for r in resources], both)
    one = scim.get("/Users", params={"filter": f'id eq "{user["id"]}" and userName eq "{other["userName"]}"'})
    if one.status != 200:
        miss = lookup(scim, "/Users", "userName", str(uuid.uuid4()))
        if miss.status != 200:
            expect.blocked(f"a lookup that matches nothing answers {expect.describe(miss)} even without and "
                           f"(judged by ENTRA-CONN-PROBE-EMPTY)")
    expect.list_response(one, rid, total_results=0)


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
