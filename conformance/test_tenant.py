"""A customer's own Entra configuration: custom email mappings, app roles and password sync."""

from __future__ import annotations

import json

import pytest

from scim_conformance import expect
from scim_conformance.attributes import parse_path, primary_flag, read
from scim_conformance.steps import accepted_variant, holding, lookup, patch, role_values
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
HOME_PRIMARY = 'emails[type eq "home"].primary'
WORK_EMAIL = 'emails[type eq "work"].value'


@requirement("TENANT-HOME-EMAIL")
def test_home_email_primary_created(scim, users, identities, dialect, profile, declared):
    """The custom boolean mapping reaches the server as an add on a filtered path no element matches yet."""
    if profile.user_mapping(HOME_PRIMARY) is None:
        expect.not_applicable(f"profile {profile.name} does not map {HOME_PRIMARY}")
    expect.declared_by(declared, "/Users", HOME_PRIMARY, WORK_EMAIL)
    body = identities.user_body()
    user = users.create(body)
    before = holding(scim, dialect, "/Users", user["id"], {WORK_EMAIL: read(body, parse_path(WORK_EMAIL))})
    work = read(before, parse_path(WORK_EMAIL))
    # False, not True: RFC 7643 §2.4 allows one primary email, and the work email already is it.
    patch(scim, "/Users", user["id"], "TENANT-HOME-EMAIL", dialect,
          dialect.operation("add", HOME_PRIMARY, dialect.boolean(False)))
    stored = reread(scim, "/Users", user["id"], "TENANT-HOME-EMAIL")
    if read(stored, parse_path('emails[type eq "home"].type')) is None:
        expect.fail("TENANT-HOME-EMAIL", 'an emails element of type "home"', "none")
    expect.equal("TENANT-HOME-EMAIL", HOME_PRIMARY, False, primary_flag(read(stored, parse_path(HOME_PRIMARY))))
    expect.equal("TENANT-HOME-EMAIL", WORK_EMAIL, work, read(stored, parse_path(WORK_EMAIL)))


@requirement("TENANT-ROLES")
def test_role_on_create(scim, users, identities, profile, declared):
    """SingleAppRoleAssignment sends the user's app role with the create, as one primary role object."""
    if not profile.roles:
        expect.not_applicable(f"profile {profile.name} assigns no app role")
    expect.declared_by(declared, "/Users", "roles")
    roles = identities.user_body()["roles"]  # the one primary role object the create carries
    # Sent with the rest of the body the server takes, so a refusal of some other attribute cannot hide it.
    exchange = users.post(accepted_variant(users, identities.user_body, lambda body: body.update({"roles": roles})))
    user = expect.created(exchange, "TENANT-ROLES")
    expect.equal("TENANT-ROLES", "roles after create", [profile.roles[0]],
                 role_values(reread(scim, "/Users", user["id"], "TENANT-ROLES")))


@requirement("RFC-PASSWORD-NEVER-RETURNED")
def test_password_never_returned(scim, users, identities, profile):
    """With password sync on, the create carries a password; no answer may ever show it."""
    if not profile.password_sync:
        expect.not_applicable(f"profile {profile.name} does not sync passwords")
    passwords: list[str] = []

    def with_password() -> dict:
        body = identities.user_body()
        scim.redact.add(body["password"])  # generated, but still a password: keep it out of the reports
        passwords.append(body["password"])
        return body

    body = accepted_variant(users, with_password, lambda b: b.update({"password": passwords[-1]}))
    exchange = users.post(body)
    if exchange.status not in (200, 201):
        # Refusing the create is judged by the create checks; with no user, no answer can show a password.
        expect.blocked(f"the create answered {expect.describe(exchange)}")
    created = expect.created(exchange, "RFC-PASSWORD-NEVER-RETURNED")
    answers = [exchange, scim.get(f"/Users/{created.get('id')}"), lookup(scim, "/Users", "userName", body["userName"])]
    for answer in answers:
        if "password" in json.dumps(answer.json).lower().replace("passwordsync", ""):
            expect.fail("RFC-PASSWORD-NEVER-RETURNED", "no password in the answer",
                        f"a password attribute in the answer to {answer.method} {answer.path}", answer)
