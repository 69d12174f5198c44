"""`scim-conformance profiles import`: a tenant's exported Entra provisioning schema becomes a profile.

The export (Provisioning > Attribute mappings > Show advanced options > Review your schema > Download) is
Microsoft Graph's `synchronizationSchema`: synchronization rules holding object mappings (users, groups)
with their attribute mappings, and directory definitions listing each side's attributes. The profile
written keeps what the suite needs to send what *that* tenant's Entra sends: every mapping with its
expression, type, default, flow type and matching priority; which objects are provisioned and with which
flows; the scoping filters (as data); and the app's own attribute list with its types.

Every field of the export is known here; an unknown one, a wrong type or malformed JSON is refused with
one line naming the file and the JSON path, before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from scim_conformance import scoping
from scim_conformance.expressions import (
    MAX_DEPTH,
    Comparison,
    ExpressionError,
    Function,
    Node,
    check,
    comparisons,
    from_tree,
    functions,
    parse,
    source_text,
)
from scim_conformance.expressions import attributes as named_attributes
from scim_conformance.outcomes import ExitCode
from scim_conformance.profile import ProfileError, available_profiles, load_profile
from scim_conformance.sources import KnownAttributes, group_source, sample_users, user_source

# Fields of each Graph resource in an export (Microsoft Graph v1.0 and beta), and what each must be.
_STR, _BOOL, _INT, _LIST, _DICT = (str, type(None)), (bool, type(None)), (int, type(None)), (list, type(None)), (
    dict, type(None))
_ODATA = {"@odata.type": _STR, "@odata.context": _STR, "@odata.id": _STR}
_SCHEMA = _ODATA | {"id": _STR, "version": _STR, "synchronizationRules": _LIST, "directories": _LIST}
_RULE = _ODATA | {"id": _STR, "name": _STR, "editable": _BOOL, "priority": _INT, "metadata": _LIST,
                  "sourceDirectoryName": _STR, "targetDirectoryName": _STR, "objectMappings": _LIST,
                  "containerFilter": _DICT, "groupFilter": _DICT}
_OBJECT_MAPPING = _ODATA | {"enabled": _BOOL, "flowTypes": _STR, "name": _STR, "metadata": _LIST, "scope": _DICT,
                            "sourceObjectName": _STR, "targetObjectName": _STR, "attributeMappings": _LIST}
_ATTRIBUTE_MAPPING = _ODATA | {"targetAttributeName": _STR, "source": _DICT, "defaultValue": _STR,
                               "matchingPriority": _INT, "flowType": _STR, "flowBehavior": _STR,
                               "exportMissingReferences": _BOOL}
_SOURCE = _ODATA | {"type": _STR, "name": _STR, "expression": _STR, "parameters": _LIST}
_PARAMETER = _ODATA | {"key": _STR, "value": _DICT}
_DIRECTORY = _ODATA | {"id": _STR, "name": _STR, "objects": _LIST, "readOnly": _BOOL, "version": _STR,
                       "discoveryDateTime": _STR, "discoverabilities": _STR, "metadata": _LIST}
_OBJECT = _ODATA | {"name": _STR, "attributes": _LIST, "metadata": _LIST, "supportedApis": _LIST}
_ATTRIBUTE = _ODATA | {"name": _STR, "type": _STR, "multivalued": _BOOL, "required": _BOOL, "mutability": _STR,
                       "caseExact": _BOOL, "anchor": _BOOL, "defaultValue": _STR, "flowNullValues": _BOOL,
                       "referencedObjects": _LIST, "metadata": _LIST, "apiExpressions": _LIST}

FLOW_BEHAVIORS = ("FlowWhenChanged", "FlowAlways")  # Graph's default first
FLOW_TYPES = ("Always", "ObjectAddOnly", "MultiValueAddOnly", "ValueAddOnly", "AttributeAddOnly")
_OBJECT_FLOWS = ("Add", "Update", "Delete")
# attributeDefinition.type -> a profile mapping's type.
_TYPES = {"string": "string", "boolean": "boolean", "integer": "integer", "reference": "reference",
          "datetime": "string", "binary": "string"}
_KINDS = {"user": "users", "group": "groups"}
_APP_ROLE_FUNCTIONS = {"SingleAppRoleAssignment", "AppRoleAssignmentsComplex", "AssertiveAppRoleAssignmentsComplex"}


class SchemaImportError(Exception):
    """An export that cannot become a profile; the message is the one line the user sees."""


def _path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class _Reader:
    """Walks the export, refusing unknown fields and wrong types with the JSON path of the first one."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, where: list[str | int], problem: str) -> SchemaImportError:
        return SchemaImportError(f"{self.file}: {_path(where)}: {problem}")

    def object(self, value: Any, where: list[str | int], fields: Mapping[str, tuple[type, ...]]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_json_type(value)}")
        for key, item in value.items():
            if key not in fields:
                raise self.fail([*where, key], "unknown field")
            if isinstance(item, float) and int in fields[key]:
                raise self.fail([*where, key], f"expected a whole number, got {item}")
            if not isinstance(item, fields[key]) or (isinstance(item, bool) and bool not in fields[key]):
                wanted = " or ".join(_json_type_name(t) for t in fields[key] if t is not type(None))
                raise self.fail([*where, key], f"expected {wanted}, got {_json_type(item)}")
        return value

    def items(self, value: Any, where: list[str | int], fields: Mapping[str, tuple[type, ...]]
              ) -> list[tuple[list[str | int], dict[str, Any]]]:
        return [([*where, i], self.object(item, [*where, i], fields)) for i, item in enumerate(value or [])]

    def source(self, value: Any, where: list[str | int], depth: int = 1) -> None:
        """An attributeMappingSource tree, all the way down (and no deeper than an expression may nest)."""
        if depth > MAX_DEPTH:
            raise self.fail(where[:where.index("source") + 1] if "source" in where else where,
                            f"an expression nested deeper than {MAX_DEPTH} levels")
        source = self.object(value, where, _SOURCE)
        for path, parameter in self.items(source.get("parameters"), [*where, "parameters"], _PARAMETER):
            if parameter.get("value") is not None:
                self.source(parameter["value"], [*path, "value"], depth + 1)


