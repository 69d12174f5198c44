"""SCIM filter expressions (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a recursive-descent parser and
an evaluator over plain JSON documents.

Beyond the RFC grammar the parser accepts Entra's ``emails[type eq "work"].value eq "x"`` (a comparison on
a sub-attribute after the value filter), which Microsoft sends for email matching.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .schemas import AttrDef


class FilterError(ValueError):
    """A filter or path that cannot be parsed or evaluated; answered as 400 invalidFilter / invalidPath."""


COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) | (?P<lbracket>\[) | (?P<rbracket>\]) |
        (?P<string>"(?:[^"\\]|\\.)*") |
        (?P<word>[^\s()\[\]"]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class AttrPath:
    """``urn:...:attr.sub``; urn is None when the name is not URN-qualified."""

    urn: str | None
    attr: str
    sub: str | None = None

    def __str__(self) -> str:
        text = f"{self.urn}:{self.attr}" if self.urn else self.attr
        return f"{text}.{self.sub}" if self.sub else text


@dataclass
class Compare:
    path: AttrPath
    op: str
    value: Any
    # Filled in by bind(): how the attribute compares, from the schema.
    case_exact: bool = False
    boolean: bool = False


@dataclass
class Present:
    path: AttrPath


@dataclass
class And:
    left: Node
    right: Node


@dataclass
class Or:
    left: Node
    right: Node


@dataclass
class Not:
    expr: Node


@dataclass
class ValuePath:
    """``attr[filter]`` optionally followed by ``.sub op value`` (the Entra form) as ``then``."""

    path: AttrPath
    filter: Node
    then: Compare | Present | None = None


Node = Compare | Present | And | Or | Not | ValuePath


@dataclass
class Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.lastgroup is None:
            raise FilterError(f"unexpected character at position {pos}: {text[pos:pos + 10]!r}")
        tokens.append(Token(match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)))
        pos = match.end()
    return tokens


def parse_attr_path(word: str) -> AttrPath:
    """Split ``urn:...:User:name.givenName`` into URN, attribute and sub-attribute."""
    urn: str | None = None
    rest = word
    if word.lower().startswith("urn:"):
        urn, _, rest = word.rpartition(":")
        if not urn or not rest:
            raise FilterError(f"invalid attribute path: {word!r}")
    attr, dot, sub = rest.partition(".")
    if not _NAME.match(attr) or (dot and not _NAME.match(sub)):
        raise FilterError(f"invalid attribute path: {word!r}")
    return AttrPath(urn, attr, sub or None)


class _Parser:
    def __init__(self, text: str, flat_precedence: bool = False) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.flat_precedence = flat_precedence  # the filter-flat-precedence defect: and/or left to right

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None) -> Token:
        token = self.peek()
        if token is None:
            raise FilterError(f"unexpected end of filter: {self.text!r}")
        if kind and token.kind != kind:
            raise FilterError(f"expected {kind} at position {token.pos}, found {token.text!r}")
        self.i += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token and token.kind == "word" and token.text.lower() in words:
            self.i += 1
            return token.text.lower()
        return None

    def expression(self) -> Node:
        if self.flat_precedence:
            node = self.factor()
            while word := self.keyword("and", "or"):
                node = And(node, self.factor()) if word == "and" else Or(node, self.factor())
            return node
        node = self.conjunction()
        while self.keyword("or"):
            node = Or(node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.factor()
        while self.keyword("and"):
            node = And(node, self.factor())
        return node

    def factor(self) -> Node:
        token = self.peek()
        if token is None:
            raise FilterError(f"unexpected end of filter: {self.text!r}")
        if token.kind == "open":
            self.take()
            node = self.expression()
            self.take("close")
            return node
        nxt = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
        if token.kind == "word" and token.text.lower() == "not" and nxt and nxt.kind == "open":
            self.take()
            self.take("open")
            node = self.expression()
            self.take("close")
            return Not(node)
        return self.attribute_expression()

    def attribute_expression(self) -> Node:
        token = self.take("word")
        path = parse_attr_path(token.text)
        nxt = self.peek()
        if nxt and nxt.kind == "lbracket":
            if path.sub:
                raise FilterError(f"a value filter applies to an attribute, not {token.text!r}")
            self.take()
            inner = self.expression()
            self.take("rbracket")
            after = self.peek()
            if after and after.kind == "word" and after.text.startswith("."):
                # Entra's emails[type eq "work"].value eq "x": a comparison on the filtered elements.
                self.take()
                sub = after.text[1:]
                if not _NAME.match(sub):
                    raise FilterError(f"invalid sub-attribute after value filter: {after.text!r}")
                return ValuePath(path, inner, self.comparison(AttrPath(None, sub)))
            return ValuePath(path, inner)
        return self.comparison(path)

    def comparison(self, path: AttrPath) -> Compare | Present:
        token = self.take("word")
        op = token.text.lower()
        if op == "pr":
            return Present(path)
        if op not in COMPARE_OPS:
            raise FilterError(f"unknown operator {token.text!r} at position {token.pos}")
        return Compare(path, op, self.literal())

    def literal(self) -> Any:
        token = self.take()
        if token.kind == "string":
            try:
                return json.loads(token.text)
            except ValueError as exc:
                raise FilterError(f"invalid string literal {token.text!r}") from exc
        if token.kind == "word":
            lowered = token.text.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
            if _NUMBER.match(token.text):
                number = float(token.text)
                return int(number) if number.is_integer() and "." not in token.text else number
        raise FilterError(f"expected a value (quoted string, number, true, false or null), found {token.text!r}")


def parse_filter(text: str, *, flat_precedence: bool = False) -> Node:
    if not isinstance(text, str) or not text.strip():
        raise FilterError("empty filter")
    if len(text) > 4096:
        raise FilterError("filter too long")
    parser = _Parser(text, flat_precedence)
    try:
        node = parser.expression()
    except RecursionError as exc:
        raise FilterError("filter nested too deeply") from exc
    rest = parser.peek()
    if rest is not None:
        raise FilterError(f"unexpected {rest.text!r} at position {rest.pos}")
    return node


@dataclass(frozen=True)
class PatchPath:
    """A PATCH ``path``: attribute (maybe URN-qualified), optional value filter, optional sub-attribute."""

    urn: str | None
    attr: str
    filter: Node | None = None
    sub: str | None = None
    text: str = field(default="", compare=False)


def parse_patch_path(text: str) -> PatchPath:
    if not isinstance(text, str) or not text.strip():
        raise FilterError("empty path")
    text = text.strip()
    bracket = text.find("[")
    if bracket < 0:
        path = parse_attr_path(text)
        return PatchPath(path.urn, path.attr, None, path.sub, text)
    close = text.rfind("]")
    if close < bracket:
        raise FilterError(f"unbalanced brackets in path {text!r}")
    head = parse_attr_path(text[:bracket])
    if head.sub:
        raise FilterError(f"a value filter applies to an attribute, not {text[:bracket]!r}")
    inner = parse_filter(text[bracket + 1:close])
    tail = text[close + 1:]
    sub: str | None = None
    if tail:
        if not tail.startswith(".") or not _NAME.match(tail[1:]):
            raise FilterError(f"invalid text after the value filter in path {text!r}")
        sub = tail[1:]
    return PatchPath(head.urn, head.attr, inner, sub, text)


# --- Binding: attach schema knowledge to a parsed filter ---------------------------------------------

# Given (urn, attr, sub) under an optional parent definition, find the attribute's definition.
Resolver = Callable[[AttrPath, "AttrDef | None"], "AttrDef | None"]


@dataclass
class BindOptions:
    case_exact: Callable[[AttrPath, AttrDef | None], bool]
    reject_string_booleans: bool = False


def bind(node: Node, resolve: Resolver, options: BindOptions, parent: AttrDef | None = None) -> Node:
    """Annotate comparisons with caseExact and boolean-ness, coercing "True"/"False" literals."""
    if isinstance(node, And | Or):
        bind(node.left, resolve, options, parent)
        bind(node.right, resolve, options, parent)
    elif isinstance(node, Not):
        bind(node.expr, resolve, options, parent)
    elif isinstance(node, ValuePath):
        outer = resolve(node.path, parent)
        bind(node.filter, resolve, options, outer)
        if node.then is not None:
            bind(node.then, resolve, options, outer)
    elif isinstance(node, Compare):
        definition = resolve(node.path, parent)
        if definition is not None and definition.type == "complex" and node.path.sub is None:
            # "members eq id" compares the complex attribute's value sub-attribute.
            definition = definition.sub("value") or definition
        node.case_exact = options.case_exact(node.path, definition)
        if definition is not None and definition.type == "boolean":
            node.boolean = True
            if isinstance(node.value, str):
                # Entra writes roles[primary eq "True"]: a string where the RFC wants a boolean.
                if options.reject_string_booleans:
                    raise FilterError(f"{node.path} is a boolean; compare it with true or false, not a string")
                if node.value.lower() in ("true", "false"):
                    node.value = node.value.lower() == "true"
        if node.op in ("gt", "ge", "lt", "le") and (isinstance(node.value, bool) or node.value is None):
            raise FilterError(f"'{node.op}' cannot compare with {json.dumps(node.value)}")
        if node.op in ("co", "sw", "ew") and not isinstance(node.value, str):
            raise FilterError(f"'{node.op}' needs a string value")
    return node


def walk(node: Node) -> list[Node]:
    """Every node of the tree, for questions like "does this filter mention externalId"."""
    out: list[Node] = [node]
    if isinstance(node, And | Or):
        out += walk(node.left) + walk(node.right)
    elif isinstance(node, Not):
        out += walk(node.expr)
    elif isinstance(node, ValuePath):
        out += walk(node.filter)
        if node.then is not None:
            out += walk(node.then)
    return out


# --- Evaluation ---------------------------------------------------------------------------------------


def get_ci(obj: Any, name: str) -> Any:
    """Look a key up in a JSON object ignoring case (attribute names are case-insensitive)."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    lowered = name.lower()
    for key, value in obj.items():
        if key.lower() == lowered:
            return value
    return None


