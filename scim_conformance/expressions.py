"""Entra ID's attribute-mapping expression language: parse it, read it from an export's tree, evaluate it.

A mapping's source is an expression such as `Join(" ", [givenName], [surname])`. Entra shows it as a
string on its mapping screen and stores it as a tree (`attributeMappingSource`: type Attribute /
Constant / Function, name, parameters) in the provisioning schema it exports. Both forms become the
same `Node`, which `check` validates against the attributes a source object has and `evaluate` turns
into the value Entra would send. Behaviour follows Microsoft's function reference; where it is silent,
docs/research/entra-expressions.md says what we chose.

Functions that draw random values or read the clock (Guid, RandomString, Now) take them from the
`Context`, so a run under `--seed` sends the same values again.
"""

from __future__ import annotations

import base64
import random
import re
import string
import unicodedata
import uuid
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Union

# Deeper than any expression a person writes, and shallow enough for every recursive walk here to stay within
# Python's recursion limit.
MAX_DEPTH = 100


class ExpressionError(ValueError):
    """An expression that cannot be parsed, checked or evaluated; the message is one line naming the function."""


@dataclass(frozen=True)
class Attribute:
    """`[name]`: the value of a source attribute."""

    name: str


@dataclass(frozen=True)
class Constant:
    """A constant, always held as its text ("1" and "&HF" too); functions read numbers from it."""

    value: str


@dataclass(frozen=True)
class Function:
    """A call; an empty argument (`Switch([x], , ...)`) is None in its position."""

    name: str
    arguments: tuple[Node | None, ...]


@dataclass(frozen=True)
class Comparison:
    """`left = right` and the other operators Entra allows inside a condition (IIF, CBool)."""

    operator: str
    left: Node
    right: Node


Node = Union[Attribute, Constant, Function, Comparison]  # noqa: UP007 - the dataclasses above refer to it by name


class _Ignore:
    """What IgnoreFlowIfNullOrEmpty yields: leave the attribute out of the request."""

    def __repr__(self) -> str:
        return "IGNORE"


IGNORE: Any = _Ignore()


@dataclass
class Context:
    """What an evaluation may draw on besides the source object: the run's RNG and clock."""

    rng: random.Random = field(default_factory=lambda: random.Random(0))
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))


# ---------------------------------------------------------------------------------------------------------------
# Parsing the string form

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<attribute>\[[^\]]*\])
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<hex>&[Hh][0-9A-Fa-f]+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][\w.]*)
  | (?P<operator><>|<=|>=|=|<|>)
  | (?P<punct>[(),])
""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"{text!r}: unexpected {text[position]!r} at position {position + 1}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group(), position))
        position = match.end()
    return tokens


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"{self.text!r}: ends too early (a ')' or an argument is missing)")
        self.at += 1
        return token

    def fail(self, token: tuple[str, str, int], what: str) -> ExpressionError:
        return ExpressionError(f"{self.text!r}: {what}, got {token[1]!r} at position {token[2] + 1}")

    def expression(self, top: bool = False) -> Node:
        left = self.operand(top)
        token = self.peek()
        if token and token[0] == "operator":
            self.take()
            return Comparison(token[1], left, self.operand(False))
        return left

    def operand(self, top: bool) -> Node:
        kind, text, _ = token = self.take()
        if kind == "attribute":
            return Attribute(text[1:-1].strip())
        if kind == "string":
            return Constant(_unquote(text))
        if kind in ("number", "hex"):
            return Constant(text)
        if kind == "name":
            following = self.peek()
            if following and following[1] == "(":
                return self.call(text)
            # A bare name alone is the mapping screen's direct mapping; inside a call it is a word such as
            # vbBinaryCompare.
            return Attribute(text) if top else Constant(text)
        raise self.fail(token, "expected an attribute, a string, a number or a function")

    def call(self, name: str) -> Function:
        opening = self.take()  # (
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(opening, f"nested deeper than {MAX_DEPTH} functions")
        arguments: list[Node | None] = []
        token = self.peek()
        if token and token[1] == ")":
            self.take()
            self.depth -= 1
            return Function(name, ())
        while True:
            token = self.peek()
            if token and token[1] in (",", ")"):
                arguments.append(None)
            else:
                arguments.append(self.expression())
            separator = self.take()
            if separator[1] == ")":
                self.depth -= 1
                return Function(name, tuple(arguments))
            if separator[1] != ",":
                raise self.fail(separator, f"{name}: expected ',' or ')'")


def parse(text: str) -> Node:
    """The string form: `Join(" ", [givenName], [surname])`, or a bare attribute name for a direct mapping."""
    parser = _Parser(text)
    if not parser.tokens:
        raise ExpressionError("an empty expression")
    node = parser.expression(top=True)
    rest = parser.peek()
    if rest is not None:
        raise parser.fail(rest, "expected the end of the expression")
    return node


# ---------------------------------------------------------------------------------------------------------------
# The tree form of an export, and back to text

def from_tree(tree: Any, where: str = "source") -> Node:
    """An `attributeMappingSource` object; `where` is its JSON path, for the error message."""
    if not isinstance(tree, Mapping):
        raise ExpressionError(f"{where}: expected an object, got {type(tree).__name__}")
    kind, name = tree.get("type", "Attribute"), tree.get("name")
    if not isinstance(name, str):
        raise ExpressionError(f"{where}.name: expected a string, got {name!r}")
    if kind == "Attribute":
        return Attribute(name)
    if kind == "Constant":
        return Constant(name)
    if kind != "Function":
        raise ExpressionError(f"{where}.type: {kind!r} is not Attribute, Constant or Function")
    spec = FUNCTIONS.get(name)
    parameters = tree.get("parameters") or []
    if not isinstance(parameters, list):
        raise ExpressionError(f"{where}.parameters: expected a list")
    keyed: list[tuple[str, Node]] = []
    for i, parameter in enumerate(parameters):
        if not isinstance(parameter, Mapping) or "value" not in parameter:
            raise ExpressionError(f"{where}.parameters[{i}]: expected {{key, value}}")
        keyed.append((str(parameter.get("key", "")), from_tree(parameter["value"], f"{where}.parameters[{i}].value")))
    arguments = _place_parameters(spec, keyed)
    if name in _CONDITIONS and arguments:
        arguments = (_condition(arguments[0]), *arguments[1:])
    return Function(name, arguments)


