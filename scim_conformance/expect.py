"""Small reusable expectations. Each raises one typed failure naming the requirement it counts against."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from scim_conformance.attributes import ERROR, LIST_RESPONSE
from scim_conformance.client import Exchange
from scim_conformance.declared import Declared
from scim_conformance.outcomes import Outcome, stop


class RequirementFailure(AssertionError):
    """A server behaviour that breaks one requirement: requirement -> expected -> actual."""

    def __init__(self, requirement: str, expected: str, actual: str, exchange: Exchange | None = None) -> None:
        self.requirement = requirement
        self.expected = expected
        self.actual = actual
        self.exchange = exchange
        super().__init__(f"{requirement}: expected {expected}; got {actual}")


def fail(requirement: str, expected: str, actual: str, exchange: Exchange | None = None) -> NoReturn:
    raise RequirementFailure(requirement, expected, actual, exchange)


def blocked(reason: str) -> NoReturn:
    """A premise of the check did not hold (e.g. its user could not be created): nothing is judged."""
    stop(Outcome.BLOCKED, f"blocked: {reason}")


def not_applicable(reason: str) -> NoReturn:
    """The profile (or the server's advertised features) does not use what the check is about."""
    stop(Outcome.NOT_APPLICABLE, f"not applicable: {reason}")


def declared_by(declared: Declared, endpoint: str, *paths: str) -> None:
    """Not applicable unless the server declares (in /Schemas) every attribute the check's stimulus is about."""
    missing = declared.undeclared(endpoint, paths)
    if missing:
        not_applicable(f"the server does not declare {', '.join(missing)} in /Schemas")


def disabled(reason: str) -> NoReturn:
    """Switched off for this run (--read-only)."""
    stop(Outcome.DISABLED, f"read-only: {reason}")


def describe(exchange: Exchange) -> str:
    """What came back, in a few words: `404 text/html "<html>…"`."""
    if exchange.status is None:
        return exchange.error or "no answer"
    body = (exchange.response_body or "").strip().replace("\n", " ")
    snippet = f" {body[:160]!r}" if body else " (empty body)"
    return f"{exchange.status} {exchange.content_type or 'no Content-Type'}{snippet}"


def status(exchange: Exchange, requirement: str, *allowed: int) -> Exchange:
    if exchange.status not in allowed:
        wanted = " or ".join(str(a) for a in allowed)
        fail(requirement, f"{wanted} to {exchange.method} {exchange.path}", describe(exchange), exchange)
    return exchange


def body(exchange: Exchange, requirement: str) -> dict[str, Any]:
    data = exchange.json
    if not isinstance(data, dict):
        fail(requirement, f"a JSON object in the answer to {exchange.method} {exchange.path}",
             describe(exchange), exchange)
    return data


def created(exchange: Exchange, requirement: str) -> dict[str, Any]:
    """A create answered 201 (or 200) with the new resource, which carries its id: the IdP links by that id."""
    data = body(status(exchange, requirement, 201, 200), requirement)
    if not isinstance(data.get("id"), str) or not data["id"]:
        fail(requirement, f"a non-empty id in the answer to {exchange.method} {exchange.path}",
             f"id {data.get('id')!r}", exchange)
    return data


def list_response(exchange: Exchange, requirement: str, total_results: int | None = None) -> list[dict[str, Any]]:
    """A 200 ListResponse; returns its Resources (absent counts as empty, as RFC 7644 allows when there are none)."""
    status(exchange, requirement, 200)
    data = body(exchange, requirement)
    if LIST_RESPONSE not in (data.get("schemas") or []):
        fail(requirement, "a ListResponse", f"schemas {data.get('schemas')!r}", exchange)
    resources = data.get("Resources", [])
    if not isinstance(resources, list):
        fail(requirement, "Resources as an array", f"{type(resources).__name__}", exchange)
    if total_results is not None:
        total = data.get("totalResults")
        # A numeric string is judged by RFC-LIST-RESPONSE-SCHEMA; here only the count matters.
        total = int(total) if isinstance(total, str) and total.isdigit() else total
        if total != total_results or len(resources) != total_results:
            fail(requirement, f"totalResults {total_results} with {total_results} resource(s)",
                 f"totalResults {total!r} with {len(resources)} resource(s)", exchange)
    return resources


def no_match(exchange: Exchange, requirement: str) -> None:
    """Nothing found. A 404 counts as nothing found here: the shape of an empty answer is judged elsewhere
    (ENTRA-CONN-PROBE-EMPTY), so a check about renames or deletes fails only for what it is about."""
    if exchange.status == 404:
        return
    list_response(exchange, requirement, total_results=0)


def scim_error(exchange: Exchange, requirement: str, expected_status: int) -> dict[str, Any] | None:
    """An error answer with the expected status (RFC 7644 §3.12); the body's shape is judged by RFC-ERROR-SCHEMA."""
    status(exchange, requirement, expected_status)
    data = exchange.json
    return data if isinstance(data, dict) and ERROR in (data.get("schemas") or []) else None


def equal(requirement: str, what: str, expected: Any, actual: Any, exchange: Exchange | None = None) -> None:
    if expected != actual or type(expected) is not type(actual):
        fail(requirement, f"{what} {_show(expected)}", f"{what} {_show(actual)}", exchange)


def _show(value: Any) -> str:
    if value is None:
        return "absent"
    return json.dumps(value)
