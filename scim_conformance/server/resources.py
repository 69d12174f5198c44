"""Cleaning incoming resource bodies against the schema, and projecting stored documents for output.

Cleaning is tolerant where real IdPs are sloppy (unknown attributes dropped, JSON null = absent, string
booleans coerced, read-only input ignored) and strict where the input cannot mean anything (wrong types).
The same cleaning runs on create and PUT bodies and on the result of a PATCH, so every stored document
has one canonical shape.
"""

from __future__ import annotations

import json
from typing import Any

from .defects import Defects
from .errors import ScimError, invalid_value
from .filters import get_ci
from .quirks import SPECIAL_USE_TLDS, Quirks
from .schemas import COMMON_ATTRIBUTES, CORE_GROUP, MS_GROUP, AttrDef, ResourceType, find_attr

# Keys the server owns: whatever a client sends for them is ignored.
SERVER_OWNED = frozenset({"id", "meta", "schemas"})
_STRING_TYPES = frozenset({"string", "reference", "dateTime", "binary"})


def is_schema_urn(key: str) -> bool:
    """``urn:...:2.0:User`` names an extension object itself, not an attribute inside one."""
    if not key.lower().startswith("urn:"):
        return False
    parts = key.split(":")
    return len(parts) >= 3 and parts[-1].lower() in ("user", "group") and parts[-2].replace(".", "").isdigit()


