"""An object mapping's scoping filter (Graph's `filter` resource): which people and groups Entra provisions at all.

A filter holds three sets of groups (`categoryFilterGroups`, `inputFilterGroups`, `groups`); an object passes a
set when the set is empty or any one of its groups holds, and a group holds when every clause does. Entra
provisions only what passes all three, so the generator hands out only such objects and never sends another.
Clause operators follow the portal's list (Microsoft's "scoping filters" page): EQUALS and NOT EQUALS compare
case-sensitively, IS TRUE / IS FALSE / IS NULL / IS NOT NULL test the value, REGEX MATCH and NOT REGEX MATCH
match a .NET pattern, GREATER_THAN (and the other orderings) compare numbers, INCLUDES looks for a value inside.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Container, Iterator, Mapping
from typing import Any

from scim_conformance.sources import generated_value

GROUP_SETS = ("categoryFilterGroups", "inputFilterGroups", "groups")


class ScopeError(ValueError):
    """A filter the suite cannot apply; the message names the clause's path inside the filter."""


def _operator(name: Any) -> str:
    """One spelling for the several an export may carry: "NOT EQUALS", "Not_Equals", "GREATER_THAN" ..."""
    return re.sub(r"[\s_]+", " ", str(name or "")).strip().upper()


def _text(value: Any) -> str | None:
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, list):
        return _text(value[0])
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _values(clause: Mapping[str, Any]) -> list[str]:
    operand = clause.get("targetOperand") or {}
    return [str(v) for v in (operand.get("values") or [])] if isinstance(operand, Mapping) else []


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _regex(pattern: str) -> re.Pattern[str]:
    # .NET's named groups are (?<name>...); Python spells them (?P<name>...).
    return re.compile(re.sub(r"\(\?<(?![=!])(\w+)>", r"(?P<\1>", pattern))


def _ordered(test: Callable[[float, float], bool]) -> Callable[[Any, list[str]], bool]:
    def holds(value: Any, values: list[str]) -> bool:
        mine, theirs = _number(_text(value)), _number(values[0] if values else None)
        return mine is not None and theirs is not None and test(mine, theirs)
    return holds


