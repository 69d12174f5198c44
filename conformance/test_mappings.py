"""A tenant's own attribute mappings (an imported Entra schema) drive what is created, updated and cleared.

Each check walks the profile's mappings: every value is what the tenant's expressions yield for a
generated person, so a server is tried with exactly the attributes that tenant's Entra sends.
"""

from __future__ import annotations

from typing import Any

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_USER, read
from scim_conformance.profile import AttributeMapping, Profile
from scim_conformance.steps import lookup, patch
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
# Attributes with checks of their own: renames, deactivation, roles, passwords and references.
_OWN_CHECKS = {"username", "active", "roles", "password"}
# Types a /Schemas attribute may have for each mapping type (a reference target such as manager is complex).
_COMPATIBLE = {"string": {"string", "reference", "datetime", "binary"}, "boolean": {"boolean"},
               "integer": {"integer", "decimal"}, "reference": {"reference", "complex"}}


def _mapped(profile: Profile, *, updated: bool = False) -> list[AttributeMapping]:
    """The user mappings a check can judge on its own (for an update: those Entra sends on update too)."""
    return [m for m in profile.user_mappings
            if m.type != "reference" and m.path.attribute.lower() not in _OWN_CHECKS
            and (not updated or m.flow == "Always")]


def _not_applicable(profile: Profile, mappings: list[AttributeMapping]) -> None:
    if not mappings:
        expect.not_applicable(f"profile {profile.name} maps no attribute this check can judge")


