"""RFC 7643 §4.2 groups: members as the RFC describes them."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute
from scim_conformance.steps import group_with_one_member
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement


@requirement("RFC-GROUP-MEMBERS")
def test_members_described(scim, users, groups, identities):
    """A client creates a group with one user as member and reads it back."""
    rid = "RFC-GROUP-MEMBERS"
    user, _body, group = group_with_one_member(users, groups, identities)
    stored = reread(scim, "/Groups", group["id"], rid)
    members = [m for m in get_attribute(stored, "members") or [] if isinstance(m, dict)]
    if [get_attribute(m, "value") for m in members] != [user["id"]]:
        expect.fail(rid, f"one member, {user['id']}", f"members {members}")
    member = members[0]
    if get_attribute(member, "type") not in (None, "User"):  # optional, but when given it names the type
        expect.fail(rid, "member type User (or none)", f"type {get_attribute(member, 'type')!r}")
    ref = get_attribute(member, "$ref")
    if not isinstance(ref, str) or not ref.endswith(f"/Users/{user['id']}"):
        expect.fail(rid, f"member $ref ending in /Users/{user['id']}", f"$ref {ref!r}")
