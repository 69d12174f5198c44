"""User updates: Entra computes what changed and sends it as PATCH, in its own dialect."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import ENTERPRISE_USER, get_attribute, parse_path, read
from scim_conformance.steps import decisive_anyway, holding, lookup, patch
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
WORK_EMAIL = 'emails[type eq "work"].value'
# Simple attributes a check can change freely, in the order they are tried (name.givenName: declared everywhere).
SIMPLE = ("title", "displayName", "nickName", "name.givenName")
WORK_PHONE = 'phoneNumbers[type eq "work"].value'
# Single-valued attributes an add can set, Microsoft's example (nickName) first.
SINGLE_VALUED = ("nickName", "title", "displayName", "name.givenName")
MOBILE_PHONE = 'phoneNumbers[type eq "mobile"].value'


def _value(resource, path):
    return read(resource, parse_path(path))


def _defaults(body, *paths):
    """What the IdP's body holds at each path (for `holding`, should the accepted body lack them)."""
    return {p: _value(body, p) for p in paths}


def _stored_attribute(scim, dialect, declared, user_id):
    """A simple attribute the server declares and is shown to store: set by a plain lower-case replace, read back.

    Checks about op casing or clearing judge that attribute, so a server that ignores, say, title cannot
    look as if it mishandled the casing or the clearing.
    """
    tried = [p for p in SIMPLE if declared.declares("/Users", p)]
    for path in tried:
        value = f"Control {path}"
        scim.patch(f"/Users/{user_id}", dialect.patch({"op": "replace", "path": path, "value": value}))
        stored = scim.get(f"/Users/{user_id}").json
        if isinstance(stored, dict) and _value(stored, path) == value:
            return path
    expect.blocked(f"the server kept none of {', '.join(tried) or 'the declared ' + ', '.join(SIMPLE)} after a "
                   "lower-case replace")


@requirement("ENTRA-PATCH-OP-CASE")
@pytest.mark.parametrize("op", ["Replace", "REPLACE"])
def test_op_any_case(scim, users, identities, dialect, declared, op):
    """Entra's default dialect capitalises op; the flag dialect lower-cases it. Both are the same op."""
    user = users.create(identities.user_body())
    attribute = _stored_attribute(scim, dialect, declared, user["id"])
    value = f"Changed by {op}"
    exchange = scim.patch(f"/Users/{user['id']}", dialect.patch({"op": op, "path": attribute, "value": value}))
    expect.status(exchange, "ENTRA-PATCH-OP-CASE", 200, 204)
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-OP-CASE")
    expect.equal("ENTRA-PATCH-OP-CASE", attribute, value, _value(stored, attribute))


@requirement("ENTRA-PATCH-REPLACE-FILTERED")
def test_replace_work_email_and_family_name(scim, users, identities, dialect, declared):
    """A changed mail and surname in Entra arrive as replace ops on a filtered path and a dotted path."""
    expect.declared_by(declared, "/Users", WORK_EMAIL, "name.familyName")
    body = identities.user_body()
    user = users.create(body)
    new_email = f"new.{user['userName']}"
    operations = (dialect.operation("replace", 'emails[type eq "work"].value', new_email),
                  dialect.operation("replace", "name.familyName", "Leeward"))
    with decisive_anyway("ENTRA-PATCH-REPLACE-FILTERED",
                         lambda: scim.patch(f"/Users/{user['id']}", dialect.patch(*operations))):
        holding(scim, dialect, "/Users", user["id"], _defaults(body, WORK_EMAIL, "name.familyName"))
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-REPLACE-FILTERED", dialect, *operations)
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-REPLACE-FILTERED")
    expect.equal("ENTRA-PATCH-REPLACE-FILTERED", 'emails[type eq "work"].value', new_email,
                 _value(stored, 'emails[type eq "work"].value'))
    expect.equal("ENTRA-PATCH-REPLACE-FILTERED", "name.familyName", "Leeward", _value(stored, "name.familyName"))


@requirement("ENTRA-PATCH-RENAME")
def test_rename_user(scim, users, identities, dialect):
    """A UPN change renames the user; Entra's next lookup uses the new name."""
    user = users.create(identities.user_body())
    new_name = f"renamed.{user['userName']}"
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-RENAME", dialect,
          dialect.operation("replace", "userName", new_name))
    found = expect.list_response(lookup(scim, "/Users", "userName", new_name), "ENTRA-PATCH-RENAME")
    expect.equal("ENTRA-PATCH-RENAME", "ids found by the new userName", [user["id"]],
                 [r.get("id") for r in found], scim.transcript[-1])
    expect.no_match(lookup(scim, "/Users", "userName", user["userName"]), "ENTRA-PATCH-RENAME")


