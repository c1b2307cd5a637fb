"""`python -m acd.cli`: the same as the `acd` console script."""

import sys

from acd.cli.main import main

sys.exit(main())
