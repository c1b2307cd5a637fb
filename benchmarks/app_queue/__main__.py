"""`python -m benchmarks.app_queue`: the command line of :mod:`benchmarks.app_queue.cli`."""

import sys

from benchmarks.app_queue.cli import main

sys.exit(main())
