"""The reference SCIM 2.0 server: a correct, tolerant target for the checks, with defect switches."""

from .defects import DEFECTS, Defects
from .httpd import ReferenceServer

__all__ = ["DEFECTS", "Defects", "ReferenceServer"]
