"""``python -m models``: the same as ``posejam model``."""

import sys

from models.cli import main

sys.exit(main())
