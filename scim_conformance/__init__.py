"""scim-conformance: conformance checks for SCIM 2.0 service providers, profile by profile."""

__version__ = "0.1.0"
