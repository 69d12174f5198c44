"""What an Entra user and group hold: the attribute names a mapping can name, and one fixed sample of each.

The profile loader checks every mapping's expression against these names (and evaluates it once on the
sample) before a run; identities.py generates people with exactly these attributes.
"""

from __future__ import annotations

import base64
import functools
import random
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scim_conformance.expressions import Context, ExpressionError, Node, attributes, evaluate

EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{i}" for i in range(1, 16))
# The rest of Microsoft's documented Entra user attributes a provisioning mapping can name (the "User" object of
# the schema's source directory): unset in a generated person unless a mapping of the profile names them.
MORE_USER_ATTRIBUTES = (
    "userType", "employeeType", "employeeHireDate", "employeeLeaveDateTime", "employeeOrgData.division",
    "employeeOrgData.costCenter", "onPremisesSamAccountName", "onPremisesUserPrincipalName",
    "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesSecurityIdentifier", "onPremisesImmutableId",
    "immutableId", "otherMails", "usageLocation", "sipProxyAddress", "showInAddressList", "passwordProfile.password",
)
# An app's or a tenant's directory extension: extension_<appId without dashes>_<name>.
DIRECTORY_EXTENSION = re.compile(r"extension_[0-9a-fA-F]{32}_\w+")

# Every attribute of an Entra user that a mapping can name (Entra's own names), as the generator fills them.
# Unset in a generated user: manager (set by a later PATCH, as Entra does) and the extension attributes
# (empty in most tenants until an admin fills them).
SOURCE_USER_ATTRIBUTES = (
    "userPrincipalName", "mail", "mailNickname", "objectId", "givenName", "surname", "displayName", "jobTitle",
    "preferredLanguage", "physicalDeliveryOfficeName", "streetAddress", "city", "state", "postalCode", "country",
    "telephoneNumber", "mobile", "facsimileTelephoneNumber", "employeeId", "department", "password",
    "companyName", "manager", "proxyAddresses", "accountEnabled", "IsSoftDeleted", "appRoleAssignments",
    *EXTENSION_ATTRIBUTES, *MORE_USER_ATTRIBUTES,
)
SOURCE_GROUP_ATTRIBUTES = ("displayName", "objectId", "members", "mailNickname", "mail", "description",
                           "securityEnabled", "mailEnabled", "proxyAddresses", "onPremisesSamAccountName")


@dataclass(frozen=True)
class KnownAttributes:
    """The source attribute names a mapping may name: a list, and (for Entra) any directory extension."""

    names: frozenset[str]
    extensions: bool = True

    def __contains__(self, name: object) -> bool:
        return name in self.names or (self.extensions and isinstance(name, str)
                                      and DIRECTORY_EXTENSION.fullmatch(name) is not None)


def generated_value(name: str, person: dict[str, Any], rng: random.Random) -> Any:
    """A value of a documented attribute the generator leaves unset, made from the person's other values."""
    given, surname = str(person.get("givenName") or "x"), str(person.get("surname") or "x")
    upn = str(person.get("userPrincipalName") or f"{given}.{surname}@example.com")
    domain = upn.rpartition("@")[2]
    digits = "".join(rng.choices("0123456789", k=6))
    if name.startswith("extensionAttribute"):
        return f"EA{name.removeprefix('extensionAttribute')}-{digits}"
    ascii_name = re.sub(r"[^a-z]", "", f"{given[:1]}{surname}".lower()) or "user"
    values: dict[str, Callable[[], Any]] = {
        "userType": lambda: "Member",
        "employeeType": lambda: rng.choice(("Employee", "Contractor", "Consultant", "Vendor")),
        "employeeHireDate": lambda: f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                                    "T08:00:00Z",
        "employeeLeaveDateTime": lambda: f"20{rng.randint(30, 39)}-{rng.randint(1, 12):02d}-01T00:00:00Z",
        "employeeOrgData.division": lambda: rng.choice(("North", "South", "East", "West")),
        "employeeOrgData.costCenter": lambda: f"CC-{digits[:4]}",
        # The pre-Windows 2000 logon name: at most 20 characters.
        "onPremisesSamAccountName": lambda: f"{ascii_name[:14]}{digits[:6]}"[:20],
        "onPremisesUserPrincipalName": lambda: upn,
        "onPremisesDistinguishedName": lambda: f"CN={given} {surname},OU=Users,DC={domain.replace('.', ',DC=')}",
        "onPremisesDomainName": lambda: domain,
        "onPremisesSecurityIdentifier": lambda: f"S-1-5-21-{rng.getrandbits(31)}-{rng.getrandbits(31)}-"
                                                f"{rng.getrandbits(31)}-{1000 + rng.getrandbits(12)}",
        "otherMails": lambda: [f"{ascii_name}.{digits}@other.{domain}"],
        "usageLocation": lambda: person.get("country") or "US",
        "sipProxyAddress": lambda: f"sip:{upn}",
        "showInAddressList": lambda: True,
        "onPremisesImmutableId": lambda: base64.b64encode(uuid.UUID(int=rng.getrandbits(128), version=4).bytes
                                                          ).decode("ascii"),
    }
    values["immutableId"] = values["onPremisesImmutableId"]
    if name in values:
        return values[name]()
    return f"{name.rpartition('_')[2]}-{digits}"  # a directory extension, or an attribute only an export lists


def free_text(name: str) -> bool:
    """An attribute whose content the tenant's admin decides (extension attributes, directory extensions, what
    only an export lists): a mapping may read it as text, a date, a number or a boolean."""
    return (name in EXTENSION_ATTRIBUTES or DIRECTORY_EXTENSION.fullmatch(name) is not None
            or name not in (*SOURCE_USER_ATTRIBUTES, *SOURCE_GROUP_ATTRIBUTES, *OKTA_USER_ATTRIBUTES))


