"""The reference SCIM 2.0 server: a correct, tolerant target for the checks, with defect and quirk switches.

    from scim_conformance.server import ReferenceServer, DEFECTS

    with ReferenceServer(token="secret", defects=("filter-miss-404",)) as srv:
        requests.get(f"{srv.base_url}/Users", headers={"Authorization": "Bearer secret"})

``scim-conformance serve`` and ``python -m scim_conformance.server`` run it in the foreground.

Layers, each in its own module:
- ``httpd``: threaded HTTP/1.1 (keep-alive, Content-Length always, quiet), body limits; ``ReferenceServer``.
- ``service``: routing, bearer auth, lists and paging, create/replace/patch/delete, discovery, errors.
- ``filters``: the filter and PATCH-path parser (recursive descent) and evaluator.
- ``patch``: PatchOp semantics, including what Entra ID sends that RFC 7644 does not describe.
- ``resources``: cleaning input against the schema (tolerant of Entra's habits) and projecting output.
- ``schemas``: User, Group, EnterpriseUser definitions; ServiceProviderConfig and ResourceTypes.
- ``store``: SQLite, one connection behind a lock, indexed lookup columns.
- ``defects``: ``DEFECTS`` (name → what goes wrong) and the ``Defects`` set a server runs with.
- ``quirks``: ``QUIRKS`` (name → a legal behaviour real servers show) and the ``Quirks`` set, the same way.

Choices where the RFC leaves room: unknown attributes are ignored on write; JSON null means absent;
"True"/"False" strings are stored as booleans; a ``roles`` value that is a JSON-encoded string is stored
as the string it is; a value-filtered PATCH path that matches nothing creates the element; a group member
must be an existing user or group (400 invalidValue otherwise); ``password`` is kept but never returned.
"""

from __future__ import annotations

from typing import Any

from .defects import DEFECTS, Defects
from .quirks import QUIRKS, Quirks

__all__ = ["DEFECTS", "QUIRKS", "Defects", "Quirks", "ReferenceServer"]


def __getattr__(name: str) -> Any:
    # The HTTP server, service and store are imported on first use: `scim-conformance run --scim-url ...`
    # reaches this package only for the `serve` command's arguments, and must not pay for the rest.
    if name == "ReferenceServer":
        from .httpd import ReferenceServer

        return ReferenceServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
