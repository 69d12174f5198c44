"""Profiles: an identity provider's request dialect and a tenant's attribute mappings, loaded from YAML.

One loader for every profile. A profile is validated against `profiles/profile.schema.json`, its
`extends` chain is resolved, and its mappings are checked against the attributes SCIM defines, all
before the run sends a single request. Every problem is one `ProfileError` line naming the file, the
key path and what is wrong.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import yaml

from scim_conformance import scoping
from scim_conformance.attributes import AttributePath, AttributePathError, parse_path
from scim_conformance.dialect import Dialect
from scim_conformance.expressions import Context, ExpressionError, Node, attributes, check, evaluate, parse
from scim_conformance.paths import YAML_LOADER, profiles_dir
from scim_conformance.sources import KnownAttributes, fill, free_text, group_source, user_source

if TYPE_CHECKING:
    import jsonschema

DEFAULT_EMAIL_DOMAIN = "example.com"


class ProfileError(Exception):
    """A profile that cannot be used; the message is the one line the user sees."""


@dataclass(frozen=True)
class AttributeMapping:
    """One row of the IdP's attribute-mapping screen: target SCIM path <- source expression (or a default)."""

    target: str
    path: AttributePath
    source: str | None = None
    type: str = "string"
    default: Any = None
    matching: int | None = None
    flow: str = "Always"  # Entra's flowType: Always, or ObjectAddOnly ("only during object creation"), ...
    expression: Node | None = field(default=None, compare=False, repr=False)  # `source`, parsed
    flow_behavior: str = "FlowWhenChanged"  # Entra's flowBehavior: FlowAlways exports the value on every cycle

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"target": self.target, "type": self.type}
        if self.source is not None:
            row["source"] = self.source
        if self.default is not None:
            row["default"] = self.default
        if self.matching is not None:
            row["matching"] = self.matching
        if self.flow != "Always":
            row["flow"] = self.flow
        if self.flow_behavior != "FlowWhenChanged":
            row["flow_behavior"] = self.flow_behavior
        return row


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    file: Path
    chain: tuple[str, ...]
    idp: str
    verdict_label: str
    dialect: Dialect
    users: bool
    groups: bool
    user_matching: tuple[str, ...]
    group_matching: tuple[str, ...]
    user_mappings: tuple[AttributeMapping, ...]
    group_mappings: tuple[AttributeMapping, ...]
    roles: tuple[str, ...]
    password_sync: bool
    capabilities: frozenset[str]
    exclude: frozenset[str]
    severity: Mapping[str, str]
    # Capabilities run for information only: reported under advisory_title, never part of the verdict.
    advisory: frozenset[str] = frozenset()
    advisory_title: str = ""
    # From an imported Entra schema: object flows, scoping filters (data only) and the app's attribute list.
    flow_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    scope: Mapping[str, Any] = field(default_factory=dict)
    target_attributes: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    # Source attributes the tenant's export lists beyond Microsoft's documented ones (mappings may name them).
    source_attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # RFC 2606 reserves example.com for exactly this; special-use names such as .test fail common email validators.
    email_domain: str = DEFAULT_EMAIL_DOMAIN
    # What the verdict stands in for, and what it does not (e.g. which of the IdP's own tests): said beside it.
    verdict_scope: str = ""

    def user_mapping(self, target: str) -> AttributeMapping | None:
        wanted = target.lower()
        return next((m for m in self.user_mappings if m.target.lower() == wanted), None)

    def as_dict(self) -> dict[str, Any]:
        """The effective profile, after `extends` is resolved (what `profiles --show` prints)."""
        return {
            "name": self.name,
            "description": self.description,
            "extends_chain": list(self.chain[1:]),
            "idp": self.idp,
            "verdict_label": self.verdict_label,
            "verdict_scope": self.verdict_scope,
            "dialect": self.dialect.as_dict(),
            "resources": {"users": self.users, "groups": self.groups},
            "matching": {"users": list(self.user_matching), "groups": list(self.group_matching)},
            "mappings": {
                "users": [m.as_dict() for m in self.user_mappings],
                "groups": [m.as_dict() for m in self.group_mappings],
            },
            "roles": list(self.roles),
            "password_sync": self.password_sync,
            "identities": {"email_domain": self.email_domain},
            "requirements": {
                "capabilities": sorted(self.capabilities),
                "exclude": sorted(self.exclude),
                "severity": dict(sorted(self.severity.items())),
                **({"advisory": {"title": self.advisory_title, "capabilities": sorted(self.advisory)}}
                   if self.advisory else {}),
            },
        } | {key: value for key, value in (
            ("flow_types", {k: list(v) for k, v in self.flow_types.items()}),
            ("scope", dict(self.scope)),
            ("target_attributes", {k: [dict(a) for a in v] for k, v in self.target_attributes.items()}),
            ("source_attributes", {k: list(v) for k, v in self.source_attributes.items()}),
        ) if value}