@requirement("ENTRA-PATCH-ADD-SINGLE")
def test_add_single_valued(scim, users, identities, dialect, declared):
    """Entra adds an attribute the target lacks, and uses add again when it cannot see the value."""
    # Microsoft's example adds nickName; what is judged is add on a single-valued attribute, whichever is declared.
    attribute = declared.first("/Users", *SINGLE_VALUED)
    if attribute is None:
        expect.not_applicable(f"the server declares none of {', '.join(SINGLE_VALUED)} in /Schemas")
    user = users.create(identities.user_body())
    for nick in ("Pat", "Patty"):
        patch(scim, "/Users", user["id"], "ENTRA-PATCH-ADD-SINGLE", dialect,
              dialect.operation("add", attribute, nick))
        stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-ADD-SINGLE")
        expect.equal("ENTRA-PATCH-ADD-SINGLE", attribute, nick, _value(stored, attribute))


@requirement("ENTRA-PATCH-FILTER-NO-MATCH")
def test_replace_filtered_path_without_match(scim, users, identities, dialect, declared):
    """A mobile number added in Entra arrives as a replace on phoneNumbers[type eq "mobile"] the user lacks."""
    expect.declared_by(declared, "/Users", MOBILE_PHONE, "phoneNumbers.type")
    body = identities.user_body()
    body["phoneNumbers"] = [p for p in body.get("phoneNumbers", []) if p.get("type") == "work"]
    user = users.create(body)
    change = dialect.patch(dialect.operation("replace", MOBILE_PHONE, "+1 555-0100"))
    with decisive_anyway("ENTRA-PATCH-FILTER-NO-MATCH", lambda: scim.patch(f"/Users/{user['id']}", change)):
        before = holding(scim, dialect, "/Users", user["id"], _defaults(body, WORK_PHONE))
    if _value(before, MOBILE_PHONE) is not None:
        expect.blocked("the user already has a mobile phone, so the filter would match")
    work = _value(before, WORK_PHONE)
    exchange = scim.patch(f"/Users/{user['id']}", change)
    if exchange.status == 400 and get_attribute(exchange.json, "scimType") == "noTarget":
        # What RFC 7644 §3.5.2.3 prescribes, but not what Entra expects in the field: an advisory deviation.
        expect.fail("ENTRA-PATCH-FILTER-NO-MATCH", "the mobile element created, as Entra expects (field reports)",
                    "400 noTarget, as RFC 7644 §3.5.2.3 prescribes; Entra retries the change every cycle", exchange)
    expect.status(exchange, "ENTRA-PATCH-FILTER-NO-MATCH", 200, 204)
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-FILTER-NO-MATCH")
    expect.equal("ENTRA-PATCH-FILTER-NO-MATCH", MOBILE_PHONE, "+1 555-0100", _value(stored, MOBILE_PHONE))
    expect.equal("ENTRA-PATCH-FILTER-NO-MATCH", WORK_PHONE, work, _value(stored, WORK_PHONE))


@requirement("ENTRA-PATCH-ENTERPRISE-PATH")
def test_enterprise_urn_paths(scim, users, identities, dialect, declared):
    """Department and employee number changes arrive on URN-qualified paths, one op each."""
    expect.declared_by(declared, "/Users", f"{ENTERPRISE_USER}:department", f"{ENTERPRISE_USER}:employeeNumber")
    user = users.create(identities.user_body())
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-ENTERPRISE-PATH", dialect,
          dialect.operation("replace", f"{ENTERPRISE_USER}:department", "Research"),
          dialect.operation("replace", f"{ENTERPRISE_USER}:employeeNumber", "E-77001"))
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-ENTERPRISE-PATH")
    extension = get_attribute(stored, ENTERPRISE_USER) or {}
    expect.equal("ENTRA-PATCH-ENTERPRISE-PATH", "enterprise department", "Research",
                 get_attribute(extension, "department"))
    expect.equal("ENTRA-PATCH-ENTERPRISE-PATH", "enterprise employeeNumber", "E-77001",
                 get_attribute(extension, "employeeNumber"))


@requirement("ENTRA-PATCH-PATH-CASE")
def test_path_in_mapping_casing(scim, users, identities, dialect, declared):
    """Entra's mapping table writes some sub-attributes with a capital letter (emails[type eq "work"].Value)."""
    expect.declared_by(declared, "/Users", WORK_EMAIL)
    body = identities.user_body()
    user = users.create(body)
    new_email = f"case.{user['userName']}"
    # Microsoft's table capitalises the sub-attribute only (emails[type eq "other"].Value); the work email is
    # the one every user has.
    operation = dialect.operation("replace", 'emails[type eq "work"].Value', new_email)
    with decisive_anyway("ENTRA-PATCH-PATH-CASE", lambda: scim.patch(f"/Users/{user['id']}", dialect.patch(operation))):
        holding(scim, dialect, "/Users", user["id"], _defaults(body, WORK_EMAIL))
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-PATH-CASE", dialect, operation)
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-PATH-CASE")
    expect.equal("ENTRA-PATCH-PATH-CASE", WORK_EMAIL, new_email, _value(stored, WORK_EMAIL))