def fill(person: dict[str, Any], names: Iterable[str], nodes: Sequence[Node | None], rng: random.Random
         ) -> dict[str, Any]:
    """The person with each unset attribute of `names` given a value; a free-text one gets the first of a text, a
    date, a number and a boolean that every expression in `nodes` naming it can evaluate (a tenant that maps
    CDate([extensionAttribute2]) keeps dates there)."""
    for name in names:
        if person.get(name) is not None:
            continue
        options = [generated_value(name, person, rng)]
        if free_text(name):
            options += [f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T08:00:00Z",
                        "".join(rng.choices("123456789", k=6)), "True"]
        using = [node for node in nodes if name in attributes(node)]
        person[name] = next((value for value in options if _evaluates(using, person | {name: value})), options[0])
    return person


def _evaluates(nodes: Sequence[Node | None], person: dict[str, Any]) -> bool:
    try:
        for node in nodes:
            evaluate(node, person, Context())  # a fresh context: the run's own random stream is not drawn on
    except ExpressionError:
        return False
    return True


def sample_users(names: Iterable[str] = ()) -> list[dict[str, Any]]:
    return list(_sample_users(tuple(names)))


@functools.cache
def _sample_users(names: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """The people a profile's mappings are evaluated on at load (after `fill` with the attributes each mapping
    names): one with the usual attributes, one with every documented one set and names beyond ASCII, one with
    short names and most attributes empty; `names` adds attributes only an export lists, unset."""
    rng = random.Random(0)
    full = SAMPLE_USER | {"givenName": "Zoë", "surname": "Ångström-Núñez", "displayName": "Zoë Ångström-Núñez",
                          "userPrincipalName": "zoe.angstrom@example.test", "mail": "zoe@mail.example.test"}
    full |= {name: generated_value(name, full, rng) for name in MORE_USER_ATTRIBUTES}
    sparse = {name: None for name in SOURCE_USER_ATTRIBUTES} | {
        "userPrincipalName": "li.wu@example.test", "mailNickname": "li", "objectId": SAMPLE_USER["objectId"],
        "givenName": "Li", "surname": "Wu", "displayName": "Li Wu", "accountEnabled": True, "IsSoftDeleted": False,
        "proxyAddresses": [], "appRoleAssignments": [], "password": SAMPLE_USER["password"]}
    extra = [name for name in names if name not in SAMPLE_USER]
    return tuple(person | dict.fromkeys(extra) for person in (SAMPLE_USER, full, sparse))
SAMPLE_GROUP: dict[str, Any] = {"displayName": "Sales", "objectId": "22cc22cc-dd33-ee44-ff55-66aa66aa66aa",
                                "members": None, "mailNickname": "sales", "mail": "sales@example.test",
                                "description": "Sales"}

# One fixed person for checking a profile's expressions at load, before any generator exists.
SAMPLE_USER: dict[str, Any] = {name: None for name in SOURCE_USER_ATTRIBUTES} | {
    "userPrincipalName": "Ada.Lovelace@example.test", "mail": "ada@mail.example.test", "mailNickname": "ada",
    "objectId": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee", "givenName": "Ada", "surname": "Lovelace",
    "displayName": "Ada Lovelace", "jobTitle": "Analyst", "preferredLanguage": "en-US",
    "physicalDeliveryOfficeName": "Building 1", "streetAddress": "1 Main St", "city": "Springfield",
    "state": "IL", "postalCode": "62701", "country": "US", "telephoneNumber": "+1 555-010-0001",
    "mobile": "+1 555-010-0002", "facsimileTelephoneNumber": "+1 555-010-0003", "employeeId": "E-00001",
    "department": "Sales", "password": "Sample-Passw0rd!", "companyName": "Example Ltd",
    "proxyAddresses": ["SMTP:ada@mail.example.test"], "accountEnabled": True, "IsSoftDeleted": False,
    "appRoleAssignments": [{"id": "11bb11bb-cc22-dd33-ee44-55ff55ff55ff", "value": "User", "displayName": "User"}],
}

# Okta's user profile under Okta's own names: what its SCIM mappings name (docs/research/okta.md 4.3).
OKTA_USER_ATTRIBUTES = ("login", "firstName", "lastName", "email", "displayName", "locale", "oktaId", "password")
OKTA_SAMPLE_USER: dict[str, Any] = {
    "login": "Ada.Lovelace@example.test", "firstName": "Ada", "lastName": "Lovelace",
    "email": "ada@mail.example.test", "displayName": "Ada Lovelace", "locale": "en-US",
    "oktaId": "00u1a2b3c4d5e6f7g8h", "password": "Sample-Passw0rd!",
}


def user_source(idp: str, more: Iterable[str] = ()) -> tuple[KnownAttributes, list[dict[str, Any]]]:
    """The attribute names a user mapping of this IdP may name (`more`: those the tenant's export lists besides
    Microsoft's documented ones), and the sample people it is evaluated on."""
    if idp == "Okta":
        return KnownAttributes(frozenset(OKTA_USER_ATTRIBUTES), extensions=False), [OKTA_SAMPLE_USER]
    more = tuple(more)
    return KnownAttributes(frozenset((*SOURCE_USER_ATTRIBUTES, *more))), sample_users(more)


def group_source(more: Iterable[str] = ()) -> tuple[KnownAttributes, list[dict[str, Any]]]:
    more = tuple(more)
    sample = {name: None for name in SOURCE_GROUP_ATTRIBUTES} | SAMPLE_GROUP
    return KnownAttributes(frozenset((*SOURCE_GROUP_ATTRIBUTES, *more))), [sample | dict.fromkeys(more)]
