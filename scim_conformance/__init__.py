"""scim-conformance: conformance checks for SCIM 2.0 service providers, profile by profile.

PYTEST_DONT_REWRITE: the package judges with `expect`, not bare asserts, and `scim-conformance run` imports it
before pytest starts, so pytest could only warn that it is too late to rewrite it.
"""

__version__ = "0.1.0"
