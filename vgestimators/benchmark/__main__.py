"""``python -m vgestimators.benchmark``: see :func:`vgestimators.benchmark.main`."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