_CONDITIONS = ("IIF", "CBool")  # the functions whose first parameter may be a comparison


def _condition(node: Node | None) -> Node | None:
    """A condition the tree holds as text (a Constant or an Attribute named `[country]="USA"`) as its comparison.

    The tree form has no node for `=` and its kin: a comparison reaches an export as the name of a leaf. Read
    as a constant it would be a non-empty string, and the condition always true.
    """
    if not isinstance(node, Constant | Attribute) or not re.search(r"<>|<=|>=|=|<|>", node.value if isinstance(
            node, Constant) else node.name):
        return node
    try:
        parsed = parse(node.value if isinstance(node, Constant) else node.name)
    except ExpressionError:
        return node
    return parsed if isinstance(parsed, Comparison) else node


def comparisons(node: Node | None) -> int:
    """How many comparisons a node holds."""
    if isinstance(node, Comparison):
        return 1 + comparisons(node.left) + comparisons(node.right)
    if isinstance(node, Function):
        return sum(comparisons(argument) for argument in node.arguments)
    return 0


def _place_parameters(spec: _Spec | None, keyed: list[tuple[str, Node]]) -> tuple[Node | None, ...]:
    """Export trees name each parameter and leave the empty ones out; put each back in its position.

    Named parameters go where their name says (aliases too: Replace's Find / Replacement); the repeating
    ones (Switch's key/value pairs, Join's sources) follow in their order after the named ones. A tree
    whose keys this table does not know is taken in its order.
    """
    if spec is None:
        return tuple(node for _key, node in keyed)
    fixed = spec.parameters[:len(spec.parameters) - spec.group] if spec.repeats else spec.parameters
    positions = {name.lower(): i for i, name in enumerate(fixed)}
    positions.update({alias.lower(): positions[name.lower()] for alias, name in spec.aliases.items()})
    repeating = {name.lower() for name in spec.parameters[len(fixed):]} if spec.repeats else set()

    def known(key: str) -> bool:
        return key.lower() in positions or key.lower().rstrip("0123456789") in repeating

    if not all(known(key) for key, _node in keyed):
        return tuple(node for _key, node in keyed)
    placed: list[Node | None] = []
    for key, node in keyed:
        at = positions.get(key.lower())
        if at is None:  # a repeating parameter: after every named one
            at = max(len(placed), len(fixed))
        placed.extend([None] * (at + 1 - len(placed)))
        placed[at] = node
    while placed and placed[-1] is None:
        placed.pop()
    return tuple(placed)


def to_text(node: Node | None) -> str:
    """The string form Entra's mapping screen shows for a node."""
    if node is None:
        return ""
    if isinstance(node, Attribute):
        return f"[{node.name}]"
    if isinstance(node, Constant):
        if re.fullmatch(r"-?\d+(?:\.\d+)?|&[Hh][0-9A-Fa-f]+|vb\w+", node.value):
            return node.value
        return '"' + node.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(node, Comparison):
        return f"{to_text(node.left)} {node.operator} {to_text(node.right)}"
    return f"{node.name}({', '.join(to_text(a) for a in node.arguments)})"


def source_text(node: Node) -> str:
    """A profile's `source:` for a node: a direct mapping is the bare attribute name, as the mapping screen shows it."""
    return node.name if isinstance(node, Attribute) else to_text(node)


def attributes(node: Node | None) -> list[str]:
    """Every source attribute a node names, in order."""
    if node is None or isinstance(node, Constant):
        return []
    if isinstance(node, Attribute):
        return [node.name]
    if isinstance(node, Comparison):
        return attributes(node.left) + attributes(node.right)
    return [name for argument in node.arguments for name in attributes(argument)]


def functions(node: Node | None) -> list[str]:
    if isinstance(node, Function):
        return [node.name] + [name for argument in node.arguments for name in functions(argument)]
    if isinstance(node, Comparison):
        return functions(node.left) + functions(node.right)
    return []


# ---------------------------------------------------------------------------------------------------------------
# Values

def _text(value: Any) -> str | None:
    """A value as Entra turns it into a string: booleans as True/False, dates as M/d/yyyy h:mm:ss tt."""
    if value is None or value is IGNORE:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, datetime):
        return _general_date(value)
    if isinstance(value, list):
        return _text(value[0]) if value else None
    if isinstance(value, dict):
        return str(value.get("value", ""))
    return str(value)


def _number(value: Any, function: str, parameter: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = (_text(value) or "").strip()
    try:
        if text[:2].lower() == "&h":
            return int(text[2:], 16)
        return int(float(text)) if "." in text else int(text)
    except ValueError:
        raise ExpressionError(f"{function}: {parameter} must be a number, got {value!r}") from None


def _boolean(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text) != 0
    except ValueError:
        return bool(text)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _general_date(moment: datetime) -> str:
    """.NET's M/d/yyyy h:mm:ss tt, in UTC: what CDate, DateAdd and Now return."""
    moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    return (f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d}:{moment.second:02d} "
            f"{'AM' if moment.hour < 12 else 'PM'}")