def _container(resource: dict[str, Any], urn: str | None, core_urn: str) -> Any:
    if urn is None or urn.lower() == core_urn.lower():
        return resource
    return get_ci(resource, urn)


def _values(obj: Any, path: AttrPath, core_urn: str) -> list[Any]:
    """Every leaf value the path reaches, flattening multi-valued attributes (any element may match)."""
    container = _container(obj, path.urn, core_urn) if isinstance(obj, dict) else None
    value = get_ci(container, path.attr)
    if value is None and path.urn is None and core_urn and isinstance(obj, dict):
        # An unqualified name the core schema lacks may live in an extension (Entra's old
        # "manager eq <id>" lookup names the enterprise attribute without its URN).
        for key, extension in obj.items():
            if key.lower().startswith("urn:") and isinstance(extension, dict):
                value = get_ci(extension, path.attr)
                if value is not None:
                    break
    items = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in items:
        if path.sub is not None:
            item = get_ci(item, path.sub)
        elif isinstance(item, dict) and "value" in item:
            # A complex attribute compared without a sub-attribute compares its "value" (members eq "id").
            item = item["value"]
        if isinstance(item, list):
            out.extend(item)
        elif item is not None:
            out.append(item)
    return out


def sort_value(resource: dict[str, Any], path: AttrPath, core_urn: str) -> Any:
    """The value a resource is sorted by (RFC 7644 §3.4.2.3): a multi-valued attribute sorts by its primary
    value, else its first one."""
    container = _container(resource, path.urn, core_urn)
    value = get_ci(container, path.attr)
    if isinstance(value, list):
        chosen = next((v for v in value if isinstance(v, dict) and get_ci(v, "primary") is True), None)
        value = chosen if chosen is not None else (value[0] if value else None)
    if isinstance(value, dict):
        value = get_ci(value, path.sub or "value")
    return value


