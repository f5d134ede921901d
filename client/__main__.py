"""``python -m client``: the same as ``posejam``."""

import sys

from client.cli import main

sys.exit(main())
