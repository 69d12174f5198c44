"""Where the checks, profiles and schemas live: inside an installed wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

import yaml

# The data files (requirements, profiles) are read with libyaml's loader where PyYAML has it: the same
# safe subset, parsed ten times faster (the pure-Python parser was a quarter of a run's start-up).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PACKAGE = Path(__file__).resolve().parent
_INSTALLED = _PACKAGE / "_data"
_CHECKOUT = _PACKAGE.parent


def _root() -> Path:
    # A wheel carries the data under the package; an editable install or a checkout finds it beside it.
    return _INSTALLED if (_INSTALLED / "profiles").is_dir() else _CHECKOUT


def checks_dir() -> Path:
    return _root() / "conformance"


def profiles_dir() -> Path:
    return _root() / "profiles"


def fixtures_dir() -> Path:
    return _root() / "fixtures"


def schemas_dir() -> Path:
    return fixtures_dir() / "schemas"