def contains_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(contains_null(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_null(v) for v in value)
    return False


class Cleaner:
    def __init__(self, rtype: ResourceType, defects: Defects, quirks: Quirks | None = None) -> None:
        self.rtype = rtype
        self.defects = defects
        self.quirks = quirks if quirks is not None else Quirks()

    def clean(
        self,
        body: Any,
        *,
        listed_schemas: list[str] | None = None,
        keep_unknown: bool = False,
    ) -> dict[str, Any]:
        """Return the attribute content of a resource (no id/meta/schemas) in canonical form.

        ``listed_schemas`` is the client's ``schemas`` array when the body came from a client;
        ``keep_unknown`` keeps top-level keys no schema knows (a PATCH result carries the stored document's
        keys through unchanged).
        """
        if not isinstance(body, dict):
            raise ScimError(400, "a resource must be a JSON object", "invalidSyntax")
        out: dict[str, Any] = {}
        items = list(body.items())
        core = next((v for k, v in items if k.lower() == self.rtype.core.id.lower()), None)
        if isinstance(core, dict):
            # Attributes may also come URN-qualified under the core schema's own key.
            items = [(k, v) for k, v in items if k.lower() != self.rtype.core.id.lower()] + list(core.items())
        for key, value in items:
            if key.lower() in SERVER_OWNED:
                continue
            if is_schema_urn(key):
                self._extension(key, value, listed_schemas, out)
                continue
            attr = self.rtype.attribute(None, key)
            if attr is None:
                if keep_unknown:
                    out[key] = value
                continue
            if attr.mutability == "readOnly" or attr.name in SERVER_OWNED:
                continue
            cleaned = self._value(attr, value, attr.name)
            if cleaned is not None:
                out[attr.name] = cleaned
        self._resource_rules(out)
        return out

    def _extension(self, key: str, value: Any, listed: list[str] | None, out: dict[str, Any]) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            raise invalid_value(f"the extension {key} must be a JSON object")
        if (
            listed is not None
            and key.lower() not in {s.lower() for s in listed if isinstance(s, str)}
            and self.defects.on("reject-unlisted-extension")
        ):
            raise invalid_value(f"the extension {key} is not listed in schemas")
        ext = self.rtype.extension(key)
        if ext is None and key.lower() in self.rtype.ignored:
            return  # an extension this server does not declare (quirk no-enterprise-extension): dropped
        if ext is None:
            # A custom extension we have no schema for: kept as sent, minus nulls.
            kept = {k: v for k, v in value.items() if v is not None}
            if kept:
                out[key] = kept
            return
        cleaned: dict[str, Any] = {}
        for name, item in value.items():
            attr = find_attr(ext.attributes, name)
            if attr is None or attr.mutability == "readOnly":
                continue
            if attr.name == "manager":
                item = self._manager(item)
            result = self._value(attr, item, f"{ext.id}:{attr.name}")
            if result is not None:
                cleaned[attr.name] = result
        if cleaned:
            out[ext.id] = cleaned

    def _manager(self, value: Any) -> Any:
        # Entra sets a manager as a bare id, as {"value": id} or (legacy) as a one-element list.
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str):
            value = {"value": value}
        # An emptied manager means "no manager" (Entra's way of removing it).
        if (
            isinstance(value, dict)
            and get_ci(value, "value") in (None, "")
            and not self.defects.on("manager-empty-kept")
        ):
            return None
        return value

    def _value(self, attr: AttrDef, value: Any, where: str) -> Any:
        if value is None:
            return None
        if attr.multi_valued:
            if not isinstance(value, list):
                raise invalid_value(f"{where} is multi-valued and must be a JSON array")
            items = [self._single(attr, item, where) for item in value]
            items = [item for item in items if item is not None]
            return items or None
        return self._single(attr, value, where)

    def _single(self, attr: AttrDef, value: Any, where: str) -> Any:
        if value is None:
            return None
        if attr.type == "complex":
            if not isinstance(value, dict):
                raise invalid_value(f"{where} must be a JSON object")
            out: dict[str, Any] = {}
            for key, item in value.items():
                sub = attr.sub(key)
                if sub is None:
                    continue
                cleaned = self._single(sub, item, f"{where}.{sub.name}")
                if cleaned is not None:
                    out[sub.name] = cleaned
            return out or None
        if attr.type == "boolean":
            return self._boolean(value, where)
        if attr.type in _STRING_TYPES:
            if not isinstance(value, str):
                raise invalid_value(f"{where} must be a string")
            if self.defects.on("non-ascii-as-question-mark"):
                return value.encode("ascii", "replace").decode("ascii")
            return value
        if attr.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise invalid_value(f"{where} must be an integer")
            return value
        if attr.type == "decimal":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise invalid_value(f"{where} must be a number")
            return value
        return value

    def _boolean(self, value: Any, where: str) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            # Entra's default mappings produce "True"/"False" strings for booleans.
            if self.defects.on("reject-string-booleans"):
                raise invalid_value(f"{where} must be a JSON boolean, not the string {value!r}")
            if self.defects.on("store-string-booleans"):
                return value
            return value.lower() == "true"
        raise invalid_value(f"{where} must be a boolean")

    def _resource_rules(self, out: dict[str, Any]) -> None:
        if self.rtype.name == "User":
            missing = not isinstance(out.get("userName"), str) or not out["userName"].strip()
            if missing and not self.defects.on("required-not-enforced"):
                raise invalid_value("userName is required")
            name = out.get("name")
            formatted = name.get("formatted") if isinstance(name, dict) else None
            if self.quirks.on("name-formatted-required") and not str(formatted or "").strip():
                raise invalid_value("name.formatted is required")
            if self.quirks.on("strict-email-domains"):
                addresses = [("userName", out["userName"])] + [
                    (f"emails[{i}].value", e.get("value")) for i, e in enumerate(out.get("emails", []))]
                for where, address in addresses:
                    if isinstance(address, str) and "@" in address and _special_use(address):
                        raise invalid_value(f"{where}: {address!r} is on a special-use domain that cannot receive mail")
            if "phoneNumbers" in out and self.defects.on("reformat-phone"):
                for phone in out["phoneNumbers"]:
                    if isinstance(phone.get("value"), str):
                        phone["value"] = phone["value"].replace(" ", "").replace("-", "")
            if "roles" in out:
                if self.defects.on("roles-ignored"):
                    del out["roles"]
                elif self.defects.on("roles-json-string-rejected") and any(
                    _json_object_string(role.get("value")) for role in out["roles"]
                ):
                    raise invalid_value("roles[].value must be a plain string, not JSON")
        elif self.rtype.name == "Group":
            if not isinstance(out.get("displayName"), str) or not out["displayName"].strip():
                raise invalid_value("displayName is required")
            for member in out.get("members", []):
                if not isinstance(member.get("value"), str) or not member["value"]:
                    raise invalid_value("every member needs a 'value' with the member's id")

    def check_schemas(self, body: dict[str, Any]) -> list[str] | None:
        """Validate the client's ``schemas`` array (optional: tolerant servers accept bodies without it)."""
        schemas = get_ci(body, "schemas")
        if schemas is None:
            return None
        if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
            raise invalid_value("schemas must be an array of schema URIs")
        if (
            self.rtype.name == "Group"
            and any(s.lower() == MS_GROUP.lower() for s in schemas)
            and self.defects.on("reject-ms-group-schema")
        ):
            raise invalid_value(f"unsupported schema {MS_GROUP}")
        return schemas


def _special_use(address: str) -> bool:
    return address.rpartition("@")[2].rstrip(".").rpartition(".")[2].lower() in SPECIAL_USE_TLDS


def _json_object_string(value: Any) -> bool:
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False


def schemas_for(rtype: ResourceType, content: dict[str, Any]) -> list[str]:
    """The ``schemas`` a stored resource declares: its core schema plus the extensions it carries."""
    core = rtype.core.id if rtype.name == "User" else CORE_GROUP
    return [core] + [key for key in content if is_schema_urn(key)]


