"""PATCH (RFC 7644 §3.5.2) with the tolerance Entra ID needs.

Operations are applied in order to a copy of the stored document; the caller cleans and stores the result
only if every operation succeeded, so a PatchOp is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .defects import Defects
from .errors import ScimError, invalid_syntax, invalid_value
from .filters import FilterError, Node, PatchPath, equality_terms, get_ci, matches, parse_patch_path
from .resources import is_schema_urn
from .schemas import ENTERPRISE_USER, AttrDef, ResourceType, find_attr

MEMBER_ADD_CAP = 50  # what defect member-add-batch-capped keeps of one add

# Binds a value filter to the attribute it filters (schema knowledge: caseExact, booleans).
FilterBinder = Callable[[Node, "AttrDef | None"], Node]


def _invalid_path(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidPath")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _member_ids(value: Any) -> set[str]:
    ids: set[str] = set()
    for item in _as_list(value):
        ref = get_ci(item, "value") if isinstance(item, dict) else item
        if isinstance(ref, str):
            ids.add(ref)
    return ids


def _hashable_in(value: Any, ids: set[str]) -> bool:
    return isinstance(value, str) and value in ids


class Patcher:
    def __init__(
        self, rtype: ResourceType, defects: Defects, bind_filter: FilterBinder, resource_id: str | None = None
    ) -> None:
        self.rtype = rtype
        self.resource_id = resource_id
        self.defects = defects
        self.bind_filter = bind_filter
        # Attribute names are case-insensitive (Entra writes emails[type eq "other"].Value).
        self.exact_names = defects.on("path-case-sensitive")

    def apply(self, content: dict[str, Any], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid_syntax("a PatchOp must be a JSON object")
        operations = get_ci(body, "Operations")
        if not isinstance(operations, list) or not operations:
            raise invalid_syntax("a PatchOp needs a non-empty 'Operations' array")
        if self.defects.on("multi-op-first-only"):
            operations = operations[:1]
        for operation in operations:
            self._operation(content, operation)
        return content

    def _operation(self, content: dict[str, Any], operation: Any) -> None:
        if not isinstance(operation, dict):
            raise invalid_syntax("each operation must be a JSON object")
        op = get_ci(operation, "op")
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove"):
            if self.defects.on("unknown-op-ignored"):
                return
            raise invalid_syntax(f"'op' must be add, replace or remove, not {op!r}")
        if op != op.lower() and self.defects.on("op-case-sensitive"):
            raise invalid_syntax(f"unknown op {op!r}")
        op = op.lower()
        path = get_ci(operation, "path")
        value = get_ci(operation, "value")
        if path is None or path == "":
            if op == "remove":
                if self.defects.on("remove-without-path-ok"):
                    return
                raise ScimError(400, "'remove' needs a path", "noTarget")
            if self.defects.on("pathless-replace-rejected"):
                raise _invalid_path(f"'{op}' without a path is not supported")
            if not isinstance(value, dict):
                raise invalid_value(f"'{op}' without a path needs an object value")
            for key, item in value.items():
                self._pathless(content, op, key, item)
            return
        if not isinstance(path, str):
            raise _invalid_path("'path' must be a string")
        self._apply_path(content, op, path, value)

    def _pathless(self, content: dict[str, Any], op: str, key: str, item: Any) -> None:
        """One key of a path-less value: plain, dotted, URN-qualified, or an extension URN with an object."""
        if key.lower() == "id" and item == self.resource_id and not self.defects.on("pathless-id-rejected"):
            return  # Okta's group rename restates the group's own id beside displayName: nothing to change
        if is_schema_urn(key):
            if not isinstance(item, dict):
                raise invalid_value(f"{key} must map to an object")
            self._schema_object(content, op, key, item)
            return
        if "." in key and not key.lower().startswith("urn:") and self.defects.on("pathless-dotted-literal"):
            content[key] = item
            return
        self._apply_path(content, op, key, item)

    def _apply_path(self, content: dict[str, Any], op: str, text: str, value: Any) -> None:
        try:
            path = parse_patch_path(text)
        except FilterError as exc:
            raise _invalid_path(f"invalid path {text!r}: {exc}") from exc
        if (
            self.rtype.name == "User"
            and path.urn is None
            and path.attr.lower() == "manager"
            and path.filter is None
        ):
            # Entra's old documentation: {"op":"Add","path":"manager","value":[{"$ref":..,"value":id}]}.
            if isinstance(value, list) and self.defects.on("manager-legacy-500"):
                raise ScimError(500, "internal error")
            path = PatchPath(ENTERPRISE_USER, "manager", None, path.sub, text)
        core = path.urn is None or path.urn.lower() == self.rtype.core.id.lower()
        if not core and self.defects.on("urn-path-literal"):
            if op == "remove" or value is None:
                content.pop(text, None)
            else:
                content[text] = value
            return
        if is_schema_urn(text):
            # The path names a schema itself, not an attribute in it: the whole extension object.
            self._schema_object(content, op, text, value)
            return
        container, definition, name = self._resolve(content, path, core)
        if name is None:
            return  # an attribute no schema knows: ignored, like unknown attributes on create
        if definition is not None and definition.mutability == "readOnly":
            if self.defects.on("patch-readonly-ignored"):
                return
            raise ScimError(400, f"{definition.name} is read-only", "mutability")
        if definition is not None and definition.name == "manager" and path.sub is None:
            value = self._manager_value(value)
            if op == "replace" and value not in ({"value": ""}, None) and self.defects.on("manager-replace-ignored"):
                return
        if path.filter is not None:
            self._filtered(container, op, path, definition, name, value)
        elif path.sub is not None:
            self._sub_attribute(container, op, path, definition, name, value)
        else:
            self._whole(container, op, definition, name, value)
        if not core and not container:
            content.pop(self._extension_key(content, path.urn or ""), None)

    def _schema_object(self, content: dict[str, Any], op: str, urn: str, value: Any) -> None:
        """add/replace/remove on a schema's whole object (``urn:...:enterprise:2.0:User``).

        add and replace go attribute by attribute, so attributes the value leaves out are kept
        (RFC 7644 §3.5.2.1 and §3.5.2.3 on complex targets); remove drops the extension altogether."""
        core = urn.lower() == self.rtype.core.id.lower()
        if urn.lower() in self.rtype.ignored:
            return
        if op == "remove" or (op == "replace" and value is None):
            if core:
                raise _invalid_path("the core schema's attributes cannot be removed all at once")
            content.pop(self._extension_key(content, urn), None)
            return
        if value is None:
            return
        if not isinstance(value, dict):
            raise invalid_value(f"{urn} needs an object value")
        for name, item in value.items():
            if name.lower() == "schemas":
                continue  # a serialised extension may list its own URN; the server owns 'schemas'
            self._apply_path(content, op, name if core else f"{urn}:{name}", item)

    def _extension_key(self, content: dict[str, Any], urn: str) -> str:
        return next((k for k in content if k.lower() == urn.lower()), urn)

    def _resolve(
        self, content: dict[str, Any], path: PatchPath, core: bool
    ) -> tuple[dict[str, Any], AttrDef | None, str | None]:
        if core:
            definition = self.rtype.attribute(None, path.attr, exact=self.exact_names)
            return content, definition, definition.name if definition else None
        urn = path.urn or ""
        extension = self.rtype.extension(urn)
        if extension is None and urn.lower() in self.rtype.ignored:
            return content, None, None  # an extension this server does not declare: ignored, as on create
        key = extension.id if extension else self._extension_key(content, urn)
        existing = get_ci(content, key)
        container = existing if isinstance(existing, dict) else content.setdefault(key, {})
        if extension is not None:
            definition = find_attr(extension.attributes, path.attr, exact=self.exact_names)
            return container, definition, definition.name if definition else None
        # A custom extension without a schema: names as the client writes them, matched to stored keys.
        name = next((k for k in container if k.lower() == path.attr.lower()), path.attr)
        return container, None, name

    def _manager_value(self, value: Any) -> Any:
        if isinstance(value, str) and value and self.defects.on("manager-string-rejected"):
            raise invalid_value("manager must be an object")
        if isinstance(value, dict) and self.defects.on("manager-object-rejected"):
            raise invalid_value("manager must be the manager's id")
        if value == "":
            # Entra removes a manager by replacing it with "", like {"value": ""}; cleaning drops both.
            return {"value": ""}
        return value

    def _sub_name(self, definition: AttrDef | None, sub: str, element: Any = None) -> str | None:
        if definition is not None and definition.sub_attributes:
            found = definition.sub(sub, exact=self.exact_names)
            return found.name if found else None
        if isinstance(element, dict):
            return next((k for k in element if k.lower() == sub.lower()), sub)
        return sub

    # --- whole attribute ------------------------------------------------------------------------------

    def _whole(
        self, container: dict[str, Any], op: str, definition: AttrDef | None, name: str, value: Any
    ) -> None:
        multi = definition is not None and definition.multi_valued
        if name == "active" and str(value).lower() == "true" and container.get(name) is False \
                and self.defects.on("reactivation-ignored"):
            return
        if op == "remove":
            if multi and value is not None and value != []:
                self._remove_listed(container, name, value)
            else:
                container.pop(name, None)
            return
        if op == "replace":
            if value is None and self.defects.on("null-replace-rejected"):
                raise invalid_value(f"null is not a valid value for {name}")
            if value == "" and self.defects.on("empty-replace-ignored"):
                return
            if value is None or value == "":
                container.pop(name, None)
            elif multi and name == "members" and self.defects.on("member-replace-appends"):
                self._append(container, name, _as_list(value))
            elif multi:
                container[name] = self._dedupe(name, _as_list(value))
            elif isinstance(value, dict) and isinstance(container.get(name), dict) and name != "manager":
                container[name].update(value)  # RFC 7644 §3.5.2.3: sub-attributes not given are kept
            else:
                container[name] = value
            return
        # add
        if value is None:
            return
        if multi:
            self._append(container, name, _as_list(value))
        elif isinstance(value, dict) and isinstance(container.get(name), dict) and name != "manager":
            container[name].update(value)
        else:
            if container.get(name) not in (None, "") and self.defects.on("add-existing-400"):
                raise invalid_value(f"{name} already has a value")
            container[name] = value

    def _dedupe(self, name: str, items: list[Any]) -> list[Any]:
        if name != "members":
            return items
        seen: set[str] = set()
        out = []
        for item in items:
            ref = get_ci(item, "value") if isinstance(item, dict) else None
            if isinstance(ref, str):
                # Anything without a string id is left for cleaning to reject.
                if ref in seen:
                    continue
                seen.add(ref)
            out.append(item)
        return out

    def _append(self, container: dict[str, Any], name: str, items: list[Any]) -> None:
        current = container.get(name)
        current = list(current) if isinstance(current, list) else []
        if name == "members":
            if self.defects.on("member-add-ignored"):
                return
            if self.defects.on("member-add-first-only"):
                items = items[:1]
            if self.defects.on("member-add-batch-capped"):
                items = items[:MEMBER_ADD_CAP]
            present = _member_ids(current)
            for item in items:
                ref = get_ci(item, "value") if isinstance(item, dict) else None
                if not isinstance(ref, str):
                    raise invalid_value("each member needs a 'value' with the member's id")
                if ref in present:
                    if self.defects.on("member-add-duplicate-500"):
                        raise ScimError(500, "internal error")
                    continue  # adding a member twice is a no-op, not a duplicate
                present.add(ref)
                current.append(item)
        else:
            current.extend(item for item in items if item not in current)
        container[name] = current

    def _remove_listed(self, container: dict[str, Any], name: str, value: Any) -> None:
        """``remove`` with a path and a value list: drop only the listed elements (Entra's member removal)."""
        if name == "members":
            if self.defects.on("member-remove-value-list-rejected"):
                raise invalid_value("remove with a value list is not supported")
            if self.defects.on("member-remove-all"):
                container.pop(name, None)
                return
        current = container.get(name)
        if not isinstance(current, list):
            return
        ids = _member_ids(value)
        kept = [
            item
            for item in current
            if not ((isinstance(item, dict) and _hashable_in(item.get("value"), ids)) or item in _as_list(value))
        ]
        container[name] = kept

    # --- sub-attribute without a filter (name.givenName) --------------------------------------------

    def _sub_attribute(
        self,
        container: dict[str, Any],
        op: str,
        path: PatchPath,
        definition: AttrDef | None,
        name: str,
        value: Any,
    ) -> None:
        sub = self._sub_name(definition, path.sub or "", container.get(name))
        if sub is None:
            return
        clear = op == "remove" or value is None or (value == "" and not self.defects.on("empty-replace-ignored"))
        if op == "replace" and value is None and self.defects.on("null-replace-rejected"):
            raise invalid_value(f"null is not a valid value for {path.text}")
        if op == "replace" and value == "" and self.defects.on("empty-replace-ignored"):
            return
        current = container.get(name)
        if isinstance(current, list):
            # No filter on a multi-valued attribute: the operation applies to every element.
            for element in current:
                if isinstance(element, dict):
                    if clear:
                        element.pop(sub, None)
                    else:
                        element[sub] = value
            return
        if clear:
            if isinstance(current, dict):
                current.pop(sub, None)
                if not current:
                    container.pop(name, None)
            return
        if not isinstance(current, dict):
            current = container[name] = {}
        if op == "add" and current.get(sub) not in (None, "") and self.defects.on("add-existing-400"):
            raise invalid_value(f"{path.text} already has a value")
        current[sub] = value

    # --- value-filtered path (emails[type eq "work"].value) ----------------------------------------

    def _filtered(
        self,
        container: dict[str, Any],
        op: str,
        path: PatchPath,
        definition: AttrDef | None,
        name: str,
        value: Any,
    ) -> None:
        if definition is not None and not definition.multi_valued:
            raise _invalid_path(f"{name} is not multi-valued; a value filter does not apply")
        assert path.filter is not None
        try:
            condition = self.bind_filter(path.filter, definition)
        except FilterError as exc:
            raise ScimError(400, f"invalid filter in path {path.text!r}: {exc}", "invalidFilter") from exc
        current = container.get(name)
        elements: list[Any] = current if isinstance(current, list) else []
        matched = [e for e in elements if isinstance(e, dict) and matches(condition, e)]
        sub = self._sub_name(definition, path.sub) if path.sub else None
        if path.sub and sub is None:
            return
        if op == "remove":
            if name == "members" and self.defects.on("member-filter-remove-ignored"):
                return
            if sub:
                for element in matched:
                    element.pop(sub, None)
            else:
                container[name] = [e for e in elements if not any(e is m for m in matched)]
            return
        if op == "replace" and value is None and self.defects.on("null-replace-rejected"):
            raise invalid_value(f"null is not a valid value for {path.text}")
        if op == "replace" and value == "" and self.defects.on("empty-replace-ignored"):
            return
        if op == "replace" and value is None and self.defects.on("null-clear-filtered-ignored"):
            return
        if (matched and op == "replace" and value not in (None, "") and self.defects.on("patch-replace-nonwork-ignored")
                and any(str(v).lower() != "work" for k, v in equality_terms(condition).items() if k.lower() == "type")):
            return
        if matched:
            for element in matched:
                if sub:
                    if value is None or value == "":
                        element.pop(sub, None)
                    else:
                        element[sub] = value
                elif isinstance(value, dict):
                    element.update(value)
                else:
                    raise invalid_value(f"{path.text} needs an object value")
            return
        # No element matches: Entra expects the element to be created (RFC 7644 would say noTarget).
        if self.defects.on("patch-no-target-400"):
            raise ScimError(400, f"no element matches {path.text!r}", "noTarget")
        if value is None or value == "":
            return
        created: dict[str, Any] = {}
        for key, literal in equality_terms(condition).items():
            created[self._sub_name(definition, key) or key] = literal
        if sub:
            created[sub] = value
        elif isinstance(value, dict):
            created.update(value)
        else:
            raise invalid_value(f"{path.text} needs an object value")
        if self.defects.on("filtered-add-replaces-list"):
            container[name] = [created]
        else:
            container[name] = [*elements, created]