@cache
def _profile_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((profiles_dir() / "profile.schema.json").read_text(encoding="utf-8"))
    return schema


@cache
def _fast_validator() -> jsonschema_rs.Validator:
    # Valid or not, without importing jsonschema (a tenth of a run's start-up); see schemas.py for the pairing.
    return jsonschema_rs.Draft202012Validator(_profile_schema(), offline=True)


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    """jsonschema's walk, for the message naming the key of a profile the fast validator refused."""
    import jsonschema

    return jsonschema.Draft202012Validator(_profile_schema())


def available_profiles() -> list[Path]:
    return sorted(profiles_dir().glob("*.yaml"))


def _locate(name_or_path: str, near: Path | None = None) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if candidate.is_file():
            return candidate
        raise ProfileError(f"{name_or_path}: no such profile file")
    for folder in ([near] if near else []) + [profiles_dir()]:
        for suffix in (".yaml", ".yml"):
            path = folder / f"{name_or_path}{suffix}"
            if path.is_file():
                return path
    known = ", ".join(p.stem for p in available_profiles())
    raise ProfileError(f"unknown profile {name_or_path!r} (known: {known})")


def _key_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProfileError(f"{path}:{where}: not valid YAML: {problem}") from None
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile is a mapping of keys, got {type(data).__name__}")
    errors = [] if _fast_validator().is_valid(data) else sorted(_schema_validator().iter_errors(data),
                                                                 key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        raise ProfileError(f"{path}: {_key_path(error.absolute_path)}: {_short(error)}")
    if data["name"] != path.stem:
        raise ProfileError(f"{path}: name: {data['name']!r} must match the file name {path.stem!r}")
    return data


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key")
    if error.validator == "oneOf" and error.context:
        return min(error.context, key=lambda e: len(e.message)).message
    return error.message


def _merge(parent: dict[str, Any], child: dict[str, Any], path: Path) -> dict[str, Any]:
    merged = copy.deepcopy(parent)
    for key, value in child.items():
        if key in ("dialect", "resources", "matching", "identities", "flow_types", "scope",
                   "target_attributes", "source_attributes") and isinstance(value, dict):
            merged.setdefault(key, {}).update(value)
        elif key == "mappings":
            for kind, changes in value.items():
                merged.setdefault("mappings", {})[kind] = _apply_mapping_changes(
                    merged.get("mappings", {}).get(kind, []), changes, path, kind)
        elif key == "requirements":
            target = merged.setdefault("requirements", {})
            if "capabilities" in value:
                target["capabilities"] = list(value["capabilities"])
            target["exclude"] = sorted(set(target.get("exclude", [])) | set(value.get("exclude", [])))
            target.setdefault("severity", {}).update(value.get("severity", {}))
            if "advisory" in value:
                target["advisory"] = copy.deepcopy(value["advisory"])
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _apply_mapping_changes(rows: list[dict[str, Any]], changes: Any, path: Path, kind: str) -> list[dict[str, Any]]:
    if isinstance(changes, list):
        return copy.deepcopy(changes)
    by_target = {r["target"].lower(): r for r in rows}
    for i, target in enumerate(changes.get("remove", [])):
        if by_target.pop(target.lower(), None) is None:
            raise ProfileError(f"{path}: mappings.{kind}.remove[{i}]: {target!r} is not mapped by the parent profile")
    for i, row in enumerate(changes.get("replace", [])):
        if row["target"].lower() not in by_target:
            raise ProfileError(f"{path}: mappings.{kind}.replace[{i}]: {row['target']!r} is not mapped yet; use add")
        by_target[row["target"].lower()] = copy.deepcopy(row)
    for i, row in enumerate(changes.get("add", [])):
        if row["target"].lower() in by_target:
            raise ProfileError(f"{path}: mappings.{kind}.add[{i}]: {row['target']!r} is mapped already; use replace")
        by_target[row["target"].lower()] = copy.deepcopy(row)
    return list(by_target.values())


def _expression(row: dict[str, Any], kind: str, where: str, source: tuple[KnownAttributes, list[dict[str, Any]]]
                ) -> Node | None:
    """The mapping's source parsed, checked and evaluated on each sample person, so that no mapping is dropped
    silently: one that fails for every person holding its attributes can never send a value, and is refused.
    One that fails for some people only fails for those at run time, as in Entra."""
    if "source" not in row:
        return None
    names, samples = source
    try:
        node = parse(row["source"])
        check(node, names)
        named = attributes(node)
        # What the tenant's admin puts in a free-text attribute is up to them: one that fits the mapping.
        free = [name for name in named if free_text(name)]
        people = [fill(dict(person), free, [node], random.Random(0)) for person in samples] if free else samples
        holding = [p for p in people if not named or any(p.get(n) not in (None, "", []) for n in named)]
        failures = []
        for person in holding or people[:1]:
            try:
                evaluate(node, person, Context())
            except ExpressionError as exc:
                failures.append(exc)
        if failures and len(failures) == len(holding or people[:1]):
            raise failures[0]
    except ExpressionError as exc:
        raise ProfileError(f"{where}: source {row['source']!r}: {exc}") from None
    return node


def _mappings(rows: list[dict[str, Any]], kind: str, path: Path, source: tuple[KnownAttributes, list[dict[str, Any]]]
              ) -> tuple[AttributeMapping, ...]:
    resource = "User" if kind == "users" else "Group"
    result = []
    first: dict[str, int] = {}
    for i, row in enumerate(rows):
        where = f"{path}: mappings.{kind}[{i}] ({row['target']})"
        if first.setdefault(row["target"].lower(), i) != i:
            raise ProfileError(f"{where}: mapped already by mappings.{kind}[{first[row['target'].lower()]}] "
                               "(one value per target attribute)")
        try:
            parsed = parse_path(row["target"], resource)
        except AttributePathError as exc:
            raise ProfileError(f"{where}: {exc}") from None
        kind_of = row.get("type", "string")
        default = row.get("default")
        if kind_of == "boolean" and default is not None and not isinstance(default, bool):
            raise ProfileError(f"{where}: a boolean target needs a boolean default, got {default!r}")
        if kind_of == "string" and isinstance(default, bool):
            raise ProfileError(f"{where}: a string target needs a string default, got {default!r}")
        result.append(AttributeMapping(row["target"], parsed, row.get("source"), kind_of, default, row.get("matching"),
                                       row.get("flow", "Always"), _expression(row, kind, where, source),
                                       row.get("flow_behavior", "FlowWhenChanged")))
    return tuple(result)


def load_profile(name_or_path: str) -> Profile:
    first = _locate(name_or_path)
    chain: list[Path] = [first]
    data = _read(first)
    layers = [data]
    while "extends" in layers[-1]:
        parent_name = layers[-1]["extends"]
        try:
            parent = _locate(parent_name, near=chain[-1].parent)
        except ProfileError:
            raise ProfileError(f"{chain[-1]}: extends: unknown profile {parent_name!r}") from None
        if parent.resolve() in {p.resolve() for p in chain}:
            names = " -> ".join([p.stem for p in chain] + [parent.stem])
            raise ProfileError(f"{chain[-1]}: extends: a cycle of profiles ({names})")
        chain.append(parent)
        layers.append(_read(parent))
    effective: dict[str, Any] = {}
    for layer, path in zip(reversed(layers), reversed(chain), strict=True):
        effective = _merge(effective, layer, path)
    return _build(effective, first, tuple(p.stem for p in chain))


def _build(data: dict[str, Any], path: Path, chain: tuple[str, ...]) -> Profile:
    raw = dict(data.get("dialect", {}))
    # YAML lists become tuples, like the defaults, so a dialect read from a file equals one built in code.
    if "group_schemas" in raw:
        raw["group_schemas"] = tuple(raw["group_schemas"])
    if "empty_attributes" in raw:
        raw["empty_attributes"] = {**Dialect().empty_attributes,
                                   **{k: tuple(v) for k, v in raw["empty_attributes"].items()}}
    dialect = Dialect(**raw)
    resources = data.get("resources", {})
    matching = data.get("matching", {})
    mappings = data.get("mappings", {})
    requirements = data.get("requirements", {})
    idp = data.get("idp", "a SCIM client")
    more = data.get("source_attributes", {})
    users = _mappings(mappings.get("users", []), "users", path, user_source(idp, more.get("users", ())))
    groups = _mappings(mappings.get("groups", []), "groups", path, group_source(more.get("groups", ())))
    user_targets = {m.target.lower() for m in users}
    for i, target in enumerate(matching.get("users", ["userName"])):
        if target.lower() not in user_targets and users:
            raise ProfileError(f"{path}: matching.users[{i}]: {target!r} is not a mapped target")
    if not resources.get("users", True):
        raise ProfileError(f"{path}: resources.users: a profile must provision users")
    for kind, scope in data.get("scope", {}).items():
        names, people = user_source(idp, more.get("users", ())) if kind == "users" else group_source(
            more.get("groups", ()))
        try:
            scoping.check(scope, names, people)
        except scoping.ScopeError as exc:
            raise ProfileError(f"{path}: scope.{kind}.{exc}") from None
    targets = data.get("target_attributes", {})
    for kind, rows in (("users", users), ("groups", groups)):
        known = {a["name"].lower() for a in targets.get(kind, [])}
        for i, mapping in enumerate(rows):
            if known and mapping.target.lower() not in known:
                raise ProfileError(f"{path}: mappings.{kind}[{i}] ({mapping.target}): not in target_attributes.{kind}")
    return Profile(
        name=data["name"],
        description=data["description"].strip(),
        file=path,
        chain=chain,
        idp=idp,
        verdict_label=data.get("verdict_label", f"{data['name']} conformant"),
        verdict_scope=" ".join(str(data.get("verdict_scope", "")).split()),
        dialect=dialect,
        users=resources.get("users", True),
        groups=resources.get("groups", True),
        user_matching=tuple(matching.get("users", ["userName"])),
        group_matching=tuple(matching.get("groups", ["displayName"])),
        user_mappings=users,
        group_mappings=groups,
        roles=tuple(data.get("roles", [])),
        password_sync=bool(data.get("password_sync", False)),
        capabilities=frozenset(requirements.get("capabilities", [])),
        exclude=frozenset(requirements.get("exclude", [])),
        severity=dict(requirements.get("severity", {})),
        advisory=frozenset(requirements.get("advisory", {}).get("capabilities", [])),
        advisory_title=requirements.get("advisory", {}).get("title", ""),
        flow_types={k: tuple(v) for k, v in data.get("flow_types", {}).items()},
        scope=dict(data.get("scope", {})),
        target_attributes={k: tuple(v) for k, v in targets.items()},
        source_attributes={k: tuple(v) for k, v in more.items()},
        email_domain=data.get("identities", {}).get("email_domain", DEFAULT_EMAIL_DOMAIN),
    )


def describe(profile: Profile) -> str:
    """One line for `scim-conformance profiles`."""
    return f"{profile.name:<28} {profile.description.splitlines()[0]}"


__all__ = [
    "AttributeMapping",
    "Dialect",
    "Profile",
    "ProfileError",
    "available_profiles",
    "describe",
    "load_profile",
]