_ISO = re.compile(r"""^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})
    (?:[T\s](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?)?
    \s*(?P<z>Z|[+-]\d{2}:?\d{2})?$""", re.VERBOSE)
_US = re.compile(r"""^(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})
    (?:\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<tt>AM|PM)?)?
    \s*(?P<z>Z|[+-]\d{2}:?\d{2})?$""", re.VERBOSE | re.IGNORECASE)


def _offset(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _date(value: Any, function: str) -> datetime:
    """A date from a DateTime value or a string (ISO 8601, with or without a time or an offset, or M/d/yyyy)."""
    if isinstance(value, datetime):
        return value
    text = (_text(value) or "").strip()
    match = _ISO.match(text) or _US.match(text)
    if match is None:
        raise ExpressionError(f"{function}: {text!r} is not a date Entra can read")
    parts = match.groupdict()
    hour = int(parts["h"] or 0)
    if parts.get("tt"):
        hour = hour % 12 + (12 if parts["tt"].upper() == "PM" else 0)
    micro = int((parts.get("f") or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(int(parts["y"]), int(parts["mo"]), int(parts["d"]), hour, int(parts["mi"] or 0),
                          int(parts["s"] or 0), micro, tzinfo=_offset(parts["z"]))
    except ValueError as exc:
        raise ExpressionError(f"{function}: {text!r}: {exc}") from None
    return moment.astimezone(UTC)


_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)

# .NET custom date and time format specifiers, longest first (the ones FormatDateTime's examples use and their kin).
_FORMAT_TOKEN = re.compile(r"yyyy|yy|MMMM|MMM|MM|M|dddd|ddd|dd|d|HH|H|hh|h|mm|m|ss|s|f{1,7}|F{1,7}|tt|t|zzz|zz|z|K"
                           r"|'[^']*'|\"[^\"]*\"|\\.|.", re.DOTALL)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_PARSE_PATTERN = {
    "yyyy": r"(?P<y>\d{4})", "yy": r"(?P<yy>\d{2})", "MMMM": "(?P<MMMM>[A-Za-z]+)", "MMM": "(?P<MMM>[A-Za-z]{3})",
    "MM": r"(?P<mo>\d{2})", "M": r"(?P<mo>\d{1,2})", "dddd": "[A-Za-z]+", "ddd": "[A-Za-z]{3}",
    "dd": r"(?P<d>\d{2})", "d": r"(?P<d>\d{1,2})", "HH": r"(?P<H>\d{2})", "H": r"(?P<H>\d{1,2})",
    "hh": r"(?P<h>\d{2})", "h": r"(?P<h>\d{1,2})", "mm": r"(?P<mi>\d{2})", "m": r"(?P<mi>\d{1,2})",
    "ss": r"(?P<s>\d{2})", "s": r"(?P<s>\d{1,2})", "tt": "(?P<tt>AM|PM|am|pm)", "t": "(?P<t>[AaPp])",
    "zzz": r"(?P<z>[+-]\d{2}:\d{2})", "zz": r"(?P<z>[+-]\d{2})", "z": r"(?P<z>[+-]\d{1,2})",
    "K": r"(?P<z>Z|[+-]\d{2}:\d{2})?",
}


def _format_tokens(fmt: str) -> list[str]:
    return _FORMAT_TOKEN.findall(fmt)


def _literal(token: str) -> str | None:
    if token[0] in "'\"" and len(token) >= 2:
        return token[1:-1]
    if token[0] == "\\":
        return token[1:]
    return None


# System.Globalization.DateTimeStyles, the flags FormatDateTime's dateTimeStyles names (by name, "|" or ","
# separated, or as their number).
_STYLES = {"none": 0, "allowleadingwhite": 1, "allowtrailingwhite": 2, "allowinnerwhite": 4, "allowwhitespaces": 7,
           "nocurrentdatedefault": 8, "adjusttouniversal": 16, "assumelocal": 32, "assumeuniversal": 64,
           "roundtripkind": 128}
_LEADING, _TRAILING, _INNER, _ADJUST, _ASSUME_LOCAL, _ASSUME_UTC, _ROUNDTRIP = 1, 2, 4, 16, 32, 64, 128


def _styles(value: Any) -> int:
    text = (_text(value) or "").strip()
    if text.isdigit():
        flags = int(text)
    else:
        flags = 0
        for name in filter(None, (part.strip() for part in re.split(r"[|,]", text))):
            if name.lower().removeprefix("datetimestyles.") not in _STYLES:
                raise ExpressionError(f"FormatDateTime: {name!r} is not a DateTimeStyles value (None, "
                                      "AdjustToUniversal, AssumeUniversal, AssumeLocal, RoundtripKind, Allow...White)")
            flags |= _STYLES[name.lower().removeprefix("datetimestyles.")]
    both_assumed = flags & _ASSUME_LOCAL and flags & _ASSUME_UTC
    if both_assumed or (flags & _ROUNDTRIP and flags & (_ADJUST | _ASSUME_LOCAL | _ASSUME_UTC)):
        raise ExpressionError(f"FormatDateTime: dateTimeStyles {text!r} combines styles .NET refuses together")
    return flags


@dataclass(frozen=True)
class _Parsed:
    """A parsed .NET DateTime: its wall-clock value and its Kind (Utc, Local or Unspecified)."""

    moment: datetime  # naive
    kind: str


def _parse_with_format(text: str, fmt: str, flags: int = 0) -> _Parsed:
    """DateTime.ParseExact on Entra's service, whose local time zone is UTC (so Local and Utc differ only in Kind)."""
    pattern, seen = "", set()
    gap = r"\s*" if flags & _INNER else ""
    for token in _format_tokens(fmt):
        pattern += gap
        literal = _literal(token)
        if literal is not None or (token not in _PARSE_PATTERN and token[0] not in "fF"):
            pattern += re.escape(literal if literal is not None else token)
            continue
        if token[0] in "fF":
            piece = rf"(?P<f>\d{{{len(token)}}})" if token[0] == "f" else rf"(?P<f>\d{{0,{len(token)}}})"
        else:
            piece = _PARSE_PATTERN[token]
        group = re.search(r"\?P<(\w+)>", piece)
        if group and group.group(1) in seen:  # a second occurrence of the same field must agree; keep it simple
            piece = re.sub(r"\?P<\w+>", "?:", piece)
        elif group:
            seen.add(group.group(1))
        pattern += piece
    pattern = (r"\s*" if flags & _LEADING else "") + pattern + (r"\s*" if flags & _TRAILING else "")
    match = re.fullmatch(pattern, text)
    if match is None:
        raise ExpressionError(f"FormatDateTime: {text!r} does not have the input format {fmt!r}")
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    year = int(parts["y"]) if "y" in parts else 2000 + int(parts.get("yy", "1"))
    month = int(parts.get("mo", 1))
    for key, names in (("MMMM", _MONTHS), ("MMM", [m[:3] for m in _MONTHS])):
        if key in parts:
            month = [n.lower() for n in names].index(parts[key].lower()) + 1
    hour = int(parts.get("H", parts.get("h", 0)))
    marker = (parts.get("tt") or parts.get("t") or "").upper()
    if marker:
        hour = hour % 12 + (12 if marker.startswith("P") else 0)
    zone = parts.get("z")
    if zone and zone != "Z" and ":" not in zone:
        zone = f"{zone[0]}{int(zone[1:]):02d}:00"
    micro = int(parts.get("f", "0")[:6].ljust(6, "0") or 0)
    try:
        moment = datetime(year, month, int(parts.get("d", 1)), hour, int(parts.get("mi", 0)), int(parts.get("s", 0)),
                          micro)
    except ValueError as exc:
        raise ExpressionError(f"FormatDateTime: {text!r}: {exc}") from None
    if zone:
        # An offset moves the value to local time (UTC here); Z read by K under RoundtripKind stays Utc.
        moment = (moment.replace(tzinfo=_offset(zone))).astimezone(UTC).replace(tzinfo=None)
        kind = "Utc" if flags & _ADJUST or (zone == "Z" and flags & _ROUNDTRIP) else "Local"
    elif flags & (_ASSUME_UTC | _ASSUME_LOCAL):
        kind = "Utc" if flags & _ADJUST else "Local"
    else:
        kind = "Unspecified"  # no zone and nothing assumed: AdjustToUniversal has nothing to adjust
    return _Parsed(moment, kind)


def _format_date(moment: datetime, fmt: str, kind: str) -> str:
    """A .NET custom format of a parsed DateTime of this Kind (Utc, Local or Unspecified)."""
    moment = moment.replace(tzinfo=UTC)  # every Kind's offset is +00:00 on a service whose zone is UTC
    out = []
    for token in _format_tokens(fmt):
        literal = _literal(token)
        if literal is not None:
            out.append(literal)
            continue
        hour12 = moment.hour % 12 or 12
        offset = moment.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        values = {
            "yyyy": f"{moment.year:04d}", "yy": f"{moment.year % 100:02d}", "MMMM": _MONTHS[moment.month - 1],
            "MMM": _MONTHS[moment.month - 1][:3], "MM": f"{moment.month:02d}", "M": str(moment.month),
            "dddd": _DAYS[moment.weekday()], "ddd": _DAYS[moment.weekday()][:3], "dd": f"{moment.day:02d}",
            "d": str(moment.day), "HH": f"{moment.hour:02d}", "H": str(moment.hour), "hh": f"{hour12:02d}",
            "h": str(hour12), "mm": f"{moment.minute:02d}", "m": str(moment.minute), "ss": f"{moment.second:02d}",
            "s": str(moment.second), "tt": "AM" if moment.hour < 12 else "PM", "t": "A" if moment.hour < 12 else "P",
            "zzz": f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}", "zz": f"{sign}{abs(minutes) // 60:02d}",
            "z": f"{sign}{abs(minutes) // 60}", "K": {"Utc": "Z", "Local": "+00:00"}.get(kind, ""),
        }
        if token[0] in "fF":
            digits = f"{moment.microsecond:06d}0"[:len(token)]
            out.append(digits if token[0] == "f" else digits.rstrip("0"))
        else:
            out.append(values.get(token, token))
    return "".join(out)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


_INTERVALS = ("yyyy", "q", "m", "d", "ww", "w", "h", "n", "s")


def _interval(value: Any, function: str) -> str:
    interval = (_text(value) or "").strip().lower()
    if interval not in _INTERVALS:
        raise ExpressionError(f"{function}: interval {value!r} is not one of yyyy, m, d, ww, h, n, s")
    return interval


# ---------------------------------------------------------------------------------------------------------------
# The functions

Impl = Callable[[list[Any], Context], Any]


@dataclass(frozen=True)
class _Spec:
    name: str
    parameters: tuple[str, ...]
    minimum: int
    maximum: int | None  # None: the last parameter repeats
    impl: Impl
    aliases: Mapping[str, str] = field(default_factory=dict)
    group: int = 1  # how many of the last parameters repeat together (Switch: key, value)
    blanks: bool = False  # a required position may be left empty (Switch's default, Replace's unused ones)

    @property
    def repeats(self) -> bool:
        return self.maximum is None

    def signature(self) -> str:
        names = ", ".join(self.parameters) + (", ..." if self.repeats else "")
        return f"{self.name}({names})"


FUNCTIONS: dict[str, _Spec] = {}


def _function(name: str, parameters: str, minimum: int | None = None, maximum: int | str | None = "all",
              aliases: Mapping[str, str] | None = None, group: int = 1, blanks: bool = False
              ) -> Callable[[Impl], Impl]:
    names = tuple(p for p in parameters.replace(" ", "").split(",") if p)

    def register(impl: Impl) -> Impl:
        FUNCTIONS[name] = _Spec(name, names, len(names) if minimum is None else minimum,
                                len(names) if maximum == "all" else maximum,  # type: ignore[arg-type]
                                impl, aliases or {}, group, blanks)
        return impl

    return register


@_function("Append", "source, suffix")
def _append(args: list[Any], context: Context) -> Any:
    source = _text(args[0])
    return None if source is None else source + (_text(args[1]) or "")


def _role(assignment: Any) -> dict[str, Any]:
    if isinstance(assignment, dict):
        return assignment
    return {"value": _text(assignment), "displayName": _text(assignment)}


@_function("SingleAppRoleAssignment", "source")
def _single_app_role(args: list[Any], context: Context) -> Any:
    assignments = args[0] if isinstance(args[0], list) else ([] if args[0] is None else [args[0]])
    return _role(assignments[0]).get("value") if assignments else None


@_function("AppRoleAssignmentsComplex", "source")
def _app_roles_complex(args: list[Any], context: Context) -> Any:
    assignments = args[0] if isinstance(args[0], list) else ([] if args[0] is None else [args[0]])
    # Every role goes as its own element, none of them primary (research notes 4.17).
    return [{"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": _role(a).get("displayName"),
             "value": _role(a).get("value")} for a in assignments] or None


FUNCTIONS["AssertiveAppRoleAssignmentsComplex"] = _Spec(
    "AssertiveAppRoleAssignmentsComplex", ("source",), 1, 1, _app_roles_complex)


@_function("BitAnd", "value1, value2")
def _bit_and(args: list[Any], context: Context) -> Any:
    return _number(args[0], "BitAnd", "value1") & _number(args[1], "BitAnd", "value2")


@_function("CBool", "expression")
def _cbool(args: list[Any], context: Context) -> Any:
    return _boolean(args[0])


@_function("CDate", "expression")
def _cdate(args: list[Any], context: Context) -> Any:
    return None if _empty(args[0]) else _date(args[0], "CDate")


@_function("Coalesce", "source", minimum=1, maximum=None)
def _coalesce(args: list[Any], context: Context) -> Any:
    return next((value for value in args if value is not None), None)


@_function("ConvertToBase64", "source")
def _base64(args: list[Any], context: Context) -> Any:
    text = _text(args[0])
    return None if text is None else base64.b64encode(text.encode("utf-16-le")).decode("ascii")


@_function("ConvertToUTF8Hex", "source")
def _utf8_hex(args: list[Any], context: Context) -> Any:
    text = _text(args[0])
    return None if text is None else text.encode("utf-8").hex().upper()


@_function("Count", "attribute")
def _count(args: list[Any], context: Context) -> Any:
    value = args[0]
    return len(value) if isinstance(value, list) else (0 if value is None else 1)


@_function("CStr", "value")
def _cstr(args: list[Any], context: Context) -> Any:
    return _text(args[0])


@_function("DateAdd", "interval, value, dateTime")
def _date_add(args: list[Any], context: Context) -> Any:
    interval, amount = _interval(args[0], "DateAdd"), _number(args[1], "DateAdd", "value")
    if args[2] is None:
        return None
    moment = _date(args[2], "DateAdd")
    if interval in ("yyyy", "q", "m"):
        return _add_months(moment, amount * {"yyyy": 12, "q": 3, "m": 1}[interval])
    unit = {"d": timedelta(days=1), "w": timedelta(days=1), "ww": timedelta(weeks=1), "h": timedelta(hours=1),
            "n": timedelta(minutes=1), "s": timedelta(seconds=1)}[interval]
    return moment + amount * unit


@_function("DateDiff", "interval, date1, date2")
def _date_diff(args: list[Any], context: Context) -> Any:
    interval = _interval(args[0], "DateDiff")
    if args[1] is None or args[2] is None:
        return None
    first, second = _date(args[1], "DateDiff"), _date(args[2], "DateDiff")
    # As VBA's DateDiff: the number of calendar boundaries crossed (years, months, days, Sundays ...).
    if interval == "yyyy":
        return second.year - first.year
    if interval == "q":
        return (second.year * 4 + (second.month - 1) // 3) - (first.year * 4 + (first.month - 1) // 3)
    if interval == "m":
        return (second.year * 12 + second.month) - (first.year * 12 + first.month)
    if interval in ("d", "w"):
        return (second.date() - first.date()).days
    if interval == "ww":
        def sunday(moment: datetime) -> datetime:
            return moment - timedelta(days=(moment.weekday() + 1) % 7)
        return (sunday(second).date() - sunday(first).date()).days // 7
    unit = {"h": 3600, "n": 60, "s": 1}[interval]
    floor: Callable[[datetime], datetime] = {"h": lambda m: m.replace(minute=0, second=0, microsecond=0),
             "n": lambda m: m.replace(second=0, microsecond=0), "s": lambda m: m.replace(microsecond=0)}[interval]
    return int((floor(second) - floor(first)).total_seconds() // unit)


@_function("DateFromNum", "value")
def _date_from_num(args: list[Any], context: Context) -> Any:
    if _empty(args[0]):
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=_number(args[0], "DateFromNum", "value") // 10)


@_function("FormatDateTime", "source, dateTimeStyles, inputFormat, outputFormat", minimum=3, blanks=True)
def _format_date_time(args: list[Any], context: Context) -> Any:
    if len(args) == 3:  # the older three-parameter form has no dateTimeStyles
        args = [args[0], None, args[1], args[2]]
    source, input_format, output_format = _text(args[0]), _text(args[2]), _text(args[3])
    flags = _styles(args[1])
    if source is None:
        return None
    if not input_format or not output_format:
        raise ExpressionError("FormatDateTime: inputFormat and outputFormat are required")
    parsed = _parse_with_format(source, input_format, flags)
    return _format_date(parsed.moment, output_format, parsed.kind)


@_function("Guid", "")
def _guid(args: list[Any], context: Context) -> Any:
    return str(uuid.UUID(int=context.rng.getrandbits(128), version=4))


@_function("IgnoreFlowIfNullOrEmpty", "expression")
def _ignore_flow(args: list[Any], context: Context) -> Any:
    return IGNORE if _empty(args[0]) else args[0]


@_function("IIF", "condition, valueIfTrue, valueIfFalse")
def _iif(args: list[Any], context: Context) -> Any:
    condition = _boolean(args[0])
    if condition is None:
        return None
    return args[1] if condition else args[2]


@_function("InStr", "value1, value2, start, compareType", minimum=2)
def _instr(args: list[Any], context: Context) -> Any:
    haystack, needle = _text(args[0]), _text(args[1])
    if haystack is None or needle is None:
        return None
    start = _number(args[2], "InStr", "start") if len(args) > 2 and args[2] is not None else 1
    compare = (_text(args[3]) or "vbBinaryCompare") if len(args) > 3 else "vbBinaryCompare"
    if compare.lower() in ("vbtextcompare", "1"):
        haystack, needle = haystack.lower(), needle.lower()
    return haystack.find(needle, max(start, 1) - 1) + 1


@_function("IsNull", "expression")
def _is_null(args: list[Any], context: Context) -> Any:
    return args[0] is None


@_function("IsNullOrEmpty", "expression")
def _is_null_or_empty(args: list[Any], context: Context) -> Any:
    return _empty(args[0])


@_function("IsPresent", "expression")
def _is_present(args: list[Any], context: Context) -> Any:
    return not _empty(args[0])


@_function("IsString", "expression")
def _is_string(args: list[Any], context: Context) -> Any:
    return isinstance(args[0], str)


@_function("Item", "attribute, index")
def _item(args: list[Any], context: Context) -> Any:
    values = args[0] if isinstance(args[0], list) else ([] if args[0] is None else [args[0]])
    index = _number(args[1], "Item", "index")
    if index < 1:
        raise ExpressionError(f"Item: index {index}: the first item is 1")
    return values[index - 1] if index <= len(values) else None


@_function("Join", "separator, source", minimum=2, maximum=None)
def _join(args: list[Any], context: Context) -> Any:
    separator = _text(args[0]) or ""
    values: list[str] = []
    for value in args[1:]:
        for item in value if isinstance(value, list) else [value]:
            text = _text(item)
            if text:  # null and empty values leave no stray separator (the documented "Doe, John")
                values.append(text)
    return separator.join(values)


@_function("Left", "String, NumChars")
def _left(args: list[Any], context: Context) -> Any:
    text, count = _text(args[0]), _number(args[1], "Left", "NumChars")
    if text is None:
        return ""
    return text if count < 0 else text[:count]


@_function("Mid", "source, start, length")
def _mid(args: list[Any], context: Context) -> Any:
    text = _text(args[0])
    if text is None:
        return None
    start, length = _number(args[1], "Mid", "start"), _number(args[2], "Mid", "length")
    if start < 1 or length < 0:
        raise ExpressionError(f"Mid: start {start} and length {length}: the first character is 1")
    return text[start - 1:start - 1 + length]


_SPECIAL_LETTERS = {"æ": "ae", "Æ": "AE", "ǣ": "ae", "Ǣ": "AE", "ø": "oe", "Ø": "OE", "œ": "oe", "Œ": "OE",
                    "ß": "ss", "ł": "l", "Ł": "L", "ı": "i", "đ": "d", "Đ": "D"}


@_function("NormalizeDiacritics", "source")
def _normalize_diacritics(args: list[Any], context: Context) -> Any:
    text = _text(args[0])
    if text is None:
        return None
    text = "".join(_SPECIAL_LETTERS.get(c, c) for c in text)
    decomposed = unicodedata.normalize("NFD", text)
    kept: list[str] = []
    for char in decomposed:
        # Only marks on Latin letters go (the documented table); other scripts keep theirs.
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


@_function("Not", "source")
def _not(args: list[Any], context: Context) -> Any:
    return not bool(_boolean(args[0]))


@_function("Now", "")
def _now(args: list[Any], context: Context) -> Any:
    return context.now.astimezone(UTC)


@_function("NumFromDate", "value")
def _num_from_date(args: list[Any], context: Context) -> Any:
    if _empty(args[0]):
        return None
    delta = _date(args[0], "NumFromDate") - _FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


@_function("PCase", "source, wordSeparators", minimum=1)
def _pcase(args: list[Any], context: Context) -> Any:
    text = _text(args[0])
    if text is None:
        return None
    separators = _text(args[1]) if len(args) > 1 else None

    def separates(char: str) -> bool:
        return char in separators if separators else not char.isalnum()

    out, start = [], True
    for char in text:
        out.append(char.upper() if start else char.lower())
        start = separates(char)
    return "".join(out)


_SPECIAL_CHARACTERS = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"


@_function("RandomString", "Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase, "
                           "CharactersToAvoid", minimum=5)
def _random_string(args: list[Any], context: Context) -> Any:
    names = FUNCTIONS["RandomString"].parameters
    length, *minimums = (_number(args[i], "RandomString", names[i]) for i in range(5))
    avoid = set(_text(args[5]) or "") if len(args) > 5 else set()
    if length > 256 or length < sum(minimums):
        raise ExpressionError(f"RandomString: Length {length} must be at most 256 and at least the minimums' sum")
    pools = [[c for c in chars if c not in avoid]
             for chars in (string.digits, _SPECIAL_CHARACTERS, string.ascii_uppercase, string.ascii_lowercase)]
    picked = [context.rng.choice(pool) for pool, count in zip(pools, minimums, strict=True) for _ in range(count)]
    everything = [c for pool in pools for c in pool]
    picked += [context.rng.choice(everything) for _ in range(length - len(picked))]
    context.rng.shuffle(picked)
    return "".join(picked)


@_function("Redact", "source")
def _redact(args: list[Any], context: Context) -> Any:
    return args[0]  # the value still flows; only Entra's provisioning logs hide it


@_function("RemoveDuplicates", "attribute")
def _remove_duplicates(args: list[Any], context: Context) -> Any:
    if not isinstance(args[0], list):
        return args[0]
    unique: list[Any] = []
    for value in args[0]:
        if value not in unique:
            unique.append(value)
    return unique


def _python_regex(pattern: str) -> re.Pattern[str]:
    """.NET regex syntax where it differs: named groups are (?<name>...)."""
    try:
        return re.compile(re.sub(r"\(\?<(?![=!])(\w+)>", r"(?P<\1>", pattern))
    except re.error as exc:
        raise ExpressionError(f"Replace: regexPattern {pattern!r}: {exc}") from None


def _python_replacement(replacement: str) -> str:
    """.NET substitutions ${name} and $1 as Python's \\g<...>; a literal backslash stays one."""
    escaped = replacement.replace("\\", "\\\\")
    return re.sub(r"\$\{(\w+)\}|\$(\d+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", escaped)


@_function("Replace", "source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, "
                      "template", minimum=2, aliases={"Find": "oldValue", "Replacement": "replacementValue"},
           blanks=True)
def _replace(args: list[Any], context: Context) -> Any:
    source, old, pattern, group, replacement, attribute, template = (
        _text(a) for a in (list(args) + [None] * 7)[:7])
    if pattern is not None and group is not None and attribute is not None and replacement is None:
        if source:
            return source
        match = _python_regex(pattern).search(attribute)
        return match.group(group) if match and group in match.groupdict() else None
    if source is None:
        return None
    if old is not None and template is not None:
        return template.replace(old, source)
    if old is not None:
        return source.replace(old, replacement or "")
    if pattern is not None and group is not None:
        regex = _python_regex(pattern)
        if group not in regex.groupindex:
            raise ExpressionError(f"Replace: regexGroupName {group!r} is not a group of {pattern!r}")

        def swap(match: re.Match[str]) -> str:
            whole, (start, end) = match.group(0), match.span(group)
            if start < 0:
                return whole
            offset = match.start()
            return whole[:start - offset] + (replacement or "") + whole[end - offset:]
        return regex.sub(swap, source)
    if pattern is not None:
        return _python_regex(pattern).sub(_python_replacement(replacement or ""), source)
    raise ExpressionError("Replace: give oldValue or regexPattern")


@_function("SelectUniqueValue", "uniqueValueRule", minimum=2, maximum=None)
def _select_unique_value(args: list[Any], context: Context) -> Any:
    # Entra checks each rule's value against the target; the suite's generated values are unique by the run prefix.
    return next((value for value in args if not _empty(value)), None)


@_function("Split", "source, delimiter")
def _split(args: list[Any], context: Context) -> Any:
    text, delimiter = _text(args[0]), _text(args[1])
    if text is None:
        return None
    if not delimiter:
        raise ExpressionError("Split: delimiter is empty")
    return [part.strip() for part in text.split(delimiter)]


@_function("StripSpaces", "source")
def _strip_spaces(args: list[Any], context: Context) -> Any:
    text = _text(args[0])
    return None if text is None else text.replace(" ", "")


@_function("Switch", "source, defaultValue, key, value", minimum=4, maximum=None, group=2, blanks=True)
def _switch(args: list[Any], context: Context) -> Any:
    source = _text(args[0]) or ""  # an absent value matches the key "" (Microsoft's advice for empty sources)
    for key, value in zip(args[2::2], args[3::2], strict=True):
        if (_text(key) or "") == source:
            return value
    return args[1]


# .NET changes case one UTF-16 unit at a time (simple case mapping), so a string keeps its length: "ß" stays "ß"
# in ToUpper where Python's full mapping gives "SS". The Turkic cultures map the dotted and dotless i apart; every
# other culture (de-DE, en-US ...) uses the invariant table, which leaves U+0130 and U+0131 as they are.
_TURKIC = ("tr", "az")
_CULTURE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


def _turkic(culture: Any, function: str) -> bool:
    name = (_text(culture) or "").strip()
    if name and not _CULTURE.fullmatch(name):
        raise ExpressionError(f"{function}: culture {name!r} is not a culture name such as tr-TR or de-DE")
    return name.split("-")[0].lower() in _TURKIC


def _upper_char(char: str, turkic: bool) -> str:
    if turkic and char == "i":
        return "\u0130"
    if char == "\u0131" and not turkic:
        return char
    upper = char.upper()
    if len(upper) == 1:
        return upper
    title = char.title()  # the one-unit form Unicode gives where the full upper case is two (ᾳ -> ᾼ)
    return title if len(title) == 1 else char


def _lower_char(char: str, turkic: bool) -> str:
    if char == "I" and turkic:
        return "\u0131"
    if char == "\u0130":
        return "i" if turkic else char
    lower = char.lower()
    return lower if len(lower) == 1 else char


@_function("ToLower", "source, culture", minimum=1)
def _to_lower(args: list[Any], context: Context) -> Any:
    text, turkic = _text(args[0]), _turkic(args[1] if len(args) > 1 else None, "ToLower")
    return None if text is None else "".join(_lower_char(c, turkic) for c in text)


@_function("ToUpper", "source, culture", minimum=1)
def _to_upper(args: list[Any], context: Context) -> Any:
    text, turkic = _text(args[0]), _turkic(args[1] if len(args) > 1 else None, "ToUpper")
    return None if text is None else "".join(_upper_char(c, turkic) for c in text)


@_function("Word", "String, WordNumber, Delimiters")
def _word(args: list[Any], context: Context) -> Any:
    text, number, delimiters = _text(args[0]), _number(args[1], "Word", "WordNumber"), _text(args[2]) or ""
    if text is None or number < 1:
        return ""
    words = [w for w in re.split("|".join(map(re.escape, delimiters)) or r"\s", text) if w] if delimiters else [text]
    return words[number - 1] if number <= len(words) else ""


# ---------------------------------------------------------------------------------------------------------------
# Checking and evaluating

def check(node: Node, known: Container[str]) -> None:
    """Refuse what Entra refuses or the suite cannot evaluate: unknown functions, wrong arity, unknown attributes."""
    _check(node, known, None)


def _check(node: Node | None, known: Container[str], inside: str | None) -> None:
    where = f"{inside}: " if inside else ""
    if node is None or isinstance(node, Constant):
        return
    if isinstance(node, Attribute):
        if node.name not in known:
            raise ExpressionError(f"{where}unknown source attribute [{node.name}]")
        return
    if isinstance(node, Comparison):
        _check(node.left, known, inside)
        _check(node.right, known, inside)
        return
    spec = FUNCTIONS.get(node.name)
    if spec is None:
        near = next((n for n in FUNCTIONS if n.lower() == node.name.lower()), None)
        hint = f" (names are case-sensitive: {near})" if near else ""
        raise ExpressionError(f"{where}{node.name}: unknown function{hint}")
    count = len(node.arguments)
    if count < spec.minimum or (spec.maximum is not None and count > spec.maximum):
        raise ExpressionError(f"{node.name}: takes {_arity(spec)} argument(s) {spec.signature()}, got {count}")
    if spec.name == "Switch" and count % 2:
        raise ExpressionError("Switch: keys and values come in pairs, got an odd number of arguments")
    if spec.name == "SelectUniqueValue" and inside:
        raise ExpressionError(f"SelectUniqueValue: must be the whole expression, not inside {inside}")
    for i, argument in enumerate(node.arguments):
        if argument is None and i < spec.minimum and not spec.blanks:
            raise ExpressionError(f"{node.name}: argument {i + 1} ({_parameter(spec, i)}) is required")
        _check(argument, known, node.name)


def _arity(spec: _Spec) -> str:
    if spec.maximum is None:
        return f"{spec.minimum} or more"
    return str(spec.minimum) if spec.minimum == spec.maximum else f"{spec.minimum} to {spec.maximum}"


def _parameter(spec: _Spec, index: int) -> str:
    return spec.parameters[min(index, len(spec.parameters) - 1)] if spec.parameters else "?"


def evaluate(node: Node | None, source: Mapping[str, Any], context: Context | None = None) -> Any:
    """The value an expression yields for one source object (None: null; IGNORE: left out of the flow)."""
    return _evaluate(node, source, context or Context())


def _evaluate(node: Node | None, source: Mapping[str, Any], context: Context) -> Any:
    if node is None:
        return None
    if isinstance(node, Constant):
        return node.value
    if isinstance(node, Attribute):
        if node.name not in source:
            raise ExpressionError(f"unknown source attribute [{node.name}]")
        return source[node.name]
    if isinstance(node, Comparison):
        return _compare(node.operator, _evaluate(node.left, source, context), _evaluate(node.right, source, context))
    spec = FUNCTIONS.get(node.name)
    if spec is None:
        raise ExpressionError(f"{node.name}: unknown function")
    condition = node.arguments[0] if spec.name == "IIF" and node.arguments else None
    if any(_empty(source.get(name)) for name in attributes(condition)):
        return None  # a null or empty attribute in the condition fails the check (Microsoft's documented limitation)
    values = [_evaluate(argument, source, context) for argument in node.arguments]
    values = [None if v is IGNORE else v for v in values]
    try:
        return spec.impl(values, context)
    except ExpressionError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, OverflowError) as exc:  # a date past year 9999, ...
        raise ExpressionError(f"{node.name}: {exc}") from None


def _compare(operator: str, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    a, b = _text(left) or "", _text(right) or ""
    try:
        x: Any = float(a)
        y: Any = float(b)
    except ValueError:
        x, y = a, b
    return bool({"=": x == y, "<>": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[operator])


def finish(value: Any) -> Any:
    """An evaluated value as it goes on the wire: DateTimes in Entra's M/d/yyyy h:mm:ss tt form."""
    if isinstance(value, datetime):
        return _general_date(value)
    if isinstance(value, list):
        return [finish(v) for v in value]
    return value


def redacted(node: Node | None) -> bool:
    """Whether Entra hides this mapping's value in its logs (Redact at the top), and so should our report."""
    return isinstance(node, Function) and node.name == "Redact"


__all__ = [
    "FUNCTIONS",
    "IGNORE",
    "MAX_DEPTH",
    "Attribute",
    "Comparison",
    "Constant",
    "Context",
    "ExpressionError",
    "Function",
    "Node",
    "attributes",
    "check",
    "comparisons",
    "evaluate",
    "finish",
    "from_tree",
    "functions",
    "parse",
    "redacted",
    "source_text",
    "to_text",
]