def _compare_one(actual: Any, node: Compare) -> bool:
    expected = node.value
    op = node.op
    if isinstance(actual, bool) or isinstance(expected, bool):
        # Stored booleans are JSON booleans; a string "True" left in the document still counts.
        if isinstance(actual, str) and actual.lower() in ("true", "false"):
            actual = actual.lower() == "true"
        return op == "eq" and isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    if isinstance(actual, str) and isinstance(expected, str):
        if not node.case_exact:
            actual, expected = actual.lower(), expected.lower()
    elif isinstance(actual, int | float) and isinstance(expected, int | float):
        pass
    else:
        return False
    if op == "eq":
        return bool(actual == expected)
    if op == "co":
        return bool(expected in actual)
    if op == "sw":
        return bool(actual.startswith(expected))
    if op == "ew":
        return bool(actual.endswith(expected))
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "le":
        return bool(actual <= expected)
    return False


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def matches(node: Node, obj: Any, core_urn: str = "") -> bool:
    """Does the JSON object (a resource, or one element of a multi-valued attribute) satisfy the filter?"""
    if isinstance(node, And):
        return matches(node.left, obj, core_urn) and matches(node.right, obj, core_urn)
    if isinstance(node, Or):
        return matches(node.left, obj, core_urn) or matches(node.right, obj, core_urn)
    if isinstance(node, Not):
        return not matches(node.expr, obj, core_urn)
    if isinstance(node, Present):
        return any(_present(v) for v in _values(obj, node.path, core_urn))
    if isinstance(node, ValuePath):
        container = _container(obj, node.path.urn, core_urn) if isinstance(obj, dict) else None
        elements = get_ci(container, node.path.attr)
        if not isinstance(elements, list):
            elements = [elements] if isinstance(elements, dict) else []
        for element in elements:
            if not matches(node.filter, element):
                continue
            if node.then is None or matches(node.then, element):
                return True
        return False
    if isinstance(node, Compare):
        values = _values(obj, node.path, core_urn)
        if node.value is None:
            # "eq null" asks for absence, "ne null" for presence.
            present = any(_present(v) for v in values)
            return present if node.op == "ne" else (not present if node.op == "eq" else False)
        if node.op == "ne":
            return not any(_compare_one(v, Compare(node.path, "eq", node.value, node.case_exact)) for v in values)
        return any(_compare_one(v, node) for v in values)
    raise FilterError(f"cannot evaluate {node!r}")


def equality_terms(node: Node) -> dict[str, Any]:
    """``type eq "work" and primary eq true`` → {"type": "work", "primary": True}: used to build the element
    a PATCH creates when a value-filtered path matches nothing."""
    if isinstance(node, Compare) and node.op == "eq" and node.path.urn is None and node.path.sub is None:
        return {node.path.attr: node.value}
    if isinstance(node, And):
        return {**equality_terms(node.left), **equality_terms(node.right)}
    return {}
