"""App roles: Entra's role assignments, in the shapes its expressions produce."""

from __future__ import annotations

import json
import uuid

import pytest

from scim_conformance import expect
from scim_conformance.steps import patch

requirement = pytest.mark.requirement


@requirement("ENTRA-ROLES-JSON-STRING")
def test_add_role_as_json_string(scim, users, identities, dialect, profile):
    """AppRoleAssignmentsComplex adds roles whose value is itself a JSON-encoded string."""
    role = profile.roles[0] if profile.roles else "Admin"
    user = users.create(identities.user_body())
    element = json.dumps({"id": str(uuid.uuid4()), "value": role, "displayName": role})
    patch(scim, "/Users", user["id"], "ENTRA-ROLES-JSON-STRING", dialect,
          dialect.operation("add", "roles", [{"value": element}]))


@requirement("ENTRA-ROLES-PRIMARY-FILTER")
def test_primary_role_filter_path(scim, users, identities, dialect, profile):
    """SingleAppRoleAssignment targets roles[primary eq "True"].value, comparing a boolean with a string."""
    role = profile.roles[-1] if profile.roles else "Reader"
    user = users.create(identities.user_body())
    patch(scim, "/Users", user["id"], "ENTRA-ROLES-PRIMARY-FILTER", dialect,
          dialect.operation("replace", 'roles[primary eq "True"].value', role))
    expect.status(scim.get(f"/Users/{user['id']}"), "ENTRA-ROLES-PRIMARY-FILTER", 200)