# --- Output -------------------------------------------------------------------------------------------


def fill_unassigned(doc: dict[str, Any], rtype: ResourceType, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The document with JSON null for every returnable attribute (and sub-attribute) it has no value for.

    RFC 7643 §2.5 makes null, [] and absence the same "unassigned" state; some servers write every
    attribute of their schema, assigned or not."""

    def fill(target: dict[str, Any], attrs: tuple[AttrDef, ...]) -> dict[str, Any]:
        out = dict(target)
        for attr in attrs:
            if attr.returned == "never" or attr.name in skip or attr.name in SERVER_OWNED:
                continue
            key = next((k for k in out if k.lower() == attr.name.lower()), None)
            if key is None:
                out[attr.name] = None
            elif attr.sub_attributes and isinstance(out[key], dict):
                out[key] = fill(out[key], attr.sub_attributes)
            elif attr.sub_attributes and isinstance(out[key], list):
                out[key] = [fill(e, attr.sub_attributes) if isinstance(e, dict) else e for e in out[key]]
        return out

    filled = fill(doc, rtype.core.attributes + tuple(a for a in COMMON_ATTRIBUTES if a.name == "externalId"))
    for extension in rtype.extensions:
        key = next((k for k in filled if k.lower() == extension.id.lower()), None)
        if key is not None and isinstance(filled[key], dict):
            filled[key] = fill(filled[key], extension.attributes)
    return filled


ALWAYS_RETURNED = frozenset({"id", "schemas"})


def _split(spec: str) -> list[tuple[str | None, str, str | None]]:
    """``name.givenName,urn:...:User:employeeNumber`` → [(urn, attr, sub), ...]."""
    out: list[tuple[str | None, str, str | None]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        urn: str | None = None
        if is_schema_urn(part):
            out.append((part, "", None))
            continue
        if part.lower().startswith("urn:"):
            urn, _, part = part.rpartition(":")
        attr, _, sub = part.partition(".")
        out.append((urn, attr, sub or None))
    return out


def _locate(doc: dict[str, Any], rtype: ResourceType, urn: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The object a projection path lives in, and that object's key in the document (None: top level)."""
    if urn is None or urn.lower() == rtype.core.id.lower():
        return doc, None
    for key, value in doc.items():
        if key.lower() == urn.lower() and isinstance(value, dict):
            return value, key
    return None, None


def _key(obj: dict[str, Any], name: str) -> str | None:
    lowered = name.lower()
    return next((k for k in obj if k.lower() == lowered), None)


def project(
    doc: dict[str, Any],
    rtype: ResourceType,
    attributes: str | None,
    excluded: str | None,
    *,
    keep_members: bool = False,
) -> dict[str, Any]:
    """Apply ``attributes`` / ``excludedAttributes`` (RFC 7644 §3.9) to an output document."""
    if attributes:
        out: dict[str, Any] = {k: doc[k] for k in doc if k in ALWAYS_RETURNED}
        for urn, attr, sub in _split(attributes):
            source, ext_key = _locate(doc, rtype, urn)
            if source is None:
                continue
            if not attr:
                out[ext_key or urn or ""] = source
                continue
            key = _key(source, attr)
            if key is None:
                continue
            target = out if ext_key is None else out.setdefault(ext_key, {})
            if sub is None:
                target[key] = source[key]
                continue
            value = source[key]
            if isinstance(value, dict):
                sub_key = _key(value, sub)
                if sub_key is not None:
                    target.setdefault(key, {})[sub_key] = value[sub_key]
            elif isinstance(value, list):
                picked = [
                    {sk: el[sk] for sk in el if sk.lower() == sub.lower()} for el in value if isinstance(el, dict)
                ]
                target[key] = [p for p in picked if p]
        doc = out
    if excluded:
        doc = json.loads(json.dumps(doc))
        for urn, attr, sub in _split(excluded):
            source, ext_key = _locate(doc, rtype, urn)
            if source is None:
                continue
            if not attr:
                doc.pop(ext_key or "", None)
                continue
            key = _key(source, attr)
            if key is None or (ext_key is None and key in ALWAYS_RETURNED):
                continue
            if key == "members" and keep_members:
                continue
            if sub is None:
                del source[key]
            elif isinstance(source[key], dict):
                sub_key = _key(source[key], sub)
                if sub_key:
                    del source[key][sub_key]
            elif isinstance(source[key], list):
                for element in source[key]:
                    if isinstance(element, dict) and (sub_key := _key(element, sub)):
                        del element[sub_key]
    return doc
