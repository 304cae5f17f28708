"""``python -m streamkit.pricing``: the cost estimate from the command line (see :mod:`.cli`)."""

import sys

from .cli import main

sys.exit(main())
