"""How soon does the game make a sound? ``python -m bench.startup --json``

Launches ``posejam solo --headless`` (a fresh Python process, as a player's click
would) and times how long it takes from the launch to the first drum hits handed to
the audio engine (the solo session logs that moment), ``--runs`` times. On the way:
Python and its libraries start, the drum model loads and warms, the in-process
server opens, the AI band and the player join, the first layers are written, and
the first bar begins. The last line printed is one JSON object,
``{"first_sound_s": median, "runs": [...]}``; the target is 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

from bench.report import report

MARKER = "first sound scheduled"


def launch_to_first_sound(timeout: float) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "client", "solo", "--headless", "--bars", "1", "--out", out],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                if MARKER in line:
                    return time.monotonic() - started
                if time.monotonic() - started > timeout:
                    break
            raise RuntimeError(f"no {MARKER!r} line from posejam solo in {timeout} s")
        finally:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="launches (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    runs = [round(launch_to_first_sound(60.0), 3) for _ in range(max(1, args.runs))]
    report({"first_sound_s": round(statistics.median(runs), 3), "runs": runs}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
