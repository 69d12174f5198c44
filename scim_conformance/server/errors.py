"""The one exception the SCIM layer raises; the HTTP layer turns it into an Error body (RFC 7644 §3.12)."""

from __future__ import annotations


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidValue")


def invalid_syntax(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidSyntax")


def not_found(detail: str) -> ScimError:
    return ScimError(404, detail)
