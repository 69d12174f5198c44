"""Manager: a reference into the enterprise extension, written after both users exist."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import ENTERPRISE_USER, get_attribute
from scim_conformance.steps import patch
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
MANAGER = f"{ENTERPRISE_USER}:manager"


def _stored_manager(user):
    manager = get_attribute(get_attribute(user, ENTERPRISE_USER) or {}, "manager")
    return manager if manager not in ({}, None) else None


def _id_of(manager):
    return get_attribute(manager, "value") if isinstance(manager, dict) else manager


def _manager(scim, user_id, requirement_id):
    return _stored_manager(reread(scim, "/Users", user_id, requirement_id))


def _manager_id(scim, user_id, requirement_id):
    return _id_of(_manager(scim, user_id, requirement_id))


@pytest.fixture(autouse=True)
def _manager_declared(declared):
    """Every check here is about the enterprise manager: not applicable where the server does not declare it."""
    expect.declared_by(declared, "/Users", MANAGER)


def _with_manager(scim, dialect, user_id, manager_id):
    """Set the manager and read it back: the premise of changing or removing it.

    The IdP's own form first; when the server refuses it (ENTRA-MANAGER-SET reports that), the object form
    Microsoft's validator sends, so that changing and removing a manager are still judged.
    """
    manager, exchange = None, None
    for value in _manager_forms(dialect, manager_id):
        exchange = scim.patch(f"/Users/{user_id}", dialect.patch(dialect.operation("add", MANAGER, value)))
        stored = scim.get(f"/Users/{user_id}").json
        manager = _stored_manager(stored) if isinstance(stored, dict) else None
        if _id_of(manager) == manager_id:
            return
    expect.blocked(f"setting the manager did not take effect in the IdP's form or as an object (last PATCH "
                   f"answered {exchange.status if exchange else None}; a re-read shows manager {manager!r})")


def _manager_forms(dialect, manager_id):
    """The IdP's form of a manager value, then the object form when that is another."""
    own = dialect.manager_value(manager_id)
    return [own] if own == {"value": manager_id} else [own, {"value": manager_id}]


@requirement("ENTRA-MANAGER-SET")
def test_set_manager(scim, users, identities, dialect):
    """Entra adds the manager once both people exist, in its dialect's form."""
    boss, user = users.create(identities.user_body()), users.create(identities.user_body())
    patch(scim, "/Users", user["id"], "ENTRA-MANAGER-SET", dialect,
          dialect.operation("add", MANAGER, dialect.manager_value(boss["id"])))
    expect.equal("ENTRA-MANAGER-SET", "manager.value", boss["id"], _manager_id(scim, user["id"], "ENTRA-MANAGER-SET"))


@requirement("ENTRA-MANAGER-SET-OBJECT")
def test_set_manager_object(scim, users, identities, dialect):
    """Microsoft's validator sends the manager as an object with a value."""
    boss, user = users.create(identities.user_body()), users.create(identities.user_body())
    patch(scim, "/Users", user["id"], "ENTRA-MANAGER-SET-OBJECT", dialect,
          dialect.operation("add", MANAGER, {"value": boss["id"]}))
    expect.equal("ENTRA-MANAGER-SET-OBJECT", "manager.value", boss["id"],
                 _manager_id(scim, user["id"], "ENTRA-MANAGER-SET-OBJECT"))


@requirement("ENTRA-MANAGER-LEGACY")
def test_legacy_manager_form(scim, users, identities, dialect):
    """Old Microsoft examples add the manager on path manager with an array; apply it or refuse it cleanly."""
    boss, user = users.create(identities.user_body()), users.create(identities.user_body())
    exchange = scim.patch(f"/Users/{user['id']}", dialect.patch(dialect.operation(
        "add", "manager", [{"$ref": f"{scim.base_url}/Users/{boss['id']}", "value": boss["id"]}])))
    expect.status(exchange, "ENTRA-MANAGER-LEGACY", 200, 204, 400)
    if exchange.status != 400:
        expect.equal("ENTRA-MANAGER-LEGACY", "manager.value", boss["id"],
                     _manager_id(scim, user["id"], "ENTRA-MANAGER-LEGACY"))


@requirement("ENTRA-MANAGER-CHANGE")
def test_change_manager(scim, users, identities, dialect):
    """A new manager in Entra replaces the old one."""
    first, second = users.create(identities.user_body()), users.create(identities.user_body())
    user = users.create(identities.user_body())
    _with_manager(scim, dialect, user["id"], first["id"])
    patch(scim, "/Users", user["id"], "ENTRA-MANAGER-CHANGE", dialect,
          dialect.operation("replace", MANAGER, dialect.manager_value(second["id"])))
    expect.equal("ENTRA-MANAGER-CHANGE", "manager.value", second["id"],
                 _manager_id(scim, user["id"], "ENTRA-MANAGER-CHANGE"))


def _removed(scim, users, identities, dialect, removal, requirement_id):
    """Set a manager, send `removal`, and judge that no manager is left behind."""
    boss, user = users.create(identities.user_body()), users.create(identities.user_body())
    _with_manager(scim, dialect, user["id"], boss["id"])
    patch(scim, "/Users", user["id"], requirement_id, dialect, removal)
    manager = _manager(scim, user["id"], requirement_id)
    if manager is not None:
        expect.fail(requirement_id, "no manager", f"manager {manager!r}")


@requirement("ENTRA-MANAGER-REMOVE")
def test_remove_manager(scim, users, identities, dialect):
    """Microsoft's harness removes a manager by replacing it with ""; no manager may be left behind."""
    _removed(scim, users, identities, dialect, dialect.operation("replace", MANAGER, ""), "ENTRA-MANAGER-REMOVE")


@requirement("ENTRA-MANAGER-REMOVE-OBSERVED")
@pytest.mark.parametrize("form", ["empty-object", "remove-op"])
def test_remove_manager_observed(scim, users, identities, dialect, form):
    """Validator runs captured by third parties remove the manager as {"value": ""}, or with a remove op."""
    removal = dialect.operation("replace", MANAGER, {"value": ""}) if form == "empty-object" \
        else dialect.operation("remove", MANAGER)
    _removed(scim, users, identities, dialect, removal, "ENTRA-MANAGER-REMOVE-OBSERVED")
