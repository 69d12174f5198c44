"""The resources a check creates: made under the run's prefix, recorded in the journal, and always removed.

Checks never touch anything they did not create. Each check gets its own manager; whatever it
created and did not delete itself is deleted when the check ends, pass or fail, exactly once.
"""

from __future__ import annotations

from typing import Any

from scim_conformance.attributes import CORE_GROUP, CORE_USER, ENTERPRISE_USER
from scim_conformance.client import Exchange, ScimClient, TransportError
from scim_conformance.declared import UNKNOWN, Declared
from scim_conformance.expect import blocked, describe, disabled
from scim_conformance.journal import Journal


def plain_body(body: dict[str, Any]) -> dict[str, Any]:
    """The same resource in the plainest RFC 7643 form: core schema (and enterprise, if used), no IdP extras."""
    kept = {k: v for k, v in body.items() if v not in (None, [])
            and k not in ("meta", "schemas") and not (k.startswith("urn:") and k != ENTERPRISE_USER)}
    core = CORE_USER if "userName" in body else CORE_GROUP
    kept["schemas"] = [core] + ([ENTERPRISE_USER] if ENTERPRISE_USER in kept else [])
    return kept


def minimal_body(body: dict[str, Any]) -> dict[str, Any]:
    """The least a resource needs to exist: userName, name, one untyped email and active; a group's displayName.

    Strict servers that refuse something in the IdP's body still take this, so the checks that need *a* user
    or group can run.
    """
    if "userName" not in body:
        return {"schemas": [CORE_GROUP], "displayName": body.get("displayName"), "members": []}
    minimal: dict[str, Any] = {"schemas": [CORE_USER], "userName": body["userName"]}
    name = {k: v for k, v in (body.get("name") or {}).items() if k in ("givenName", "familyName") and v}
    if name:
        minimal["name"] = name
    email = next((e.get("value") for e in body.get("emails") or [] if isinstance(e, dict) and e.get("value")), None)
    if email:
        minimal["emails"] = [{"value": email}]
    minimal["active"] = True
    return minimal


# The forms a premise is tried in, most faithful first.
FORMS = {"idp": lambda body: body, "plain": plain_body, "minimal": minimal_body}


class Resources:
    def __init__(self, client: ScimClient, endpoint: str, journal: Journal, read_only: bool,
                 declared: Declared = UNKNOWN) -> None:
        self.client = client
        self.declared = declared  # what the server declares: the fallback forms keep to it
        self.endpoint = endpoint  # "/Users" or "/Groups"
        self.journal = journal
        self.read_only = read_only
        self.created: dict[str, str] = {}  # id -> userName/displayName, in creation order
        self.cleanup_failures: list[str] = []
        self.form = "idp"  # the form the last premise was accepted in (see FORMS)
        self.sent: dict[str, dict[str, Any]] = {}  # id -> the body that created it, as the server accepted it

    def in_accepted_form(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` in the form the last premise was accepted in (to repeat it, e.g. as a duplicate)."""
        return self.in_form(self.form, body)

    def in_form(self, form: str, body: dict[str, Any]) -> dict[str, Any]:
        """`body` in one of FORMS; the fallback forms hold the server's declared required attributes and no
        attribute it does not declare (the IdP's own form is sent as the IdP sends it)."""
        shaped: dict[str, Any] = FORMS[form](body)
        return shaped if form == "idp" else self.declared.fit(self.endpoint, shaped, body)

    def post(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> Exchange:
        """POST a body and take ownership of whatever it creates (the check judges the answer itself)."""
        if self.read_only:
            disabled("this check creates resources")
        name = body.get("userName") or body.get("displayName") or ""
        if isinstance(body.get("password"), str):
            # Generated, but a password all the same (Okta sends one on every create): never in a report.
            self.client.redact.add(body["password"])
        self.journal.intend(self.endpoint, name)
        exchange = self.client.post(self.endpoint, body, headers=headers)
        data = exchange.json
        if exchange.status is not None and 200 <= exchange.status < 300 and isinstance(data, dict) \
                and isinstance(data.get("id"), str) and data["id"]:
            self.created[data["id"]] = name
            self.journal.created(self.endpoint, data["id"], name)
        return exchange

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """A resource the check needs as a premise; if the server cannot create it, the check is blocked."""
        data, exchange = self._premise(body)
        if data is None:
            blocked(f"could not create the {self.endpoint[1:-1].lower()} this check needs, even in "
                    f"the minimal form (POST {self.endpoint} answered {describe(exchange)})")
        return data

    def try_create(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Like `create`, for a premise a check can do without: None when the server creates nothing."""
        return self._premise(body)[0]

    def _premise(self, body: dict[str, Any]) -> tuple[dict[str, Any] | None, Exchange]:
        """Create `body`, falling back to plainer forms when the server refuses it.

        When the IdP's own body is refused, the plain RFC 7643 body and then a minimal one are tried (each fitted
        to what the server declares in /Schemas: its required attributes in, its undeclared ones out): the
        refusal is reported once, by the create checks, and the other checks can still say what they know.
        Later premises of the same check start with the form that worked. `self.sent` keeps the body each
        resource was created from, for checks that compare with what was sent.
        """
        forms = list(FORMS)[list(FORMS).index(self.form):]
        tried: list[dict[str, Any]] = []
        for form in forms:
            candidate = self.in_form(form, body)
            if candidate in tried:
                continue
            tried.append(candidate)
            exchange = self.post(candidate)
            data = exchange.json
            if exchange.status in (200, 201) and isinstance(data, dict) and isinstance(data.get("id"), str) \
                    and data["id"]:
                self.form = form
                self.sent[data["id"]] = candidate
                return data, exchange
            if exchange.status == 409:
                break  # a conflict is about the name, not the form; another form would conflict the same way
        return None, exchange

    def delete(self, resource_id: str) -> Exchange:
        """DELETE one of this check's own resources (a check may never delete anything else)."""
        if resource_id not in self.created and not self.journal.owns(self.endpoint, resource_id):
            raise RuntimeError(f"refusing to delete {self.endpoint}/{resource_id}: not created by this run")
        exchange = self.client.delete(f"{self.endpoint}/{resource_id}")
        if exchange.status in (200, 204, 404):
            self.created.pop(resource_id, None)
            self.journal.removed(self.endpoint, resource_id)
        return exchange

    def cleanup(self) -> None:
        for resource_id in list(reversed(self.created)):
            failure = remove(self.client, self.journal, self.endpoint, resource_id)
            if failure:
                self.cleanup_failures.append(failure)
        self.created.clear()


def remove(client: ScimClient, journal: Journal, endpoint: str, resource_id: str) -> str | None:
    """Delete one resource the run owns; None when it is gone, else the line that says why not."""
    try:
        exchange = client.delete(f"{endpoint}/{resource_id}")
    except TransportError as exc:
        return f"DELETE {endpoint}/{resource_id}: {exc}"
    if exchange.status in (200, 204, 404):
        journal.removed(endpoint, resource_id)
        return None
    return f"DELETE {endpoint}/{resource_id} answered {describe(exchange)}"
