"""How an identity provider words its requests: the `Dialect` a profile carries (Entra's two, Okta's).

Checks build every PatchOp, boolean and member through it, so one check serves every IdP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scim_conformance.attributes import CORE_GROUP, MS_GROUP, PATCH_OP

_UNSET: Any = object()


# The dialect keys added for a second IdP (Okta); their defaults keep Entra's wording.
_EXTENSION_KEYS = ("user_updates", "deactivation", "member_display", "lookup_params", "import_count",
                   "resource_meta", "enterprise_schema", "group_schemas", "empty_attributes")


@dataclass(frozen=True)
class Dialect:
    """How the IdP words its requests. Checks build every PatchOp through here, so one check serves every IdP."""

    op_case: str = "lower"
    booleans: str = "json"
    multi_attribute_replace: str = "per-path"
    member_removal: str = "value-filter"
    manager: str = "string"
    url_flag: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # Added for Okta (see _EXTENSION_KEYS); the defaults are what Entra sends.
    user_updates: str = "patch"  # profile changes as PATCH, or as PUT of the whole resource
    deactivation: str = "path"  # active on path "active", or in a path-less replace's value object
    member_display: bool = False  # members added as {value, display} instead of {$ref: null, value}
    lookup_params: Mapping[str, str] = field(default_factory=dict)  # sent with every filter lookup
    import_count: int | None = None  # page size of imports, which advance startIndex by it
    resource_meta: bool = True  # creates carry meta.resourceType
    enterprise_schema: str = "always"  # list the enterprise URN in schemas always, or only when sent
    group_schemas: tuple[str, ...] = (CORE_GROUP, MS_GROUP)
    empty_attributes: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"users": ("roles",), "groups": ()})

    def op(self, name: str) -> str:
        return name.capitalize() if self.op_case == "capitalized" else name.lower()

    def boolean(self, value: bool) -> bool | str:
        if self.booleans == "string":
            return "True" if value else "False"
        return value

    def operation(self, op: str, path: str | None = None, value: Any = _UNSET) -> dict[str, Any]:
        operation: dict[str, Any] = {"op": self.op(op)}
        if path is not None:
            operation["path"] = path
        if value is not _UNSET:
            operation["value"] = value
        return operation

    @staticmethod
    def patch(*operations: dict[str, Any]) -> dict[str, Any]:
        return {"schemas": [PATCH_OP], "Operations": list(operations)}

    def replace_attributes(self, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Replace several attributes at once, as the IdP words it.

        The compliant Entra dialect keeps value-filtered paths as their own operations and folds every
        other attribute into one path-less replace keyed by dotted and URN-qualified paths.
        """
        if self.multi_attribute_replace == "per-path":
            return [self.operation("replace", path, value) for path, value in values.items()]
        filtered = {p: v for p, v in values.items() if "[" in p}
        folded = {p: v for p, v in values.items() if "[" not in p}
        operations = [self.operation("replace", p, v) for p, v in filtered.items()]
        if folded:
            operations.append(self.operation("replace", value=dict(folded)))
        return operations

    def active(self, value: bool) -> dict[str, Any]:
        """The operation that activates or deactivates a user, in the IdP's form."""
        if self.deactivation == "path-less":
            return self.operation("replace", value={"active": self.boolean(value)})
        return self.operation("replace", "active", self.boolean(value))

    def member(self, user: str | Mapping[str, Any]) -> dict[str, Any]:
        """One element of members, as the IdP adds it (`user`: the created User, or only its id)."""
        user_id = user if isinstance(user, str) else user["id"]
        if self.member_display:
            display = None if isinstance(user, str) else user.get("userName")
            return {"value": user_id, "display": display} if display else {"value": user_id}
        return {"$ref": None, "value": user_id}

    def add_members(self, members: Sequence[str | Mapping[str, Any]]) -> dict[str, Any]:
        return self.operation("add", "members", [self.member(m) for m in members])

    def remove_members(self, member_ids: list[str]) -> list[dict[str, Any]]:
        if self.member_removal == "value-list":
            return [self.operation("remove", "members", [{"value": m} for m in member_ids])]
        return [self.operation("remove", f'members[value eq "{m}"]') for m in member_ids]

    def manager_value(self, manager_id: str) -> Any:
        return manager_id if self.manager == "string" else {"value": manager_id}

    def as_dict(self) -> dict[str, Any]:
        return {
            "op_case": self.op_case,
            "booleans": self.booleans,
            "multi_attribute_replace": self.multi_attribute_replace,
            "member_removal": self.member_removal,
            "manager": self.manager,
            "url_flag": self.url_flag,
            "headers": dict(self.headers),
            # The keys added later are shown only when set, so the profiles written before them read as before.
            **{key: _plain(getattr(self, key)) for key in _EXTENSION_KEYS
               if _plain(getattr(self, key)) != _plain(getattr(Dialect(), key))},
        }


def _plain(value: Any) -> Any:
    """A dialect value as YAML/JSON shows it (tuples as lists, mappings as dicts)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return value
