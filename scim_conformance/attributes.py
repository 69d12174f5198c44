"""What the suite knows of SCIM's User and Group attributes, and how it reads an attribute path.

Mappings in a profile name a target in the admin UI's words (`emails[type eq "work"].value`,
`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`); this module turns such a path
into its parts and places a value at that path inside a resource body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

# name -> sub-attributes (None for a simple attribute); "*" marks a multi-valued attribute.
# Names follow RFC 7643 §4.1 and §4.3; lookups are case-insensitive, as SCIM attribute names are.
_USER: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "username": (False, None),
    "externalid": (False, None),
    "displayname": (False, None),
    "nickname": (False, None),
    "profileurl": (False, None),
    "title": (False, None),
    "usertype": (False, None),
    "preferredlanguage": (False, None),
    "locale": (False, None),
    "timezone": (False, None),
    "active": (False, None),
    "password": (False, None),
    "name": (False, ("formatted", "familyName", "givenName", "middleName", "honorificPrefix",
                     "honorificSuffix")),
    "emails": (True, ("value", "display", "type", "primary")),
    "phonenumbers": (True, ("value", "display", "type", "primary")),
    "ims": (True, ("value", "display", "type", "primary")),
    "photos": (True, ("value", "display", "type", "primary")),
    "addresses": (True, ("formatted", "streetAddress", "locality", "region", "postalCode", "country",
                         "type", "primary")),
    "entitlements": (True, ("value", "display", "type", "primary")),
    "roles": (True, ("value", "display", "type", "primary")),
    "x509certificates": (True, ("value", "display", "type", "primary")),
}
_ENTERPRISE: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "employeenumber": (False, None),
    "costcenter": (False, None),
    "organization": (False, None),
    "division": (False, None),
    "department": (False, None),
    "manager": (False, ("value", "$ref", "displayName")),
}
_GROUP: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "displayname": (False, None),
    "externalid": (False, None),
    "members": (True, ("value", "$ref", "display", "type")),
}
_CANONICAL = {name.lower(): name for name in [
    "userName", "externalId", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage",
    "locale", "timezone", "active", "password", "name", "emails", "phoneNumbers", "ims", "photos", "addresses",
    "entitlements", "roles", "x509Certificates", "employeeNumber", "costCenter", "organization", "division",
    "department", "manager", "members",
]}

_PATH = re.compile(
    r"""^(?:(?P<urn>urn:[^\[\]]+):)?          # an extension URN before the attribute
        (?P<attr>[A-Za-z$][\w$-]*)
        (?:\[\s*(?P<fattr>\w+)\s+eq\s+"(?P<fval>[^"]*)"\s*\])?   # a value filter: [type eq "work"]
        (?:\.(?P<sub>[A-Za-z$][\w$]*))?$""",
    re.VERBOSE,
)


class AttributePathError(ValueError):
    """A mapping target that is not an attribute path the suite knows."""


@dataclass(frozen=True)
class AttributePath:
    """One parsed target path: `emails[type eq "work"].value` or `urn:…:User:employeeNumber`."""

    text: str
    schema: str | None  # the extension URN, None for the core schema
    attribute: str  # canonical (RFC) casing
    multi_valued: bool
    filter_attribute: str | None = None
    filter_value: str | None = None
    sub_attribute: str | None = None


def parse_path(text: str, resource: str = "User") -> AttributePath:
    match = _PATH.match(text.strip())
    if not match:
        raise AttributePathError(f"{text!r} is not a SCIM attribute path")
    urn, attr = match["urn"], match["attr"]
    if urn and urn.lower() == ENTERPRISE_USER.lower():
        table, schema = _ENTERPRISE, ENTERPRISE_USER
    elif urn and resource == "User" and urn.lower().startswith("urn:ietf:params:scim:schemas:extension:"):
        # A custom extension (RFC 7643 §3.3): its attributes are the tenant's own, any simple name goes.
        return AttributePath(text, urn, attr, False)
    elif urn:
        raise AttributePathError(f"{text!r}: unknown schema {urn!r}")
    else:
        table, schema = (_USER if resource == "User" else _GROUP), None
    known = table.get(attr.lower())
    if known is None:
        raise AttributePathError(f"{text!r}: {resource} has no attribute {attr!r}")
    multi, subs = known
    canonical = _CANONICAL.get(attr.lower(), attr)
    sub = match["sub"]
    if sub is not None:
        if subs is None:
            raise AttributePathError(f"{text!r}: {canonical} has no sub-attributes")
        by_lower = {s.lower(): s for s in subs}
        if sub.lower() not in by_lower:
            raise AttributePathError(f"{text!r}: {canonical} has no sub-attribute {sub!r}")
        sub = by_lower[sub.lower()]
    if match["fattr"] is not None and not multi:
        raise AttributePathError(f"{text!r}: a value filter needs a multi-valued attribute")
    return AttributePath(text, schema, canonical, multi, match["fattr"], match["fval"], sub)


def place(body: dict[str, Any], path: AttributePath, value: Any) -> None:
    """Put `value` at `path` in a resource body, the way an IdP groups mapped values into one element per type."""
    container = body.setdefault(path.schema, {}) if path.schema else body
    if path.multi_valued:
        elements: list[dict[str, Any]] = container.setdefault(path.attribute, [])
        element = next((e for e in elements if path.filter_attribute
                        and e.get(path.filter_attribute) == path.filter_value), None)
        if element is None:
            element = {path.filter_attribute: path.filter_value} if path.filter_attribute else {}
            elements.append(element)
        element[path.sub_attribute or "value"] = value
    elif path.sub_attribute:
        container.setdefault(path.attribute, {})[path.sub_attribute] = value
    else:
        container[path.attribute] = value


def read(resource: dict[str, Any], path: AttributePath) -> Any:
    """The value at `path` in a resource as a server returned it (attribute names matched case-insensitively)."""
    container: Any = resource
    if path.schema:
        container = _get(resource, path.schema) or {}
    value = _get(container, path.attribute)
    if path.multi_valued:
        elements = value if isinstance(value, list) else []
        if path.filter_attribute:
            elements = [e for e in elements if isinstance(e, dict)
                        and str(_get(e, path.filter_attribute)).lower() == str(path.filter_value).lower()]
        if not elements:
            return None
        element = elements[0]
        return _get(element, path.sub_attribute or "value") if isinstance(element, dict) else None
    if path.sub_attribute:
        return _get(value, path.sub_attribute) if isinstance(value, dict) else None
    return value


def _get(obj: Any, name: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    lowered = name.lower()
    return next((v for k, v in obj.items() if k.lower() == lowered), None)


get_attribute = _get

_TOP_LEVEL = {name for table in (_USER, _GROUP) for name in table} | {"schemas", "id", "meta", "groups"}
_SUB_ONLY = {sub.lower() for table in (_USER, _GROUP, _ENTERPRISE) for _, subs in table.values()
             for sub in subs or ()} - _TOP_LEVEL
_QUALIFIERS = (CORE_USER.lower(), CORE_GROUP.lower(), ENTERPRISE_USER.lower())


def path_shaped_keys(resource: dict[str, Any]) -> list[str]:
    """Top-level keys that are a PATCH path stored literally instead of applied.

    `urn:…:User:manager` (an attribute qualified by its schema), `name.givenName`, `emails[type eq "work"]`,
    a sub-attribute such as `Value` at the top, or `Emails` beside `emails`: a server that answers 200 and
    stores one of these has not made the change it was asked for.
    """
    declared = [s.lower() for s in resource.get("schemas") or [] if isinstance(s, str)]
    lowered = [k.lower() for k in resource]
    junk = []
    for key in resource:
        low = key.lower()
        if low.startswith("urn:"):
            shaped = "[" in key or any(low.startswith(f"{schema}:") for schema in (*_QUALIFIERS, *declared))
        else:
            shaped = (any(c in key for c in '.[]" ') or low in _SUB_ONLY
                      or (lowered.count(low) > 1 and key != _CANONICAL.get(low, key)))
        if shaped:
            junk.append(key)
    return junk


def primary_flag(value: Any) -> Any:
    """A returned 'primary' as a flag: left out or null means not primary (RFC 7643 §2.4), so it reads as false."""
    return False if value is None else value
