"""A customer's own Entra configuration: custom email mappings, app roles and password sync."""

from __future__ import annotations

import json

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute, parse_path, read
from scim_conformance.steps import lookup, patch
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
HOME_PRIMARY = 'emails[type eq "home"].primary'
PRIMARY_ROLE = 'roles[primary eq "True"].value'


@requirement("TENANT-HOME-EMAIL")
def test_home_email_primary_created(scim, users, identities, dialect, profile):
    """The custom boolean mapping reaches the server as an add on a filtered path no element matches yet."""
    if profile.user_mapping(HOME_PRIMARY) is None:
        expect.not_applicable(f"profile {profile.name} does not map {HOME_PRIMARY}")
    body = identities.user_body()
    user = users.create(body)
    work = read(body, parse_path('emails[type eq "work"].value'))
    # False, not True: RFC 7643 §2.4 allows one primary email, and the work email already is it.
    patch(scim, "/Users", user["id"], "TENANT-HOME-EMAIL", dialect,
          dialect.operation("add", HOME_PRIMARY, dialect.boolean(False)))
    stored = reread(scim, "/Users", user["id"], "TENANT-HOME-EMAIL")
    expect.equal("TENANT-HOME-EMAIL", HOME_PRIMARY, False, read(stored, parse_path(HOME_PRIMARY)))
    expect.equal("TENANT-HOME-EMAIL", 'emails[type eq "work"].value', work,
                 read(stored, parse_path('emails[type eq "work"].value')))


def _roles(stored):
    return sorted(str(get_attribute(r, "value")) for r in get_attribute(stored, "roles") or [] if isinstance(r, dict))


@requirement("TENANT-ROLES")
def test_role_assign_change_remove(scim, users, identities, dialect, profile):
    """An app role is created with the user, changed from the first role to the second, and removed."""
    if len(profile.roles) < 2:
        expect.not_applicable(f"profile {profile.name} assigns fewer than two app roles")
    first, second = profile.roles[0], profile.roles[1]
    user = users.create(identities.user_body())
    expect.equal("TENANT-ROLES", "roles after create", [first],
                 _roles(reread(scim, "/Users", user["id"], "TENANT-ROLES")))
    patch(scim, "/Users", user["id"], "TENANT-ROLES", dialect, dialect.operation("replace", PRIMARY_ROLE, second))
    expect.equal("TENANT-ROLES", "roles after the change", [second],
                 _roles(reread(scim, "/Users", user["id"], "TENANT-ROLES")))
    patch(scim, "/Users", user["id"], "TENANT-ROLES", dialect,
          dialect.operation("remove", f'roles[value eq "{second}"]'))
    expect.equal("TENANT-ROLES", "roles after the removal", [],
                 _roles(reread(scim, "/Users", user["id"], "TENANT-ROLES")))


@requirement("RFC-PASSWORD-NEVER-RETURNED")
def test_password_never_returned(scim, users, identities, profile):
    """With password sync on, the create carries a password; no answer may ever show it."""
    if not profile.password_sync:
        expect.not_applicable(f"profile {profile.name} does not sync passwords")
    body = identities.user_body()
    scim.redact.add(body["password"])  # generated, but still a password: keep it out of the reports
    exchange = users.post(body)
    created = expect.body(expect.status(exchange, "RFC-PASSWORD-NEVER-RETURNED", 201, 200),
                          "RFC-PASSWORD-NEVER-RETURNED")
    answers = [exchange, scim.get(f"/Users/{created.get('id')}"), lookup(scim, "/Users", "userName", body["userName"])]
    for answer in answers:
        if "password" in json.dumps(answer.json).lower().replace("passwordsync", ""):
            expect.fail("RFC-PASSWORD-NEVER-RETURNED", "no password in the answer",
                        f"a password attribute in the answer to {answer.method} {answer.path}", answer)
