"""How every benchmark ends: its figures as a table (unless ``--json``), then one JSON line."""

from __future__ import annotations

import json
from collections.abc import Mapping


def report(result: Mapping[str, object], json_only: bool) -> None:
    if not json_only:
        width = max(map(len, result))
        for key, value in result.items():
            print(f"{key:>{width}}: {value}")
    print(json.dumps(result))
