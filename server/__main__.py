"""``python -m server``: the same as ``posejam server``."""

import sys

from server.main import main

sys.exit(main())
