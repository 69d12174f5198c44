"""Schema definitions the server publishes (/Schemas, /ResourceTypes, /ServiceProviderConfig) and obeys.

The same definitions drive input cleaning (types, boolean coercion, canonical attribute names), filter
binding (caseExact, boolean attributes) and PATCH path resolution, so there is one source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


@dataclass(frozen=True)
class AttrDef:
    """One attribute (or sub-attribute) with the characteristics RFC 7643 §7 names."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    description: str = ""
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple[AttrDef, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    # The name as compared (SCIM names are case-insensitive), folded once: every request looks names up.
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.name.lower())

    def sub(self, name: str, *, exact: bool = False) -> AttrDef | None:
        return find_attr(self.sub_attributes, name, exact=exact)

    def to_json(self, *, canonical_values: bool = True) -> dict[str, Any]:
        # Properties that do not apply are left out rather than sent as null (Entra reads camelCase only).
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description or self.name,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.sub_attributes:
            out["subAttributes"] = [a.to_json(canonical_values=canonical_values) for a in self.sub_attributes]
        if self.canonical_values and canonical_values:
            out["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            out["referenceTypes"] = list(self.reference_types)
        return out


def find_attr(attrs: tuple[AttrDef, ...], name: str, *, exact: bool = False) -> AttrDef | None:
    """Attribute names are case-insensitive in SCIM; ``exact`` exists for the path-case-sensitive defect."""
    if exact:
        return next((attr for attr in attrs if attr.name == name), None)
    key = name.lower()
    return next((attr for attr in attrs if attr.key == key), None)


def _s(name: str, description: str = "", **kw: Any) -> AttrDef:
    return AttrDef(name=name, description=description, **kw)


def _multi(
    name: str,
    description: str,
    types: tuple[str, ...],
    *,
    value_type: str = "string",
    reference_types: tuple[str, ...] = (),
    mutability: str = "readWrite",
) -> AttrDef:
    """The common multi-valued shape: value, display, type (with canonical values) and primary."""
    subs = (
        _s("value", f"The {name} value.", type=value_type, reference_types=reference_types, mutability=mutability),
        _s("display", "A human-readable name, primarily used for display purposes.", mutability=mutability),
        _s("type", "A label indicating the attribute's function.", canonical_values=types, mutability=mutability),
        _s("primary", "A Boolean value indicating the 'primary' or preferred attribute value.",
           type="boolean", mutability=mutability),
    )
    return AttrDef(name=name, type="complex", multi_valued=True, description=description,
                   sub_attributes=subs, mutability=mutability)


USER_ATTRIBUTES: tuple[AttrDef, ...] = (
    _s("userName", "Unique identifier for the User, used to authenticate.", required=True, uniqueness="server"),
    AttrDef(
        name="name",
        type="complex",
        description="The components of the user's real name.",
        sub_attributes=(
            _s("formatted", "The full name, formatted for display."),
            _s("familyName", "The family name of the User."),
            _s("givenName", "The given name of the User."),
            _s("middleName", "The middle name(s) of the User."),
            _s("honorificPrefix", "The honorific prefix(es) of the User."),
            _s("honorificSuffix", "The honorific suffix(es) of the User."),
        ),
    ),
    _s("displayName", "The name of the User, suitable for display to end-users."),
    _s("nickName", "The casual way to address the user in real life."),
    _s("profileUrl", "A fully qualified URL pointing to the User's online profile.", type="reference",
       reference_types=("external",)),
    _s("title", "The user's title, such as 'Vice President'."),
    _s("userType", "Used to identify the relationship between the organization and the user."),
    _s("preferredLanguage", "The User's preferred written or spoken language."),
    _s("locale", "Used to indicate the User's default location for localization."),
    _s("timezone", "The User's time zone in the Olson time zone database format."),
    _s("active", "A Boolean value indicating the User's administrative status.", type="boolean"),
    _s("password", "The User's cleartext password, write-only.", mutability="writeOnly", returned="never"),
    _multi("emails", "Email addresses for the user.", ("work", "home", "other")),
    _multi("phoneNumbers", "Phone numbers for the User.", ("work", "home", "mobile", "fax", "pager", "other")),
    _multi("ims", "Instant messaging addresses for the User.",
           ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
    _multi("photos", "URLs of photos of the User.", ("photo", "thumbnail"), value_type="reference",
           reference_types=("external",)),
    AttrDef(
        name="addresses",
        type="complex",
        multi_valued=True,
        description="A physical mailing address for this User.",
        sub_attributes=(
            _s("formatted", "The full mailing address, formatted for display."),
            _s("streetAddress", "The full street address component."),
            _s("locality", "The city or locality component."),
            _s("region", "The state or region component."),
            _s("postalCode", "The zip code or postal code component."),
            _s("country", "The country name component."),
            _s("type", "A label indicating the attribute's function.", canonical_values=("work", "home", "other")),
            _s("primary", "A Boolean value indicating the preferred address.", type="boolean"),
        ),
    ),
    AttrDef(
        name="groups",
        type="complex",
        multi_valued=True,
        description="A list of groups to which the user belongs.",
        mutability="readOnly",
        sub_attributes=(
            _s("value", "The identifier of the User's group.", mutability="readOnly"),
            _s("$ref", "The URI of the corresponding Group resource.", type="reference",
               reference_types=("User", "Group"), mutability="readOnly"),
            _s("display", "A human-readable name.", mutability="readOnly"),
            _s("type", "How the group membership was derived.", canonical_values=("direct", "indirect"),
               mutability="readOnly"),
        ),
    ),
    _multi("entitlements", "A list of entitlements for the User.", ()),
    _multi("roles", "A list of roles for the User.", ()),
    _multi("x509Certificates", "A list of certificates issued to the User.", (), value_type="binary"),
)

ENTERPRISE_ATTRIBUTES: tuple[AttrDef, ...] = (
    _s("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
    _s("costCenter", "Identifies the name of a cost center."),
    _s("organization", "Identifies the name of an organization."),
    _s("division", "Identifies the name of a division."),
    _s("department", "Identifies the name of a department."),
    AttrDef(
        name="manager",
        type="complex",
        description="The User's manager.",
        sub_attributes=(
            _s("value", "The id of the SCIM resource representing the User's manager."),
            _s("$ref", "The URI of the SCIM resource representing the User's manager.", type="reference",
               reference_types=("User",)),
            _s("displayName", "The displayName of the User's manager.", mutability="readOnly"),
        ),
    ),
)

GROUP_ATTRIBUTES: tuple[AttrDef, ...] = (
    _s("displayName", "A human-readable name for the Group.", required=True),
    AttrDef(
        name="members",
        type="complex",
        multi_valued=True,
        description="A list of members of the Group.",
        sub_attributes=(
            _s("value", "Identifier of the member of this Group.", case_exact=True, mutability="immutable"),
            _s("$ref", "The URI of the member resource.", type="reference", reference_types=("User", "Group"),
               mutability="immutable"),
            # RFC 7643 §2.4 makes a multi-valued attribute's display immutable: a client may set it when it adds
            # the member (it is kept as sent); the server derives it only when the client leaves it out.
            _s("display", "A human-readable name for the member.", mutability="immutable"),
            _s("type", "The type of the member.", canonical_values=("User", "Group"), mutability="immutable"),
        ),
    ),
)

# Common attributes (RFC 7643 §3.1) are not part of any published schema, but filters and cleaning use them.
COMMON_ATTRIBUTES: tuple[AttrDef, ...] = (
    _s("id", "Unique identifier assigned by the service provider.", case_exact=True, mutability="readOnly",
       returned="always", uniqueness="server"),
    _s("externalId", "Identifier assigned by the provisioning client.", case_exact=True),
    AttrDef(
        name="meta",
        type="complex",
        mutability="readOnly",
        sub_attributes=(
            _s("resourceType", case_exact=True, mutability="readOnly"),
            _s("created", type="dateTime", mutability="readOnly"),
            _s("lastModified", type="dateTime", mutability="readOnly"),
            _s("location", type="reference", case_exact=True, mutability="readOnly"),
            _s("version", case_exact=True, mutability="readOnly"),
        ),
    ),
)


@dataclass(frozen=True)
class SchemaDef:
    id: str
    name: str
    description: str
    attributes: tuple[AttrDef, ...]

    def to_json(self, base_url: str, *, canonical_values: bool = True) -> dict[str, Any]:
        return {
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_json(canonical_values=canonical_values) for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{self.id}"},
        }


SCHEMAS: tuple[SchemaDef, ...] = (
    SchemaDef(CORE_USER, "User", "User Account", USER_ATTRIBUTES),
    SchemaDef(CORE_GROUP, "Group", "Group", GROUP_ATTRIBUTES),
    SchemaDef(ENTERPRISE_USER, "EnterpriseUser", "Enterprise User", ENTERPRISE_ATTRIBUTES),
)
SCHEMAS_BY_ID: dict[str, SchemaDef] = {s.id.lower(): s for s in SCHEMAS}


@dataclass(frozen=True)
class ResourceType:
    name: str
    endpoint: str
    core: SchemaDef
    extensions: tuple[SchemaDef, ...] = field(default=())
    # Extension URNs (lower case) whose data the server silently drops: it does not declare them.
    ignored: frozenset[str] = frozenset()

    def attribute(self, urn: str | None, name: str, *, exact: bool = False) -> AttrDef | None:
        """Resolve a top-level attribute, optionally under a schema URN, to its definition."""
        if urn is None or urn.lower() == self.core.id.lower():
            return find_attr(self.core.attributes, name, exact=exact) or find_attr(
                COMMON_ATTRIBUTES, name, exact=exact
            )
        ext = self.extension(urn)
        return find_attr(ext.attributes, name, exact=exact) if ext else None

    def extension(self, urn: str) -> SchemaDef | None:
        return next((e for e in self.extensions if e.id.lower() == urn.lower()), None)

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": f"{self.name} resources",
            "schema": self.core.id,
            "schemaExtensions": [{"schema": e.id, "required": False} for e in self.extensions],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{self.name}"},
        }


USER_TYPE = ResourceType("User", "/Users", SCHEMAS[0], (SCHEMAS[2],))
GROUP_TYPE = ResourceType("Group", "/Groups", SCHEMAS[1])
RESOURCE_TYPES: dict[str, ResourceType] = {"User": USER_TYPE, "Group": GROUP_TYPE}
# What the quirk core-subset keeps of the core User schema: a product that stores little more than a login.
CORE_SUBSET = ("userName", "name", "displayName", "active", "emails", "groups")


def published(on: Callable[[str], bool]) -> tuple[dict[str, ResourceType], tuple[SchemaDef, ...]]:
    """The resource types and schemas a server publishes and obeys, given its quirk and defect switches (`on`)."""
    changes = ("name-formatted-required", "no-enterprise-extension", "core-subset", "preferred-language-unsupported")
    if not any(on(q) for q in changes):
        return RESOURCE_TYPES, SCHEMAS
    attributes = USER_ATTRIBUTES
    if on("name-formatted-required"):
        # Required within name, and name itself required: creates without a formatted name are refused.
        attributes = tuple(
            replace(a, required=True, sub_attributes=tuple(replace(s, required=s.name == "formatted")
                                                           for s in a.sub_attributes))
            if a.name == "name" else a for a in attributes)
    if on("core-subset"):
        attributes = tuple(a for a in attributes if a.name in CORE_SUBSET)
    if on("preferred-language-unsupported"):
        attributes = tuple(a for a in attributes if a.name != "preferredLanguage")
    core = replace(SCHEMAS[0], attributes=attributes)
    enterprise = SCHEMAS[2]
    if on("no-enterprise-extension"):
        user = ResourceType("User", "/Users", core, (), frozenset({enterprise.id.lower()}))
        return {"User": user, "Group": GROUP_TYPE}, (core, SCHEMAS[1])
    return {"User": ResourceType("User", "/Users", core, (enterprise,)), "Group": GROUP_TYPE}, (core, *SCHEMAS[1:])

MAX_RESULTS = 1000
MAX_PAYLOAD = 1024 * 1024


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": MAX_PAYLOAD},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication with a static bearer token given to the server at start-up",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"},
    }
