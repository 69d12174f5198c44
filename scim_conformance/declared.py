"""What the server under test declares about its resources: `/Schemas` and `/ResourceTypes`, read once per run.

RFC 7643 §7 has a server publish each schema's attributes with their characteristics (required, caseExact,
mutability, returned), and RFC 7644 §4 names, per resource type, its endpoint, core schema and extensions.
Microsoft's SCIM Validator reads the same documents ("Discover schema") before shaping its requests. Checks
use this to shape premises a server accepts (its required attributes filled, only its attributes sent) and
to stay out of what the server never claimed to hold.

A server that serves no usable `/Schemas` declares nothing: `Declared.known` is False, every attribute counts
as declared and nothing is required beyond what the run sends anyway, so the run behaves as without discovery.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scim_conformance.attributes import CORE_GROUP, CORE_USER, ENTERPRISE_USER, get_attribute
from scim_conformance.client import Exchange, ScimClient, TransportError

# RFC 7643 §3.1: present on every resource whatever its schemas list; servers rarely repeat them in /Schemas.
COMMON = ("id", "externalId", "meta")
# `urn:…:User:manager.value`, `emails[type eq "work"].value`, `name.givenName`: schema, attribute, sub-attribute.
_PATH = re.compile(r"""^(?:(?P<urn>urn:.+):)?(?P<attr>[^:.\[\]\s]+)(?:\[[^\]]*\])?(?:\.(?P<sub>[^.\[\]\s]+))?$""",
                   re.IGNORECASE)


@dataclass(frozen=True)
class Attribute:
    """One declared attribute or sub-attribute, with the characteristics RFC 7643 §7 gives it."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False  # RFC 7643 §2.2: false when the server leaves it out
    mutability: str = "readWrite"
    returned: str = "default"
    sub_attributes: tuple[Attribute, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attribute:
        subs = data.get("subAttributes")
        return cls(
            name=str(data.get("name")),
            type=str(data.get("type") or "string"),
            multi_valued=data.get("multiValued") is True,
            required=data.get("required") is True,
            case_exact=data.get("caseExact") is True,
            mutability=str(data.get("mutability") or "readWrite"),
            returned=str(data.get("returned") or "default"),
            sub_attributes=tuple(cls.from_json(s) for s in subs if _named(s)) if isinstance(subs, list) else (),
        )

    def sub(self, name: str) -> Attribute | None:
        return _find(self.sub_attributes, name)


@dataclass(frozen=True)
class ResourceType:
    """One resource type as declared: its endpoint, core schema and extension schemas with their attributes."""

    name: str
    endpoint: str
    schema: str
    attributes: tuple[Attribute, ...]
    extensions: dict[str, tuple[Attribute, ...]] = field(default_factory=dict)  # URN -> attributes
    required_extensions: frozenset[str] = frozenset()
    # Extensions /ResourceTypes names and /Schemas does not describe (lower-cased): their attributes all count.
    unknown_extensions: frozenset[str] = frozenset()

    def schema_attributes(self, urn: str | None) -> tuple[Attribute, ...] | None:
        """The attributes of the core schema (urn None or the core URN) or of a declared extension, else None."""
        if urn is None or urn.lower() == self.schema.lower():
            return self.attributes
        return next((attrs for ext, attrs in self.extensions.items() if ext.lower() == urn.lower()), None)

    def attribute(self, path: str) -> tuple[Attribute, Attribute | None] | None:
        """(attribute, sub-attribute) a path names, None when the path names nothing declared."""
        match = _PATH.match(path.strip())
        if match is None:
            return None
        attributes = self.schema_attributes(match["urn"])
        if attributes is None:
            return None
        attribute = _find(attributes, match["attr"])
        if attribute is None:
            return None
        if match["sub"] is None:
            return attribute, None
        sub = attribute.sub(match["sub"])
        return (attribute, sub) if sub is not None else None


@dataclass(frozen=True)
class Declared:
    """What the server declares, per endpoint; `known` False when it serves no usable `/Schemas`."""

    known: bool
    reason: str = ""  # why nothing is known (e.g. "GET /Schemas answered 404"), or a note on a partial answer
    types: dict[str, ResourceType] = field(default_factory=dict)  # endpoint ("/Users") -> type

    def resource_type(self, endpoint: str) -> ResourceType | None:
        return self.types.get(endpoint) if self.known else None

    def declares(self, endpoint: str, path: str) -> bool:
        """Whether the server declares the attribute a path names; True whenever the server declares nothing.

        Common attributes (RFC 7643 §3.1) count as declared: they belong to every resource. A filter in the
        path (`emails[type eq "work"]`) does not matter; the attribute and sub-attribute do.
        """
        kind = self.resource_type(endpoint)
        if kind is None or kind.schema_attributes(path.strip()) is not None \
                or path.strip().lower() in kind.unknown_extensions:
            return True  # nothing declared, or a whole schema (`urn:…:enterprise:2.0:User`) that is declared
        match = _PATH.match(path.strip())
        if match is not None and match["urn"] is None and match["attr"].lower() in (c.lower() for c in COMMON):
            return True
        if match is not None and match["urn"] is not None and match["urn"].lower() in kind.unknown_extensions:
            return True
        return kind.attribute(path) is not None

    def declares_extension(self, endpoint: str, urn: str) -> bool:
        """Whether the resource type has the extension schema `urn` (True whenever nothing is declared)."""
        kind = self.resource_type(endpoint)
        return kind is None or kind.schema_attributes(urn) is not None or urn.lower() in kind.unknown_extensions

    def undeclared(self, endpoint: str, paths: Iterable[str]) -> list[str]:
        return [p for p in paths if not self.declares(endpoint, p)]

    def first(self, endpoint: str, *paths: str) -> str | None:
        """The first of `paths` the server declares: for checks whose behaviour does not depend on the attribute."""
        return next((p for p in paths if self.declares(endpoint, p)), None)

    def required_paths(self, endpoint: str) -> list[str]:
        """Attributes the server declares required: `userName`, `name.formatted`, `urn:…:employeeNumber`.

        A required sub-attribute is listed with its parent (RFC 7643 §7: required within the parent, when
        the parent is present); extension attributes count only for extensions declared required.
        """
        kind = self.resource_type(endpoint)
        if kind is None:
            return []
        found: list[str] = []
        schemas: list[tuple[str | None, tuple[Attribute, ...]]] = [(None, kind.attributes)]
        schemas += [(urn, attrs) for urn, attrs in kind.extensions.items() if urn in kind.required_extensions]
        for urn, attributes in schemas:
            prefix = f"{urn}:" if urn else ""
            for attribute in attributes:
                if attribute.mutability == "readOnly":
                    continue  # the server sets it (RFC 7643 §7: a client never sends it)
                if attribute.required:
                    found.append(prefix + attribute.name)
                found += [f"{prefix}{attribute.name}.{sub.name}" for sub in attribute.sub_attributes
                          if sub.required and sub.mutability != "readOnly"]
        return found

    def case_exact(self, endpoint: str, path: str) -> bool | None:
        """Whether the server compares the attribute's values case-sensitively (RFC 7643 §2.2); None if unknown."""
        kind = self.resource_type(endpoint)
        named = kind.attribute(path) if kind else None
        if named is None:
            return None
        attribute, sub = named
        if sub is not None:
            return sub.case_exact
        if attribute.sub_attributes and attribute.multi_valued:
            value = attribute.sub("value")  # `emails` compared by its value (RFC 7643 §2.4)
            return value.case_exact if value else attribute.case_exact
        return attribute.case_exact

    def fit(self, endpoint: str, body: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        """A fallback premise body (RFC or minimal form) the server can take: only the attributes its schemas
        list, and every attribute it declares required, taken from `source` (the IdP's body) when that has it.

        Only the fallback forms are fitted: the IdP's own body is the stimulus of the create checks, sent as is.
        """
        kind = self.resource_type(endpoint)
        if kind is None:
            return body
        filled = copy.deepcopy(body)
        for path in self.required_paths(endpoint):
            _require(filled, path, source)
        fitted: dict[str, Any] = {}
        for key, value in filled.items():
            if key == "schemas":
                continue
            if key.lower() in kind.unknown_extensions:
                fitted[key] = value  # named in /ResourceTypes, missing from /Schemas: nothing known to drop
                continue
            attributes = kind.schema_attributes(key) if key.lower().startswith("urn:") else None
            if attributes is not None and isinstance(value, dict):
                kept = {k: _kept_subs(_find(attributes, k), v) for k, v in value.items()
                        if _fits(_find(attributes, k), v)}
                if kept:
                    fitted[key] = kept
            elif not key.lower().startswith("urn:") and _fits(_find(kind.attributes, key), value):
                fitted[key] = _kept_subs(_find(kind.attributes, key), value)
        urns = [kind.schema] + [urn for urn in fitted if urn.lower().startswith("urn:")]
        return {"schemas": urns, **fitted}

    def as_dict(self) -> dict[str, Any]:
        """For the result document: what was declared, flattened to one row per attribute path."""
        if not self.known:
            return {"known": False, "reason": self.reason}
        out: dict[str, Any] = {"known": True, "resource_types": [_type_dict(t) for t in self.types.values()]}
        if self.reason:
            out["reason"] = self.reason
        return out


UNKNOWN = Declared(known=False, reason="schema discovery was not run")


def discover(client: ScimClient) -> Declared:
    """Read `/Schemas` and `/ResourceTypes` once. Never raises: whatever is unusable makes the run schema-blind."""
    schemas_answer = _resources(client, "/Schemas")
    if isinstance(schemas_answer, str):
        return Declared(known=False, reason=schemas_answer)
    schemas = {str(s["id"]).lower(): s for s in schemas_answer if isinstance(s.get("id"), str)}
    types_answer = _resources(client, "/ResourceTypes")
    notes = []
    declared_types: list[tuple[str, str, str, list[tuple[str, bool]]]] = []  # name, endpoint, schema, extensions
    if isinstance(types_answer, str):
        notes.append(f"{types_answer}: /Users and /Groups assumed to use the core schemas")
    else:
        for item in types_answer:
            endpoint, schema = item.get("endpoint"), item.get("schema")
            if not isinstance(endpoint, str) or not isinstance(schema, str):
                continue
            extensions = [(str(e.get("schema")), e.get("required") is True)
                          for e in item.get("schemaExtensions") or [] if isinstance(e, dict) and e.get("schema")]
            declared_types.append((str(item.get("name") or endpoint.strip("/")), _endpoint(endpoint), schema,
                                   extensions))
    if not declared_types:
        # Without resource types, the enterprise extension is taken as a User extension when /Schemas lists it.
        enterprise = [(ENTERPRISE_USER, False)] if ENTERPRISE_USER.lower() in schemas else []
        declared_types = [("User", "/Users", CORE_USER, enterprise), ("Group", "/Groups", CORE_GROUP, [])]
    types: dict[str, ResourceType] = {}
    for name, endpoint, schema, extensions in declared_types:
        core = schemas.get(schema.lower())
        if core is None:
            notes.append(f"{endpoint}: /Schemas does not list its schema {schema}, so everything counts as declared")
            continue
        types[endpoint] = ResourceType(
            name=name, endpoint=endpoint, schema=str(core["id"]), attributes=_attributes(core),
            extensions={str(schemas[urn.lower()]["id"]): _attributes(schemas[urn.lower()])
                        for urn, _ in extensions if urn.lower() in schemas},
            required_extensions=frozenset(str(schemas[urn.lower()]["id"]) for urn, required in extensions
                                          if required and urn.lower() in schemas),
            unknown_extensions=frozenset(urn.lower() for urn, _ in extensions if urn.lower() not in schemas),
        )
    return Declared(known=True, reason="; ".join(notes), types=types)


def _resources(client: ScimClient, path: str) -> list[dict[str, Any]] | str:
    """The resources a discovery endpoint lists (a ListResponse, or a bare array as some servers send), or why not."""
    try:
        exchange: Exchange = client.get(path)
    except TransportError as exc:
        return f"GET {path} failed: {exc}"
    data = exchange.json
    if exchange.status != 200:
        return f"GET {path} answered {exchange.status}"
    listed = data.get("Resources") if isinstance(data, dict) else data
    if not isinstance(listed, list):
        return f"GET {path} answered no list of resources"
    return [r for r in listed if isinstance(r, dict)]


def _attributes(schema: dict[str, Any]) -> tuple[Attribute, ...]:
    listed = schema.get("attributes")
    return tuple(Attribute.from_json(a) for a in listed if _named(a)) if isinstance(listed, list) else ()


def _named(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("name"), str) and bool(data["name"])


def _find(attributes: tuple[Attribute, ...], name: str) -> Attribute | None:
    key = name.lower()  # attribute names are case-insensitive (RFC 7643 §2.1)
    return next((a for a in attributes if a.name.lower() == key), None)


def _fits(attribute: Attribute | None, value: Any) -> bool:
    """A value to keep in a fallback body: its attribute is listed and a client may write it."""
    return attribute is not None and attribute.mutability != "readOnly" and value not in (None, [], {})


def _kept_subs(attribute: Attribute | None, value: Any) -> Any:
    """A complex value with only the sub-attributes the server lists (element by element when multi-valued)."""
    if attribute is None or not attribute.sub_attributes:
        return value

    def keep(element: Any) -> Any:
        if not isinstance(element, dict):
            return element
        return {k: v for k, v in element.items() if attribute.sub(k) is not None}

    return [keep(e) for e in value] if isinstance(value, list) else keep(value)


def _require(body: dict[str, Any], path: str, source: dict[str, Any]) -> None:
    """Fill one required attribute (`userName`, `name.formatted`, `urn:…:employeeNumber`) a fallback body lacks."""
    urn, _, rest = path.rpartition(":") if path.lower().startswith("urn:") else ("", "", path)
    top, _, sub = rest.partition(".")
    container = body.setdefault(urn, {}) if urn else body
    origin = get_attribute(source, urn) if urn else source
    key = next((k for k in container if k.lower() == top.lower()), top)
    if not sub:
        if container.get(key) in (None, "", [], {}):
            value = get_attribute(origin, top)
            container[key] = value if value not in (None, "", [], {}) else _stand_in(top, body, source)
        return
    parent = container.get(key)
    if isinstance(parent, list):
        return  # a required sub-attribute of a multi-valued attribute binds each element the body already has
    if not isinstance(parent, dict):
        parent = container[key] = {}
    if parent.get(sub) in (None, ""):
        value = get_attribute(get_attribute(origin, top), sub)
        parent[sub] = value if value not in (None, "", [], {}) else _stand_in(f"{top}.{sub}", body, source)


def _stand_in(path: str, body: dict[str, Any], source: dict[str, Any]) -> Any:
    """A value for a required attribute the IdP's body does not carry: name.formatted from the name parts,
    otherwise the resource's own name (a string is what most required attributes take)."""
    name = body.get("name")
    parts = [name.get("givenName"), name.get("familyName")] if isinstance(name, dict) else []
    if path.lower() == "name.formatted" and parts and all(isinstance(p, str) and p for p in parts):
        return " ".join(str(p) for p in parts)
    if path.lower() == "name":
        return {}
    return source.get("displayName") or source.get("userName") or body.get("userName") or body.get("displayName")


def _endpoint(endpoint: str) -> str:
    """`/Users`, whether the server writes `/Users`, `Users` or a full URL ending in `/Users`."""
    return "/" + endpoint.rstrip("/").rsplit("/", 1)[-1]


def _rows(attributes: tuple[Attribute, ...], prefix: str) -> Iterator[dict[str, Any]]:
    for attribute in attributes:
        path = prefix + attribute.name
        yield _row(attribute, path)
        for sub in attribute.sub_attributes:
            yield _row(sub, f"{path}.{sub.name}")


def _row(attribute: Attribute, path: str) -> dict[str, Any]:
    return {"path": path, "type": attribute.type, "multiValued": attribute.multi_valued,
            "required": attribute.required, "caseExact": attribute.case_exact,
            "mutability": attribute.mutability, "returned": attribute.returned}


def _type_dict(kind: ResourceType) -> dict[str, Any]:
    rows = list(_rows(kind.attributes, ""))
    for urn, attributes in kind.extensions.items():
        rows += _rows(attributes, f"{urn}:")
    return {"name": kind.name, "endpoint": kind.endpoint, "schema": kind.schema,
            "extensions": [{"schema": urn, "required": urn in kind.required_extensions} for urn in kind.extensions],
            "attributes": rows}
