"""Run a benchmark as its users do, ``python -m bench.NAME``, and read its last line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def last_json(module: str, *args: str, timeout: float = 120) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", module, "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