def _json_type(value: Any) -> str:
    return _json_type_name(type(value))


def _json_type_name(kind: type) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list",
            dict: "an object", type(None): "null"}.get(kind, kind.__name__)


# What Windows writes: the portal's download is UTF-8 (with or without a byte-order mark); PowerShell 5's `>` and
# Out-File write UTF-16 LE with one; some editors save UTF-16 BE. Longest marks first (UTF-32 LE starts as UTF-16 LE).
_BOMS = ((b"\xff\xfe\x00\x00", None), (b"\x00\x00\xfe\xff", None), (b"\xef\xbb\xbf", "utf-8"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_ENCODINGS = "UTF-8 (with or without a byte-order mark) or UTF-16 with a byte-order mark"


def decode_export(file: Path, data: bytes) -> str:
    """An export's text: UTF-8 with or without a BOM, UTF-16 LE/BE with one; anything else one line saying so."""
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            if encoding is None:
                raise SchemaImportError(f"{file}: UTF-32 text: save the export as {_ENCODINGS}")
            try:
                return data[len(mark):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise SchemaImportError(f"{file}: byte {exc.start + len(mark)}: not valid {encoding.upper()} "
                                        f"after its byte-order mark ({exc.reason})") from None
    if len(data) > 1 and (data[0] == 0) != (data[1] == 0):
        raise SchemaImportError(f"{file}: UTF-16 text without a byte-order mark: save the export as {_ENCODINGS}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaImportError(f"{file}: byte {exc.start}: 0x{data[exc.start]:02X} is not UTF-8 (a Latin-1 or "
                                f"Windows-1252 file?): save the export as {_ENCODINGS}") from None


def read_export(file: Path) -> dict[str, Any]:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SchemaImportError(f"{file}: cannot read: {exc.strerror}") from None
    text = decode_export(file, raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaImportError(f"{file}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise SchemaImportError(f"{file}: JSON nested too deeply to be an export") from None
    return _Reader(file).object(data, [], _SCHEMA)


def import_schema(file: Path, name: str, extends: str | None = "entra-id", roles: tuple[str, ...] = ()
                  ) -> dict[str, Any]:
    """The profile (as YAML-ready data) for one exported schema."""
    reader = _Reader(file)
    export = read_export(file)
    directories = _directories(reader, export)
    profile: dict[str, Any] = {"name": name}
    if extends:
        profile["extends"] = extends
    profile["description"] = (f"Imported from {file.name} (Entra provisioning schema"
                              f"{' ' + export['id'] if export.get('id') else ''}"
                              f"{', version ' + export['version'] if export.get('version') else ''}).")
    resources: dict[str, bool] = {}
    mappings: dict[str, list[dict[str, Any]]] = {}
    matching: dict[str, list[str]] = {}
    flows: dict[str, list[str]] = {}
    scope: dict[str, Any] = {}
    targets: dict[str, list[dict[str, Any]]] = {}
    for rule_path, rule in reader.items(export.get("synchronizationRules"), ["synchronizationRules"], _RULE):
        app = directories.get(str(rule.get("targetDirectoryName", "")).lower())
        if app is None:
            # Without the app's attribute list no mapping has a type: booleans would go out as strings.
            raise reader.fail([*rule_path, "targetDirectoryName"], f"{rule.get('targetDirectoryName')!r} is not in "
                              "directories[] (the export must carry the app's attribute list)")
        for where, mapping in reader.items(rule.get("objectMappings"), [*rule_path, "objectMappings"],
                                           _OBJECT_MAPPING):
            kind = _KINDS.get(str(mapping.get("sourceObjectName", "")).lower())
            if kind is None:
                raise reader.fail([*where, "sourceObjectName"], f"{mapping.get('sourceObjectName')!r}: "
                                  "only User and Group objects can be provisioned")
            if kind in resources:
                raise reader.fail(where, f"a second object mapping for {kind}")
            resources[kind] = bool(mapping.get("enabled", True))
            flows[kind] = _object_flows(reader, mapping.get("flowTypes"), [*where, "flowTypes"])
            attributes = app.get(str(mapping.get("targetObjectName", "")).lower())
            if attributes is None:
                raise reader.fail([*where, "targetObjectName"], f"{mapping.get('targetObjectName')!r} is not an "
                                  f"object of directory {rule.get('targetDirectoryName')!r}")
            known = _known_sources(directories, rule, mapping, kind)
            if mapping.get("scope"):
                try:
                    scoping.check(mapping["scope"], known, sample_users() if kind == "users" else group_source()[1])
                except scoping.ScopeError as exc:
                    raise SchemaImportError(f"{file}: {_path([*where, 'scope'])}.{exc}") from None
                scope[kind] = mapping["scope"]
            ranked_rows = [_mapping(reader, row_path, row, kind, attributes, known)
                           for row_path, row in reader.items(mapping.get("attributeMappings"),
                                                             [*where, "attributeMappings"], _ATTRIBUTE_MAPPING)]
            seen: dict[str, int] = {}
            for i, (row, _priority) in enumerate(ranked_rows):
                first = seen.setdefault(row["target"].lower(), i)
                if first != i:
                    raise reader.fail([*where, "attributeMappings", i, "targetAttributeName"],
                                      f"{row['target']!r} is mapped already by attributeMappings[{first}]: "
                                      "Entra sends one value per target attribute")
            mappings[kind] = [row for row, _priority in ranked_rows]
            ranked = sorted((priority, row["target"]) for row, priority in ranked_rows if priority)
            if ranked:
                matching[kind] = [target for _priority, target in ranked]
            if attributes:
                targets[kind] = list(attributes.values())
    if not resources.get("users"):
        raise SchemaImportError(f"{file}: no enabled object mapping for users: the suite checks user provisioning")
    more = {kind: _undocumented(rows, kind) for kind, rows in mappings.items()}
    uses_roles = [row["target"] for row in mappings.get("users", [])
                  if _APP_ROLE_FUNCTIONS & set(row.pop("_functions", ()))]
    for rows in mappings.values():
        for row in rows:
            row.pop("_functions", None)
            row.pop("_attributes", None)
    if uses_roles and not roles:
        raise SchemaImportError(f"{file}: the mapping of {uses_roles[0]} sends app role assignments: name the "
                                "app's role values with --role (Enterprise applications > App roles), the first "
                                "one assigned to the generated users")
    profile["resources"] = {"users": True, "groups": resources.get("groups", False)}
    if matching:
        profile["matching"] = matching
    profile["mappings"] = mappings
    if roles:
        profile["roles"] = list(roles)
    profile["password_sync"] = any(row["target"].lower() == "password" for row in mappings.get("users", []))
    if flows:
        profile["flow_types"] = flows
    if scope:
        profile["scope"] = scope
    if targets:
        profile["target_attributes"] = targets
    if any(more.values()):
        profile["source_attributes"] = {kind: names for kind, names in more.items() if names}
    profile["requirements"] = {"capabilities": _capabilities(extends, profile)}
    return profile


def _undocumented(rows: list[dict[str, Any]], kind: str) -> list[str]:
    """Source attributes the mappings name that only the export lists (a profile names them for the loader)."""
    documented = (user_source("Microsoft Entra ID") if kind == "users" else group_source())[0]
    return sorted({name for row in rows for name in row.get("_attributes", ()) if name not in documented})


def _capabilities(extends: str | None, profile: dict[str, Any]) -> list[str]:
    """The parent's capabilities, less what the tenant switched off, plus what its mappings add."""
    inherited = sorted(load_profile(extends).capabilities) if extends else ["connection", "matching", "users"]
    users = profile["mappings"].get("users", [])
    # The checks the tenant's mappings drive (conformance/test_mappings.py) run for every imported profile.
    wanted = [c for c in inherited if c != "groups" or profile["resources"]["groups"]] + ["mappings"]
    if profile["password_sync"]:
        wanted.append("password")
    if profile.get("roles"):
        wanted.append("roles")
    if any(row["target"].startswith("emails[") and row["target"] != 'emails[type eq "work"].value' for row in users):
        wanted.append("custom-emails")
    return sorted(set(wanted))


def _directories(reader: _Reader, export: dict[str, Any]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """directory name -> object name -> attribute name (all lower case) -> what a profile keeps of it."""
    found: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for where, directory in reader.items(export.get("directories"), ["directories"], _DIRECTORY):
        objects: dict[str, dict[str, dict[str, Any]]] = {}
        for object_path, definition in reader.items(directory.get("objects"), [*where, "objects"], _OBJECT):
            attributes: dict[str, dict[str, Any]] = {}
            for path, attribute in reader.items(definition.get("attributes"), [*object_path, "attributes"],
                                                _ATTRIBUTE):
                kind = _TYPES.get(str(attribute.get("type", "String")).lower())
                if kind is None or not attribute.get("name"):
                    raise reader.fail([*path, "type" if attribute.get("name") else "name"],
                                      f"{attribute.get('type')!r} is not an attribute type Entra exports"
                                      if attribute.get("name") else "an attribute needs a name")
                kept: dict[str, Any] = {"name": attribute["name"], "type": kind}
                if attribute.get("multivalued"):
                    kept["multivalued"] = True
                if attribute.get("required"):
                    kept["required"] = True
                attributes[attribute["name"].lower()] = kept
            objects[str(definition.get("name", "")).lower()] = attributes
        found[str(directory.get("name", "")).lower()] = objects
    return found


def _object_flows(reader: _Reader, text: Any, where: list[str | int]) -> list[str]:
    if text is None:
        return list(_OBJECT_FLOWS)  # Graph's default
    flows = [part.strip() for part in str(text).split(",") if part.strip()]
    unknown = [f for f in flows if f not in _OBJECT_FLOWS]
    if unknown:
        raise reader.fail(where, f"{unknown[0]!r} is not one of Add, Update, Delete")
    return flows


def _known_sources(directories: dict[str, dict[str, dict[str, dict[str, Any]]]], rule: dict[str, Any],
                   mapping: dict[str, Any], kind: str) -> KnownAttributes:
    """The source attributes a mapping may name: the export's own source directory's list when it carries one
    (what that tenant's Entra offers), else Microsoft's documented Entra attributes and directory extensions."""
    listed = directories.get(str(rule.get("sourceDirectoryName", "")).lower(), {}).get(
        str(mapping.get("sourceObjectName", "")).lower())
    if listed:
        return KnownAttributes(frozenset(a["name"] for a in listed.values()), extensions=False)
    return (user_source("Microsoft Entra ID") if kind == "users" else group_source())[0]


def _mapping(reader: _Reader, where: list[str | int], row: dict[str, Any], kind: str,
             attributes: dict[str, dict[str, Any]], known: KnownAttributes) -> tuple[dict[str, Any], int]:
    target = row.get("targetAttributeName")
    if not target:
        raise reader.fail([*where, "targetAttributeName"], "a mapping needs its target attribute")
    definition = attributes.get(target.lower())
    if definition is None:
        raise reader.fail([*where, "targetAttributeName"], f"{target!r} is not in the app's attribute list "
                          "(directories[].objects[].attributes[])")
    kind_of = definition["type"]
    out: dict[str, Any] = {"target": target}
    node: Node | None = None
    if row.get("source") is not None:
        reader.source(row["source"], [*where, "source"])
        try:
            node = _source(row["source"], _path([*where, "source"]))
            check(node, known)
        except ExpressionError as exc:
            raise SchemaImportError(f"{reader.file}: {_path(where)} ({target}): source: {exc}") from None
        out["source"] = source_text(node)
    if kind_of != "string":
        out["type"] = kind_of
    default = row.get("defaultValue")
    if default not in (None, ""):
        out["default"] = _default(reader, default, kind_of, [*where, "defaultValue"])
    if "source" not in out and "default" not in out:
        raise reader.fail(where, f"{target}: neither a source nor a default value")
    priority = row.get("matchingPriority") or 0
    if priority < 0:
        raise reader.fail([*where, "matchingPriority"], f"{priority} is negative")
    if priority:
        out["matching"] = priority
    flow = row.get("flowType") or "Always"
    if flow not in FLOW_TYPES:
        raise reader.fail([*where, "flowType"], f"{flow!r} is not one of {', '.join(FLOW_TYPES)}")
    if flow != "Always":
        out["flow"] = flow
    behavior = row.get("flowBehavior") or FLOW_BEHAVIORS[0]
    if behavior not in FLOW_BEHAVIORS:
        raise reader.fail([*where, "flowBehavior"], f"{behavior!r} is not one of {', '.join(FLOW_BEHAVIORS)}")
    if behavior != FLOW_BEHAVIORS[0]:
        out["flow_behavior"] = behavior
    if priority and "SelectUniqueValue" in functions(node):
        # Microsoft: SelectUniqueValue is not supported on a matching attribute (its value is not known up front).
        raise reader.fail([*where, "matchingPriority"], f"{target}: SelectUniqueValue cannot feed a matching "
                          "attribute")
    out["_functions"] = functions(node)
    out["_attributes"] = named_attributes(node)
    return out, priority


def _source(tree: dict[str, Any], where: str) -> Node:
    """The tree, unless Entra's own string rendering of it has the same content in other positions.

    A tree names its parameters and leaves the empty ones out; the string keeps every position. Where our
    table of parameter names does not know a key, the string is the better witness of where each goes. What
    is evaluated (functions, attributes) always comes from the tree.
    """
    node = from_tree(tree, where)
    text = tree.get("expression")
    if not text:
        return node
    try:
        rendered = parse(text)
    except ExpressionError:
        return node  # Entra's rendering of a constant or an attribute is not always our syntax; the tree is
    same_content = (functions(rendered), named_attributes(rendered)) == (functions(node), named_attributes(node))
    if functions(rendered) == functions(node) and comparisons(rendered) > comparisons(node):
        return rendered  # the comparison is in the string only (the tree lost it, or holds it in a shape unread)
    return rendered if same_content and _trimmed(rendered) != _trimmed(node) else node


def _trimmed(node: Node | None) -> Any:
    """A node with trailing empty arguments dropped at every level (the tree form never has them)."""
    if isinstance(node, Function):
        arguments = [_trimmed(a) for a in node.arguments]
        while arguments and arguments[-1] is None:
            arguments.pop()
        return Function(node.name, tuple(arguments))
    if isinstance(node, Comparison):
        return Comparison(node.operator, _trimmed(node.left), _trimmed(node.right))
    return node


def _default(reader: _Reader, text: str, kind: str, where: list[str | int]) -> Any:
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise reader.fail(where, f"{text!r} is not a boolean for a boolean attribute")
        return text.lower() == "true"
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            raise reader.fail(where, f"{text!r} is not an integer for an integer attribute")
        return int(text)
    return text


def render(profile: dict[str, Any], file: Path) -> str:
    header = (f"# Imported by `scim-conformance profiles import {file.name}`. Re-import after changing the\n"
              "# mappings in Entra rather than editing this file; `scim-conformance profiles --show <file>`\n"
              "# prints it resolved.\n")
    text = yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=110)
    for kind in profile.get("mappings", {}):
        if not profile.get("resources", {}).get(kind, True):
            # The rows stay for whoever switches the object mapping on; the suite does not run them.
            mappings = text.index("\nmappings:\n")
            at = text.index(f"\n  {kind}:\n", mappings) + 1
            note = (f"  # Disabled in the tenant (its object mapping for {kind} is off): kept for reference, "
                    f"not run (resources.{kind}: false).\n")
            text = text[:at] + note + text[at:]
    return header + text




def _output_path(schema: Path, output: Path | None) -> Path:
    """Where the profile goes: always a `.yaml` file whose name is a profile name no bundled profile has."""
    output = output or Path(f"{_slug(schema.stem)}.yaml")
    if output.suffix == "":
        output = output.with_name(f"{output.name}.yaml")  # -o okta is the profile okta, in okta.yaml
    if output.suffix != ".yaml":
        raise SchemaImportError(f"{output}: a profile is written to a .yaml file (use -o {_slug(output.stem)}.yaml)")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", output.stem):
        raise SchemaImportError(f"{output}: a profile's file name is its name: lower-case letters, digits and "
                                "dashes (use -o my-tenant.yaml)")
    if output.stem in {p.stem for p in available_profiles()}:
        # Beside other profiles it would stand in for the bundled one in every `extends` (itself included).
        raise SchemaImportError(f"{output}: {output.stem!r} is the name of a bundled profile: name the tenant's "
                                f"own (use -o my-{output.stem}.yaml)")
    for folder in output.parents:
        if folder.exists() and not folder.is_dir():
            raise SchemaImportError(f"{output}: {folder} is a file, not a directory")
    if output.is_dir():
        raise SchemaImportError(f"{output}: is a directory (name the profile file, e.g. {output / 'my-tenant.yaml'})")
    return output


def _write_atomically(output: Path, text: str) -> None:
    """The file complete or not at all: written beside its place, then renamed over it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_import(schema: Path, output: Path | None, extends: str | None, roles: tuple[str, ...], force: bool) -> int:
    """The `profiles import` command: 0 written, 2 refused (one line on stderr, nothing left behind)."""
    try:
        output = _output_path(schema, output)
        if output.exists() and not force:
            raise SchemaImportError(f"{output}: exists already (--force replaces it)")
        profile = import_schema(schema, output.stem, extends, roles)
        previous = output.read_bytes() if output.exists() else None
    except (SchemaImportError, ProfileError) as exc:
        return _refused(str(exc))
    except OSError as exc:
        return _refused(f"{exc.filename or output}: {exc.strerror or exc}")
    try:
        _write_atomically(output, render(profile, schema))
    except OSError as exc:
        return _refused(f"{output}: cannot write: {exc.strerror or exc}")
    try:
        loaded = load_profile(str(output))
    except ProfileError as exc:
        if previous is None:
            output.unlink()
        else:
            output.write_bytes(previous)
        return _refused(f"the profile written from {schema} does not load: {exc}")
    users = len(loaded.user_mappings)
    print(f"{output}: profile {loaded.name} ({users} user mappings"
          f"{f', {len(loaded.group_mappings)} group mappings' if loaded.groups else ', groups off'}); run it with "
          f"scim-conformance run --profile {output}")
    return ExitCode.OK


def _refused(message: str) -> int:
    print(f"scim-conformance: import error: {message}", file=sys.stderr)
    return ExitCode.USAGE


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "imported-tenant"


__all__ = ["SchemaImportError", "import_schema", "read_export", "render", "run_import"]
