"""Deactivation: unassigning or disabling someone in Entra turns into active=false on the app's user."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute
from scim_conformance.steps import lookup, patch
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement


def _active(scim, user_id, requirement_id):
    return get_attribute(reread(scim, "/Users", user_id, requirement_id), "active")


@requirement("ENTRA-DEACTIVATE")
def test_deactivate(scim, users, identities, dialect):
    """Entra disables the user with a replace of active, worded in its dialect ("False" or false)."""
    user = users.create(identities.user_body())
    patch(scim, "/Users", user["id"], "ENTRA-DEACTIVATE", dialect,
          dialect.operation("replace", "active", dialect.boolean(False)))
    expect.equal("ENTRA-DEACTIVATE", "active", False, _active(scim, user["id"], "ENTRA-DEACTIVATE"))


@requirement("ENTRA-DEACTIVATE-ADD")
def test_deactivate_with_add(scim, users, identities, dialect):
    """When Entra cannot see active on the target it words the same change as add."""
    user = users.create(identities.user_body())
    patch(scim, "/Users", user["id"], "ENTRA-DEACTIVATE-ADD", dialect,
          dialect.operation("add", "active", dialect.boolean(False)))
    expect.equal("ENTRA-DEACTIVATE-ADD", "active", False, _active(scim, user["id"], "ENTRA-DEACTIVATE-ADD"))


@requirement("ENTRA-REACTIVATE")
def test_reactivate(scim, users, identities, dialect):
    """Restoring the user in Entra sets active back to true."""
    user = users.create(identities.user_body())
    first = scim.patch(f"/Users/{user['id']}",
                       dialect.patch(dialect.operation("replace", "active", dialect.boolean(False))))
    again = scim.get(f"/Users/{user['id']}")
    if (get_attribute(again.json, "active") if isinstance(again.json, dict) else None) is not False:
        expect.blocked(f"the deactivation to undo did not take effect (PATCH answered {first.status}; "
                       f"a re-read answered {expect.describe(again)})")
    patch(scim, "/Users", user["id"], "ENTRA-REACTIVATE", dialect,
          dialect.operation("replace", "active", dialect.boolean(True)))
    expect.equal("ENTRA-REACTIVATE", "active", True, _active(scim, user["id"], "ENTRA-REACTIVATE"))


@requirement("ENTRA-DEACTIVATED-READABLE")
def test_deactivated_user_stays_readable(scim, users, identities, dialect):
    """A disabled user is a soft delete: Entra still reads it by id and finds it by userName."""
    user = users.create(identities.user_body())
    first = scim.patch(f"/Users/{user['id']}",
                       dialect.patch(dialect.operation("replace", "active", dialect.boolean(False))))
    by_id = scim.get(f"/Users/{user['id']}")
    stored = expect.body(expect.status(by_id, "ENTRA-DEACTIVATED-READABLE", 200), "ENTRA-DEACTIVATED-READABLE")
    # A server that hides active cannot show the deactivation; one that shows active true never did it.
    if first.status not in (200, 204) or get_attribute(stored, "active") in (True, "True", "true"):
        expect.blocked(f"the deactivation did not take effect (PATCH answered {first.status}; "
                       f"active reads {get_attribute(stored, 'active')!r})")
    exchange = lookup(scim, "/Users", "userName", user["userName"])
    found = expect.list_response(exchange, "ENTRA-DEACTIVATED-READABLE")
    expect.equal("ENTRA-DEACTIVATED-READABLE", "ids found", [user["id"]], [r.get("id") for r in found], exchange)