def _includes(value: Any, values: list[str]) -> bool:
    items = [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
    return any(item is not None and wanted in item for item in items for wanted in values)


_OPERATORS: dict[str, Callable[[Any, list[str]], bool]] = {
    "EQUALS": lambda value, values: _text(value) in values,
    "NOT EQUALS": lambda value, values: _text(value) not in values,
    "IS TRUE": lambda value, values: _text(value) == "True" or (_text(value) or "").lower() == "true",
    "IS FALSE": lambda value, values: (_text(value) or "").lower() == "false",
    "IS NULL": lambda value, values: _text(value) is None,
    "IS NOT NULL": lambda value, values: _text(value) is not None,
    "REGEX MATCH": lambda value, values: _text(value) is not None and any(
        _regex(v).search(_text(value) or "") for v in values),
    "NOT REGEX MATCH": lambda value, values: not any(_regex(v).search(_text(value) or "") for v in values),
    "GREATER THAN": _ordered(lambda a, b: a > b),
    "GREATER THAN OR EQUALS": _ordered(lambda a, b: a >= b),
    "LESS THAN": _ordered(lambda a, b: a < b),
    "LESS THAN OR EQUALS": _ordered(lambda a, b: a <= b),
    "INCLUDES": _includes,
}


def _clauses(scope: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in GROUP_SETS:
        for g, group in enumerate(scope.get(key) or []):
            for c, clause in enumerate((group or {}).get("clauses") or []):
                yield f"{key}[{g}].clauses[{c}]", clause


def _shape(scope: Any) -> None:
    """Graph's shape: each set a list of groups, each group an object with a list of clauses."""
    if not isinstance(scope, Mapping):
        raise ScopeError(f"(top level): expected a filter object, got {type(scope).__name__}")
    for key in GROUP_SETS:
        groups = scope.get(key) or []
        if not isinstance(groups, list):
            raise ScopeError(f"{key}: expected a list of filter groups")
        for g, group in enumerate(groups):
            if not isinstance(group, Mapping) or not isinstance(group.get("clauses") or [], list):
                raise ScopeError(f"{key}[{g}]: expected a filter group with a list of clauses")
            for c, clause in enumerate(group.get("clauses") or []):
                operand = clause.get("targetOperand") if isinstance(clause, Mapping) else None
                if not isinstance(clause, Mapping) or not isinstance(operand or {}, Mapping) or not isinstance(
                        (operand or {}).get("values") or [], list):
                    raise ScopeError(f"{key}[{g}].clauses[{c}]: expected a clause with targetOperand.values a list")


def validate(scope: Mapping[str, Any], known: Container[str]) -> None:
    """Refuse a filter the suite could not apply: an unknown operator, an unknown attribute, a bad pattern."""
    _shape(scope)
    for where, clause in _clauses(scope):
        operator = _operator(clause.get("operatorName"))
        if operator not in _OPERATORS:
            raise ScopeError(f"{where}.operatorName: {clause.get('operatorName')!r} is not a scoping operator "
                             f"({', '.join(_OPERATORS)})")
        name = clause.get("sourceOperandName")
        if not isinstance(name, str) or name not in known:
            raise ScopeError(f"{where}.sourceOperandName: {name!r} is not a source attribute of the object")
        values = _values(clause)
        if operator in ("EQUALS", "NOT EQUALS", "REGEX MATCH", "NOT REGEX MATCH", "INCLUDES") and not values:
            raise ScopeError(f"{where}.targetOperand.values: {operator} needs a value")
        if operator.startswith(("GREATER", "LESS")) and _number(values[0] if values else None) is None:
            raise ScopeError(f"{where}.targetOperand.values: {operator} compares with a number, got {values!r}")
        if "REGEX" in operator:
            for pattern in values:
                try:
                    _regex(pattern)
                except re.error as exc:
                    raise ScopeError(f"{where}.targetOperand.values: {pattern!r}: {exc}") from None


def check(scope: Mapping[str, Any], known: Container[str], people: list[dict[str, Any]]) -> None:
    """`validate`, and refuse a filter none of the sample people can be fitted into (such a tenant provisions no
    one, and the generator could not make anyone it does)."""
    validate(scope, known)
    if not any(in_scope(scope, fit(scope, person, functools.partial(_made_up, person))) for person in people):
        raise ScopeError("no person can be in this scope (its clauses contradict each other, or a pattern "
                         "matches no value the suite can make up)")


def _made_up(person: dict[str, Any], name: str) -> Any:
    return generated_value(name, person, random.Random(0))


def attributes(scope: Mapping[str, Any] | None) -> list[str]:
    """The source attributes a filter reads, in order."""
    names: list[str] = []
    for _where, clause in _clauses(scope or {}):
        name = clause.get("sourceOperandName")
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def _holds(clause: Mapping[str, Any], person: Mapping[str, Any]) -> bool:
    return _OPERATORS[_operator(clause.get("operatorName"))](person.get(str(clause.get("sourceOperandName"))),
                                                             _values(clause))


def in_scope(scope: Mapping[str, Any] | None, person: Mapping[str, Any]) -> bool:
    """Whether Entra provisions this object under the filter (no filter: everything assigned is in scope)."""
    for key in GROUP_SETS:
        groups = (scope or {}).get(key) or []
        if groups and not any(all(_holds(c, person) for c in (g or {}).get("clauses") or []) for g in groups):
            return False
    return True


def fit(scope: Mapping[str, Any] | None, person: dict[str, Any], filler: Callable[[str], Any]) -> dict[str, Any]:
    """The person changed as little as needed to satisfy the first group of each set (a person the tenant would
    provision: in the US office, in Sales ...); `filler(name)` makes up a value for an attribute that must not be
    empty. The caller checks `in_scope` on the result: a pattern no value here satisfies leaves the person out."""
    changed = dict(person)
    for key in GROUP_SETS:
        groups = (scope or {}).get(key) or []
        if not groups or any(all(_holds(c, changed) for c in (g or {}).get("clauses") or []) for g in groups):
            continue
        for clause in (groups[0] or {}).get("clauses") or []:
            if not _holds(clause, changed):
                name, values = str(clause.get("sourceOperandName")), _values(clause)
                changed[name] = _satisfying(_operator(clause.get("operatorName")), values, changed.get(name),
                                            functools.partial(filler, name))
    return changed


def _satisfying(operator: str, values: list[str], current: Any, made_up: Callable[[], Any]) -> Any:
    if operator in ("EQUALS", "INCLUDES"):
        return values[0]
    if operator == "IS TRUE":
        return True
    if operator == "IS FALSE":
        return False
    if operator == "IS NULL":
        return None
    if operator.startswith(("GREATER", "LESS")):
        bound = _number(values[0]) or 0
        step = {"GREATER THAN": 1, "GREATER THAN OR EQUALS": 0, "LESS THAN": -1, "LESS THAN OR EQUALS": 0}[operator]
        return str(int(bound) + step) if float(bound).is_integer() else str(bound + step)
    if operator == "REGEX MATCH":
        literal = re.fullmatch(r"\^?([\w .@-]*)(?:\.\*)?\$?", values[0])
        return literal.group(1) if literal else current
    made = made_up()
    return made if _text(made) not in values else f"{_text(made)}-other"  # NOT EQUALS, NOT REGEX MATCH, IS NOT NULL


__all__ = ["GROUP_SETS", "ScopeError", "attributes", "check", "fit", "in_scope", "validate"]
