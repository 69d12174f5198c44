"""Identity data for a run: people and groups as the IdP holds them, turned into SCIM bodies by the profile's mappings.

Everything is generated from faker's word lists under the run's prefix, so that a run touches only what it made
(cleanup can find it by the prefix) and `--seed` makes two runs send the same data.
"""

from __future__ import annotations

import functools
import random
import string
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scim_conformance.attributes import CORE_USER, ENTERPRISE_USER, place
from scim_conformance.expressions import (
    IGNORE,
    Attribute,
    Context,
    ExpressionError,
    attributes,
    evaluate,
    finish,
    redacted,
)
from scim_conformance.profile import AttributeMapping, Profile
from scim_conformance.scoping import ScopeError, fit, in_scope
from scim_conformance.sources import EXTENSION_ATTRIBUTES, MORE_USER_ATTRIBUTES, fill, generated_value


class UnevaluableMapping(ExpressionError):
    """A mapping that cannot be evaluated for one generated person (Entra would skip that person)."""


# How many people a body may be drawn from before a check gives up on the tenant's mappings.
_DRAWS = 10

# The primary flags Entra sets on its own when it groups mapped values into typed elements.
_PRIMARY = {("emails", "work"): True, ("phoneNumbers", "work"): True, ("addresses", "work"): False}
ROLE_TYPE = "WindowsAzureActiveDirectoryRole"
# Now() in a mapping: one fixed instant, so that a run under --seed sends the same values again.
CLOCK = datetime(2026, 1, 1, tzinfo=UTC)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace(" ", "").replace("'", "")


