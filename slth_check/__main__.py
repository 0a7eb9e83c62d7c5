"""``python -m slth_check``: the ``slth-check`` command (same arguments, same exit codes)."""

from __future__ import annotations

import sys

from slth_check.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
