"""What an Entra user and group hold: the attribute names a mapping can name, and one fixed sample of each.

The profile loader checks every mapping's expression against these names (and evaluates it once on the
sample) before a run; identities.py generates people with exactly these attributes.
"""

from __future__ import annotations

from typing import Any

EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{i}" for i in range(1, 16))

# Every attribute of an Entra user that a mapping can name (Entra's own names), as the generator fills them.
# Unset in a generated user: manager (set by a later PATCH, as Entra does) and the extension attributes
# (empty in most tenants until an admin fills them).
SOURCE_USER_ATTRIBUTES = (
    "userPrincipalName", "mail", "mailNickname", "objectId", "givenName", "surname", "displayName", "jobTitle",
    "preferredLanguage", "physicalDeliveryOfficeName", "streetAddress", "city", "state", "postalCode", "country",
    "telephoneNumber", "mobile", "facsimileTelephoneNumber", "employeeId", "department", "password",
    "companyName", "manager", "proxyAddresses", "accountEnabled", "IsSoftDeleted", "appRoleAssignments",
    *EXTENSION_ATTRIBUTES,
)
SOURCE_GROUP_ATTRIBUTES = ("displayName", "objectId", "members", "mailNickname", "mail", "description")
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
