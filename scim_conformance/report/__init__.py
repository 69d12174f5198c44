"""Views of a run's result document: HTML (pytest-html), JUnit properties, terminal."""

from __future__ import annotations

import pytest


def register(config: pytest.Config) -> None:
    """Hook the report views into a conformance run (called from the plugin's pytest_configure)."""
