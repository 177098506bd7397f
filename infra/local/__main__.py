"""`python -m infra.local invoke|serve`."""

from __future__ import annotations

import sys

from infra.local.cli import main

sys.exit(main())