class IdentityFactory:
    def __init__(self, profile: Profile, prefix: str, seed: int, email_domain: str | None = None) -> None:
        """`email_domain` overrides the profile's `identities.email_domain` (the --email-domain option)."""
        self.profile = profile
        self.prefix = prefix
        self.email_domain = email_domain or profile.email_domain
        self.seed = seed
        # Every value is drawn by the run's own generators from faker's en_US word lists: picking from a list is
        # a tenth of what faker's weighted, template-driven methods cost per person (~15% of an entra-id run).
        self._rng = random.Random(f"{seed}:people")
        # Attributes added for expressions draw from their own stream, so the original ones keep their values.
        self._more = random.Random(f"{seed}:source")
        self.context = Context(rng=random.Random(f"{seed}:expressions"), now=CLOCK)
        self._count = 0
        self._filled = _mapped_sources(profile.user_mappings)
        self._expressions = [m.expression for m in profile.user_mappings if m.expression is not None]
        self._group_filled = _mapped_sources(profile.group_mappings)
        self._group_expressions = [m.expression for m in profile.group_mappings if m.expression is not None]

    def _next(self) -> int:
        self._count += 1
        return self._count

    def source_user(self) -> dict[str, Any]:
        """A person as the IdP holds them (Entra's attribute names, and Okta's for the same values), inside the
        tenant's scoping filter: Entra provisions no one else."""
        scope = self.profile.scope.get("users")
        for _ in range(_DRAWS):
            person = self._person()
            if scope and not in_scope(scope, person):
                person = fit(scope, person, functools.partial(_made_up, person,
                                                              random.Random(f"{self.seed}:{self._count}:scope")))
            if not scope or in_scope(scope, person):
                return person
        raise ScopeError(f"no generated person fits the scoping filter for users in {_DRAWS} draws")

    def _person(self) -> dict[str, Any]:
        n = self._next()
        rng, words = self._rng, _words()
        given, surname = rng.choice(words.first_names), rng.choice(words.last_names)
        # Mixed case, as real UPNs are: a server must keep userName exactly as sent.
        local = f"{self.prefix}-{n}.{_ascii(given)}.{_ascii(surname)}"
        person = {
            "userPrincipalName": f"{local}@{self.email_domain}",
            # mail differs from the UPN, so a report shows which of the two a mapping took; same domain, since a
            # tenant may accept only its own verified one.
            "mail": f"{local.replace('.', '_', 1).lower()}@{self.email_domain}",
            "mailNickname": f"{self.prefix}-{n}-{rng.getrandbits(32):08x}",
            "objectId": _uuid4(rng),
            "givenName": given,
            "surname": surname,
            "displayName": f"{given} {surname}",
            "jobTitle": rng.choice(words.jobs)[:60],
            "preferredLanguage": "en-US",
            "physicalDeliveryOfficeName": f"Building {rng.randint(1, 40)}",
            "streetAddress": f"{rng.randint(1, 9999)} {rng.choice(words.last_names)} "
                             f"{rng.choice(words.street_suffixes)}",
            "city": f"{rng.choice(words.city_prefixes)} {rng.choice(words.first_names)}"
                    f"{rng.choice(words.city_suffixes)}",
            "state": rng.choice(words.states),
            "postalCode": _digits(rng, 5),
            "country": "US",
            # Spaces and dashes on purpose: a server must store them exactly as sent.
            "telephoneNumber": f"+1 {_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 4)}",
            "mobile": f"+1 {_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 4)}",
            "facsimileTelephoneNumber": f"+1 {_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 4)}",
            "employeeId": f"E-{_digits(rng, 5)}",
            "department": rng.choice(("Sales", "Finance", "Engineering", "Support", "Legal")),
            "password": _password(rng),
        } | self._more_attributes(local)
        person |= _okta_names(person)
        missing = [name for name in self._filled if person.get(name) is None]
        if missing:  # what a mapping names gets a value: an empty one is never exercised
            fill(person, missing, self._expressions, random.Random(f"{self.seed}:{n}:filled"))
        return person

    def non_ascii_user_body(self) -> dict[str, Any]:
        """The create body for a person whose names and work address hold letters outside ASCII, as a directory
        holds them. Only this person: the others stay ASCII, so a server's trouble with them is found once."""
        given, surname = "Zoë", "Ærøskøbing"
        person = self.source_user() | {"givenName": given, "surname": surname, "displayName": f"{given} {surname}",
                                       "firstName": given, "lastName": surname, "city": "Łódź",
                                       "streetAddress": "12 Ñandú-Straße"}
        return self.user_body(person)

    def _more_attributes(self, local: str) -> dict[str, Any]:
        roles = self.profile.roles
        rng, words = self._more, _words()
        return {
            "companyName": f"{rng.choice(words.last_names)} {rng.choice(words.company_suffixes)}",
            "manager": None,
            "proxyAddresses": [f"SMTP:{local}@{self.email_domain}", f"smtp:{local.lower()}.alias@{self.email_domain}"],
            "accountEnabled": True,
            "IsSoftDeleted": False,  # Entra provisions enabled, assigned users only
            # One assignment: SingleAppRoleAssignment supports no more, and the role checks start from the first.
            "appRoleAssignments": [{"id": _uuid4(rng), "value": roles[0], "displayName": roles[0]}]
            if roles else [],
            **dict.fromkeys(EXTENSION_ATTRIBUTES),
            **dict.fromkeys(MORE_USER_ATTRIBUTES),
        }

    def digits(self, count: int) -> str:
        """`count` random digits from the run's stream (values a check makes up, e.g. an extension's)."""
        return _digits(self._rng, count)

    def resolve(self, mapping: AttributeMapping, source: dict[str, Any]) -> Any:
        """The value a mapping sends for one person: its expression evaluated, else its default (None: not sent)."""
        try:
            value = finish(evaluate(mapping.expression, source, self.context)) if mapping.expression else None
        except ExpressionError as exc:  # a value the load-time samples did not have: still name the mapping
            raise UnevaluableMapping(f"the mapping of {mapping.target} ({mapping.source}) cannot be evaluated for "
                                     f"this person: {exc}") from None
        if value is IGNORE:
            return None  # IgnoreFlowIfNullOrEmpty: the attribute is left out, default or not
        if value is None or value == "":
            value = mapping.default
        # Entra leaves a null or empty value out of a create rather than sending it.
        return None if value is None or value == "" else coerce(value, mapping.type)

    def user_body(self, source: dict[str, Any] | None = None) -> dict[str, Any]:
        """The create body the IdP sends for a person (research notes 4.3).

        A person one of the tenant's mappings cannot be evaluated for is not sent (Entra logs that person's
        failure and provisions the others): the next person is drawn. A check whose every draw fails stops
        with the mapping's error as its finding (UnevaluableMapping, judged blocked)."""
        if source is not None:
            return self._user_body(source)
        failure: UnevaluableMapping | None = None
        for _ in range(_DRAWS):
            try:
                return self._user_body(self.source_user())
            except UnevaluableMapping as exc:
                failure = failure or exc
        assert failure is not None
        raise failure

    def _user_body(self, source: dict[str, Any]) -> dict[str, Any]:
        if not in_scope(self.profile.scope.get("users"), source):
            # The tenant's Entra never sends this person: neither may the suite, whatever a caller hands it.
            raise ScopeError(f"{source.get('userPrincipalName')}: outside the scoping filter for users")
        dialect = self.profile.dialect
        body: dict[str, Any] = {"schemas": [CORE_USER, ENTERPRISE_USER]}
        for mapping in self.profile.user_mappings:
            if mapping.type == "reference":
                continue  # manager and other references follow in a later PATCH
            value = self.resolve(mapping, source)
            if value is None:
                continue
            if isinstance(value, list) and mapping.path.multi_valued and not mapping.path.filter_attribute:
                container = body.setdefault(mapping.path.schema, {}) if mapping.path.schema else body
                container[mapping.path.attribute] = [v if isinstance(v, dict) else {"value": v} for v in value]
                continue
            place(body, mapping.path, value)
        for attribute in ("emails", "phoneNumbers", "addresses"):
            for element in body.get(attribute, []):
                element.setdefault("primary", _PRIMARY.get((attribute, element.get("type")), False))
        roles = body.pop("roles", None)
        if dialect.enterprise_schema == "when-sent" and ENTERPRISE_USER not in body:
            body["schemas"].remove(ENTERPRISE_USER)
        if dialect.resource_meta:
            body["meta"] = {"resourceType": "User"}
        if roles:
            # A role mapped through a primary filter arrives as a JSON boolean in the POST (research notes 4.17).
            for role in roles:
                if isinstance(role.get("primary"), str):
                    role["primary"] = role["primary"].lower() == "true"
                role.setdefault("type", ROLE_TYPE)
            body["roles"] = roles
        elif self.profile.roles and not any(m.path.attribute == "roles" for m in self.profile.user_mappings):
            body["roles"] = [{"primary": True, "type": ROLE_TYPE, "value": self.profile.roles[0]}]
        for attribute in dialect.empty_attributes.get("users", ()):
            body.setdefault(attribute, [])  # Entra sends roles [], Okta groups [], when there are none
        if self.profile.password_sync and "password" not in body:
            body["password"] = source["password"]
        return body

    def mapping_report(self) -> list[dict[str, Any]]:
        """Each user mapping as the report shows it: target <- expression -> the value sent for an example person.

        The example person comes from its own stream, so showing it changes nothing the checks send.
        """
        preview = IdentityFactory(self.profile, self.prefix, self.seed, self.email_domain)
        person = preview.source_user()
        rows = []
        for mapping in self.profile.user_mappings:
            try:
                value = None if mapping.type == "reference" else preview.resolve(mapping, person)
                problem = None
            except UnevaluableMapping as exc:
                value, problem = None, str(exc)
            hidden = mapping.path.attribute == "password" or redacted(mapping.expression)
            row = {"target": mapping.target, "source": mapping.source, "type": mapping.type, "flow": mapping.flow,
                   "sent": "[Redact]" if hidden and value is not None else value}
            if mapping.matching:
                row["matching"] = mapping.matching
            if mapping.default is not None:
                row["default"] = mapping.default
            if problem:
                row["note"] = f"not sent: {problem}"
            elif mapping.type == "reference":
                row["note"] = "sent in a later PATCH, once the referenced object exists"
            elif value is None:
                row["note"] = "not sent: the source is empty for this person"
            rows.append(row)
        return rows

    def source_group(self, display_name: str | None = None) -> dict[str, Any]:
        """A group as Entra holds it (Entra's own attribute names); members follow by PATCH."""
        n = self._next()
        phrase = " ".join(self._rng.choice(part) for part in _words().business_phrases).title()
        name = display_name or f"{self.prefix}-{n} {phrase}"[:80]
        group = {"displayName": name, "objectId": _uuid4(self._rng), "mailNickname": f"{self.prefix}-g{n}",
                 "mail": f"{self.prefix}-g{n}@{self.email_domain}", "description": name, "members": None}
        missing = [attribute for attribute in self._group_filled if group.get(attribute) is None]
        if missing:
            fill(group, missing, self._group_expressions, random.Random(f"{self.seed}:{n}:filled"))
        scope = self.profile.scope.get("groups")
        if scope and not in_scope(scope, group):
            group = fit(scope, group, functools.partial(_made_up, group, random.Random(f"{self.seed}:{n}:scope")))
            if not in_scope(scope, group):
                raise ScopeError(f"{name}: no generated group fits the scoping filter for groups")
        return group

    def group_body(self, display_name: str | None = None) -> dict[str, Any]:
        """The create body the IdP sends for a group: no members, which follow by PATCH (research notes 4.9)."""
        source = self.source_group(display_name)
        dialect = self.profile.dialect
        body: dict[str, Any] = {"schemas": list(dialect.group_schemas)}
        mappings = [m for m in self.profile.group_mappings if m.type != "reference"]
        for mapping in mappings:
            value = self.resolve(mapping, source)
            if value is not None:
                place(body, mapping.path, value)
        if not mappings:  # a profile without group mappings: what Entra's defaults send
            body |= {"externalId": source["objectId"], "displayName": source["displayName"]}
        if dialect.resource_meta:
            body["meta"] = {"resourceType": "Group"}
        for attribute in dialect.empty_attributes.get("groups", ()):
            body.setdefault(attribute, [])  # Okta's Group Push sends members [] on create
        return body

    def unknown_id(self) -> str:
        return _uuid4(self._rng)