def _created(users: Any, identities: Any, requirement_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user created from the tenant's own body (a fallback body would not say anything about the mappings)."""
    body = identities.user_body()
    user = users.create(body)
    if users.form != "idp":
        expect.blocked(f"the server refused the tenant's create body ({requirement_id} needs it)")
    return body, user


def _schema_attribute(schemas: list[dict[str, Any]], mapping: AttributeMapping) -> dict[str, Any] | None:
    urn = (mapping.path.schema or CORE_USER).lower()
    schema = next((s for s in schemas if str(s.get("id", "")).lower() == urn), None)
    attributes = (schema or {}).get("attributes") or []
    found = next((a for a in attributes if str(a.get("name", "")).lower() == mapping.path.attribute.lower()), None)
    # A multi-valued complex target without a sub-attribute (roles) holds its values in each element's value.
    sub = mapping.path.sub_attribute or ("value" if mapping.path.multi_valued else None)
    if found is None or sub is None or str(found.get("type", "")).lower() != "complex":
        return found
    subs = found.get("subAttributes") or []
    return next((s for s in subs if str(s.get("name", "")).lower() == sub.lower()), None)


@requirement("TENANT-MAPPED-SCHEMA")
def test_mapped_targets_in_schemas(scim, profile):
    """Every target the tenant maps is an attribute the server's /Schemas declares, with a type it can hold."""
    # externalId is a common attribute (RFC 7643 §3.1): part of every resource, not listed in a schema.
    mappings = [m for m in profile.user_mappings if m.path.attribute.lower() != "externalid" or m.path.schema]
    _not_applicable(profile, mappings)
    exchange = scim.get("/Schemas")
    if exchange.status != 200 or not isinstance(exchange.json, dict):
        expect.blocked(f"GET /Schemas answered {expect.describe(exchange)} (judged by ENTRA-SCHEMAS-DISCOVERY)")
    schemas = [s for s in exchange.json.get("Resources") or [] if isinstance(s, dict)]
    problems = []
    for mapping in mappings:
        attribute = _schema_attribute(schemas, mapping)
        if attribute is None:
            problems.append(f"{mapping.target}: not declared")
        elif str(attribute.get("type", "")).lower() not in _COMPATIBLE[mapping.type]:
            problems.append(f"{mapping.target}: type {attribute.get('type')!r} for a {mapping.type} mapping")
    if problems:
        expect.fail("TENANT-MAPPED-SCHEMA", f"all {len(mappings)} mapped targets declared with a compatible type",
                    "; ".join(problems), exchange)


@requirement("TENANT-MAPPED-CREATE")
def test_mapped_attributes_read_back(scim, users, identities, profile):
    """The create carries every mapped attribute with its evaluated value; a re-read returns each of them."""
    mappings = _mapped(profile)
    _not_applicable(profile, mappings)
    body, user = _created(users, identities, "TENANT-MAPPED-CREATE")
    stored = reread(scim, "/Users", user["id"], "TENANT-MAPPED-CREATE")
    sent = [m for m in mappings if read(body, m.path) is not None]
    wrong = [f"{m.target}: sent {read(body, m.path)!r}, read back {read(stored, m.path)!r}"
             for m in sent if read(stored, m.path) != read(body, m.path)]
    if wrong:
        expect.fail("TENANT-MAPPED-CREATE", f"each of the {len(sent)} mapped values read back as sent",
                    "; ".join(wrong))


def _updates(identities: Any, mappings: list[AttributeMapping], body: dict[str, Any]) -> dict[AttributeMapping, Any]:
    """What each mapping sends after the person changes in Entra: the tenant's expressions on a second person."""
    other = identities.source_user()
    changed = {}
    for mapping in mappings:
        value = identities.resolve(mapping, other)
        if value is not None and value != read(body, mapping.path) and not isinstance(value, list | dict):
            changed[mapping] = value
    return changed


@requirement("TENANT-MAPPED-UPDATE")
def test_mapped_attributes_update(scim, users, identities, dialect, profile):
    """For each mapping that flows on update, the change Entra sends as one replace is stored, as a re-read shows."""
    mappings = _mapped(profile, updated=True)
    _not_applicable(profile, mappings)
    body, user = _created(users, identities, "TENANT-MAPPED-UPDATE")
    changes = _updates(identities, mappings, body)
    wrong = []
    for mapping, value in changes.items():
        wire = dialect.boolean(value) if isinstance(value, bool) else value
        patch(scim, "/Users", user["id"], "TENANT-MAPPED-UPDATE", dialect,
              *dialect.replace_attributes({mapping.target: wire}))
        stored = reread(scim, "/Users", user["id"], "TENANT-MAPPED-UPDATE")
        if read(stored, mapping.path) != value:
            wrong.append(f"{mapping.target}: replaced with {value!r}, read back {read(stored, mapping.path)!r}")
    if wrong:
        expect.fail("TENANT-MAPPED-UPDATE", f"each of the {len(changes)} replaced values read back",
                    "; ".join(wrong))


@requirement("TENANT-MAPPED-CLEAR")
def test_mapped_attributes_clear(scim, users, identities, dialect, profile):
    """When a source is cleared, the empty and then the null update for its mapping each leave the attribute empty."""
    matching = {t.lower() for t in profile.user_matching}
    mappings = [m for m in _mapped(profile, updated=True)
                if m.target.lower() not in matching and m.path.attribute.lower() != "externalid"]
    _not_applicable(profile, mappings)
    wrong, cleared = [], 0
    for empty in ("", None):
        body, user = _created(users, identities, "TENANT-MAPPED-CLEAR")
        stored = reread(scim, "/Users", user["id"], "TENANT-MAPPED-CLEAR")
        # Only what the create stored can show a clear; the rest is TENANT-MAPPED-CREATE's to judge.
        present = [m for m in mappings if read(body, m.path) is not None and read(stored, m.path) == read(body, m.path)]
        for mapping in present:
            patch(scim, "/Users", user["id"], "TENANT-MAPPED-CLEAR", dialect,
                  *dialect.replace_attributes({mapping.target: empty}))
            cleared += 1
        stored = reread(scim, "/Users", user["id"], "TENANT-MAPPED-CLEAR")
        wrong += [f"{m.target}: after a replace with {'null' if empty is None else chr(34) * 2}, "
                  f"read back {read(stored, m.path)!r}" for m in present if read(stored, m.path) not in (None, "")]
    if not cleared:
        expect.blocked("no mapped value the create stored could be cleared")
    if wrong:
        expect.fail("TENANT-MAPPED-CLEAR", "each cleared attribute absent or empty on re-read", "; ".join(wrong))


# Matching attributes the matching checks already judge (ENTRA-MATCH-USERNAME, -EXTERNALID, -EMAIL).
_MATCHED_ELSEWHERE = {"username", "externalid", 'emails[type eq "work"].value'}


@requirement("TENANT-MATCH-ATTRIBUTES")
def test_matching_attributes_find_the_user(scim, users, identities, profile):
    """Entra looks the user up by each matching attribute in precedence order; each lookup must find it."""
    rest = [profile.user_mapping(t) for t in profile.user_matching if t.lower() not in _MATCHED_ELSEWHERE]
    mappings = [m for m in rest if m is not None]
    _not_applicable(profile, mappings)
    body, user = _created(users, identities, "TENANT-MATCH-ATTRIBUTES")
    stored = reread(scim, "/Users", user["id"], "TENANT-MATCH-ATTRIBUTES")
    for mapping in mappings:
        value = read(body, mapping.path)
        if value is None or read(stored, mapping.path) != value:
            expect.blocked(f"the create did not store {mapping.target} (judged by TENANT-MAPPED-CREATE)")
        exchange = lookup(scim, "/Users", mapping.target, str(value))
        found = expect.list_response(exchange, "TENANT-MATCH-ATTRIBUTES", total_results=1)
        expect.equal("TENANT-MATCH-ATTRIBUTES", f"id of the user found by {mapping.target}", user["id"],
                     found[0].get("id"), exchange)

