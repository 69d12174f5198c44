"""``python -m scim_conformance.server``: the same as ``scim-conformance serve``."""

import sys

from .cli import main

sys.exit(main())