@requirement("ENTRA-PATCH-REPLACE-SEVERAL")
def test_replace_several(scim, users, identities, dialect, declared):
    """Several changed attributes arrive together: one op each, or folded into one path-less replace."""
    user = users.create(identities.user_body())
    # What is judged is several changes in one request: those the server declares (name.givenName is everywhere).
    changes = {path: value for path, value in {
        "displayName": "Pat Q. Lee",
        "name.givenName": "Patricia",
        "name.familyName": "Lee-Quinn",
        f"{ENTERPRISE_USER}:employeeNumber": "E-10101",
    }.items() if declared.declares("/Users", path)}
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-REPLACE-SEVERAL", dialect, *dialect.replace_attributes(changes))
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-REPLACE-SEVERAL")
    for path, value in changes.items():
        expect.equal("ENTRA-PATCH-REPLACE-SEVERAL", path, value, _value(stored, path))


@requirement("ENTRA-PATCH-PATHLESS-USERNAME")
def test_pathless_username(scim, users, identities, dialect):
    """Microsoft's validator renames a user with a path-less replace."""
    user = users.create(identities.user_body())
    new_name = f"pathless.{user['userName']}"
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-PATHLESS-USERNAME", dialect,
          dialect.operation("replace", value={"userName": new_name}))
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-PATHLESS-USERNAME")
    expect.equal("ENTRA-PATCH-PATHLESS-USERNAME", "userName", new_name, get_attribute(stored, "userName"))


@requirement("ENTRA-PATCH-MULTI-OP")
def test_many_ops_one_request(scim, users, identities, dialect, declared):
    """A busy cycle sends every changed attribute of a user, active included, in one request."""
    body = identities.user_body()
    user = users.create(body)
    held = [p for p in ('addresses[type eq "work"].locality', 'addresses[type eq "work"].postalCode', WORK_PHONE)
            if declared.declares("/Users", p)]
    operations = [
        dialect.operation("replace", "displayName", "Multi Op"),
        dialect.operation("replace", "title", "Director"),
        dialect.operation("add", "nickName", "Multi"),
        dialect.operation("replace", "name.givenName", "Multi"),
        dialect.operation("replace", "name.familyName", "Op"),
        dialect.operation("replace", "name.formatted", "Multi Op"),
        dialect.operation("replace", "preferredLanguage", "fr-FR"),
        dialect.operation("replace", 'addresses[type eq "work"].locality', "Lyon"),
        dialect.operation("replace", 'addresses[type eq "work"].postalCode', "69001"),
        dialect.operation("replace", 'phoneNumbers[type eq "work"].value', "+33 4 00 00 00 00"),
        dialect.operation("replace", f"{ENTERPRISE_USER}:department", "Operations"),
        dialect.operation("replace", f"{ENTERPRISE_USER}:employeeNumber", "E-55555"),
        dialect.operation("replace", "externalId", f"{user.get('externalId', 'x')}-moved"),
        dialect.operation("replace", "active", dialect.boolean(False)),
    ]
    # What is judged is many operations in one request: only on attributes the server declares.
    operations = [o for o in operations if declared.declares("/Users", o["path"])]
    with decisive_anyway("ENTRA-PATCH-MULTI-OP", lambda: scim.patch(f"/Users/{user['id']}",
                                                                     dialect.patch(*operations))):
        holding(scim, dialect, "/Users", user["id"], _defaults(body, *held))
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-MULTI-OP", dialect, *operations)
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-MULTI-OP")
    for operation in operations:
        expected = operation["value"]
        if operation["path"] == "active":
            expected = False
        expect.equal("ENTRA-PATCH-MULTI-OP", operation["path"], expected, _value(stored, operation["path"]))


@requirement("ENTRA-PATCH-CLEAR")
@pytest.mark.parametrize("empty", ["", None], ids=["empty-string", "null"])
def test_clear_attribute(scim, users, identities, dialect, declared, empty):
    """Microsoft's gallery harness clears attributes with "" and with null; the value must be gone."""
    user = users.create(identities.user_body())
    attribute = _stored_attribute(scim, dialect, declared, user["id"])
    patch(scim, "/Users", user["id"], "ENTRA-PATCH-CLEAR", dialect, dialect.operation("replace", attribute, empty))
    stored = reread(scim, "/Users", user["id"], "ENTRA-PATCH-CLEAR")
    if _value(stored, attribute) not in (None, ""):
        expect.fail("ENTRA-PATCH-CLEAR", f"{attribute} absent or empty", f"{attribute} {_value(stored, attribute)!r}")


@requirement("ENTRA-PATCH-UNKNOWN-404")
def test_patch_unknown_user(scim, identities, dialect):
    """An update for a user that no longer exists answers 404."""
    exchange = scim.patch(f"/Users/{identities.unknown_id()}",
                          dialect.patch(dialect.operation("replace", "title", "Nobody")))
    expect.scim_error(exchange, "ENTRA-PATCH-UNKNOWN-404", 404)
