"""App roles: Entra's role assignments, in the shapes Microsoft documents for its role expressions.

These checks apply only when the profile maps `roles` (the default custom-app mappings do not).
"""

from __future__ import annotations

import json
import uuid

import pytest

from scim_conformance import expect
from scim_conformance.steps import patch, role_values
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement


@pytest.fixture(autouse=True)
def _roles_declared(declared):
    """Every check here is about roles: not applicable where the server does not declare them."""
    expect.declared_by(declared, "/Users", "roles")


@requirement("ENTRA-ROLES-JSON-STRING")
def test_add_role_as_json_string(scim, users, identities, dialect, profile):
    """SingleAppRoleAssignment and AppRoleAssignmentsComplex add a role on path roles, its value a JSON string."""
    role = profile.roles[-1] if profile.roles else "Admin"
    user = users.create(identities.user_body())
    element = json.dumps({"id": str(uuid.uuid4()), "value": role, "displayName": role})
    patch(scim, "/Users", user["id"], "ENTRA-ROLES-JSON-STRING", dialect,
          dialect.operation("add", "roles", [{"value": element}]))
    found = role_values(reread(scim, "/Users", user["id"], "ENTRA-ROLES-JSON-STRING"))
    # Kept as the string Entra sent, or unpacked to the role it names: either way the role is there.
    if element not in found and role not in found:
        expect.fail("ENTRA-ROLES-JSON-STRING", f"role {role!r} among the user's roles", f"roles {found}")


@requirement("ENTRA-ROLES-PRIMARY-FILTER")
def test_primary_role_filter_path(scim, users, identities, dialect, profile):
    """Advisory: a PATCH on roles[primary eq "True"].value, the mapping target, compares a boolean with "True"."""
    role = profile.roles[-1] if profile.roles else "Reader"
    user = users.create(identities.user_body())
    patch(scim, "/Users", user["id"], "ENTRA-ROLES-PRIMARY-FILTER", dialect,
          dialect.operation("replace", 'roles[primary eq "True"].value', role))
    expect.status(scim.get(f"/Users/{user['id']}"), "ENTRA-ROLES-PRIMARY-FILTER", 200)