@dataclass(frozen=True)
class _Words:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    jobs: tuple[str, ...]
    street_suffixes: tuple[str, ...]
    city_prefixes: tuple[str, ...]
    city_suffixes: tuple[str, ...]
    states: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    business_phrases: tuple[tuple[str, ...], ...]  # a verb, an adjective, a noun


@functools.cache
def _words() -> _Words:
    """faker's en_US word lists, read once per process, on the first person (after the target's first probe):
    faker's import is a tenth of a second, kept out of the start-up to the first request."""
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.company.en_US import Provider as Company
    from faker.providers.job.en_US import Provider as Job
    from faker.providers.person.en_US import Provider as Person

    return _Words(first_names=tuple(Person.first_names), last_names=tuple(Person.last_names), jobs=tuple(Job.jobs),
                  street_suffixes=tuple(Address.street_suffixes), city_prefixes=tuple(Address.city_prefixes),
                  city_suffixes=tuple(Address.city_suffixes), states=tuple(Address.states_abbr),
                  company_suffixes=tuple(Company.company_suffixes),
                  business_phrases=tuple(tuple(words) for words in Company.bsWords))


def _made_up(person: dict[str, Any], rng: random.Random, name: str) -> Any:
    return generated_value(name, person, rng)


def _mapped_sources(mappings: tuple[AttributeMapping, ...]) -> tuple[str, ...]:
    """The source attributes the mappings name that a generated person (or group) does not otherwise hold.

    A bare attribute sent to a boolean, integer or reference target is left as the tenant has it (unset until an
    admin fills it): text made up for it would not be a value that target takes.
    """
    names: list[str] = []
    for mapping in mappings:
        if isinstance(mapping.expression, Attribute) and mapping.type != "string":
            continue
        # A manager is set by a later PATCH, members by theirs.
        names += [name for name in attributes(mapping.expression) if name not in (*names, "manager", "members")]
    return tuple(names)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choices("0123456789", k=count))


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_PASSWORD_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!@#$%^&*()_+")


def _password(rng: random.Random, length: int = 16) -> str:
    """At least one of each class, as a tenant's password policy may ask."""
    chars = [rng.choice(chars) for chars in _PASSWORD_CLASSES]
    chars += rng.choices("".join(_PASSWORD_CLASSES), k=length - len(chars))
    rng.shuffle(chars)
    return "".join(chars)


def _okta_names(person: dict[str, Any]) -> dict[str, Any]:
    """The same person under Okta's profile attribute names (derived, so no seed sends anything new)."""
    return {
        "login": person["userPrincipalName"],
        "firstName": person["givenName"],
        "lastName": person["surname"],
        "email": person["mail"],
        "locale": person["preferredLanguage"],
        "oktaId": "00u" + person["objectId"].replace("-", "")[:17],  # Okta's user id, sent as externalId
    }


def coerce(value: Any, kind: str) -> Any:
    """An evaluated value in the target attribute's type (Entra's string booleans become JSON booleans on POST)."""
    if value is None:
        return None
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    if kind == "integer" and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if kind == "string" and isinstance(value, bool):
        return "True" if value else "False"
    if kind == "string" and isinstance(value, int):
        return str(value)
    return value
