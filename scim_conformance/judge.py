"""How one check's end becomes its record: a typed stop, a requirement failure, a harness fault, or a pass,
and the cross-cutting requirements (message schemas, media type) judged on every response it received.
"""

from __future__ import annotations

from typing import Any

from scim_conformance import schemas
from scim_conformance.client import Exchange, TransportError
from scim_conformance.expect import RequirementFailure
from scim_conformance.identities import UnevaluableMapping
from scim_conformance.outcomes import Outcome, Unjudged
from scim_conformance.requirements import Registry
from scim_conformance.results import CheckRecord


def stopped(record: CheckRecord, exc: BaseException | None, reason: str) -> None:
    """A check that stopped before judging. Only a typed stop (`expect.blocked`, …) says why; a bare
    pytest.skip inside a check is a harness fault, so that no finding silently turns into "not applicable"."""
    record.message = reason
    if isinstance(exc, Unjudged):
        record.outcome = exc.outcome.value
    else:
        record.outcome = Outcome.ERROR.value
        record.message = f"the check skipped without saying why it could not judge: {reason}"


def raised(record: CheckRecord, exc: BaseException | None, one_line: str) -> bool:
    """A check that raised; returns True for a harness fault (the server was not judged)."""
    if isinstance(exc, RequirementFailure):
        record.outcome = Outcome.FAIL.value
        record.failed_requirements = [exc.requirement]
        record.expected, record.actual, record.message = exc.expected, exc.actual, str(exc)
        return False
    if isinstance(exc, UnevaluableMapping):
        # The tenant's mapping, not the server: the check could not build the value it needed.
        record.outcome = Outcome.BLOCKED.value
        record.message = f"blocked: {exc}"
        return False
    if isinstance(exc, AssertionError):
        record.outcome = Outcome.FAIL.value
        record.failed_requirements = list(record.requirements)
        record.message = one_line
        return False
    # The harness or the network broke: that says nothing about conformance, so it is kept apart.
    record.outcome = Outcome.ERROR.value
    record.message = str(exc) if isinstance(exc, TransportError) else one_line
    return True


def observe(record: CheckRecord, transcript: list[Exchange], registry: Registry, applicable: set[str],
            *, skip: Exchange | None = None) -> list[str]:
    """Judge every response against the cross-cutting requirements; returns the lines of what broke them.

    `skip` is the exchange a failed check already blames (its own finding is about that answer, so the same
    answer does not count twice), except for the Error schema: the check judged the status of that error, not
    the shape of its body, so an error answer is judged whichever check received it. A passing check that only
    broke cross-cutting requirements becomes a failure of those, with its own requirements recorded as verified.
    """
    problems: dict[str, list[str]] = {}
    observed: set[str] = set()
    media_types = registry.media_type_requirements
    for exchange in transcript:
        if exchange.status is None or exchange.credentials_withheld:
            # A refusal the check provoked is that check's subject (its body: RFC-AUTH-ERROR-BODY), not judged here.
            continue
        blamed = exchange is skip
        kind = schemas.expected_kind(exchange.method, exchange.path, exchange.status)
        for part in (kind or "").split(" of "):
            rid = registry.message_requirement(part)
            if rid and (not blamed or part == "Error"):
                observed.add(rid)
        if blamed and kind != "Error":
            continue
        if exchange.response_body and not blamed:
            for requirement in media_types:
                observed.add(requirement.id)
                media = exchange.content_type.split(";")[0].strip().lower()
                if requirement.id in applicable and media != requirement.media_type:
                    problems.setdefault(requirement.id, []).append(
                        f"{exchange.method} {exchange.path}: Content-Type {exchange.content_type or 'missing'!r}")
        if exchange.json is None and not exchange.response_body:
            continue
        document: Any = exchange.json if exchange.json is not None else exchange.response_body
        for violation in schemas.validate_response(exchange.method, exchange.path, exchange.status, document,
                                                   partial=exchange.partial):
            if blamed and violation.message_kind != "Error":
                continue
            rid = registry.message_requirement(violation.message_kind) or registry.message_requirement("User")
            if rid and rid in applicable:
                problems.setdefault(rid, []).append(f"{exchange.method} {exchange.path}: {violation}")
    record.observed = sorted(observed & applicable)
    if not problems:
        return []
    lines = [f"{rid}: {'; '.join(sorted(set(found))[:3])}" for rid, found in sorted(problems.items())]
    if record.outcome == Outcome.PASS:
        # The check's own assertions all held; only responses broke a cross-cutting requirement.
        record.verified = list(record.requirements)
        record.outcome = Outcome.FAIL.value
        record.failed_requirements = sorted(problems)
        record.message = " | ".join(lines)
        record.expected = "every response conforming to its SCIM message schema and media type"
        record.actual = record.message
    else:
        record.failed_requirements = sorted(set(record.failed_requirements) | set(problems))
        record.message = " | ".join([record.message, *lines])
    return lines
