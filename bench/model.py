"""How fast does the drum model write layers? ``python -m bench.model --json``

Median time, on one thread, to write 2-bar (32-step) layers for 1, 8 and 32
players in one batched call, and for the same 8 players one call each, through
the server's own generator (primed by dice seeds, as a room's first layers are).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from models.cli import DEFAULT_WEIGHTS
from server.generator import GenerationRequest
from server.model_generator import ModelGenerator
from shared.messages import Seed, SeedSource


def requests(players: int) -> list[GenerationRequest]:
    return [
        GenerationRequest(
            p + 1, Seed(SeedSource.DICE, dice=p, density=0.5), None, (0.25, 0.3, 0.0, 0.6)
        )
        for p in range(players)
    ]


def median_ms(action, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model", description=__doc__)
    parser.add_argument(
        "--weights",
        type=Path,
        default=DEFAULT_WEIGHTS,
        help="model weights (default: the shipped ones)",
    )
    parser.add_argument(
        "--repeats", type=int, default=30, help="timed calls per figure (default: %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    generator = ModelGenerator(args.weights, threads=1)
    result: dict[str, float] = {}
    for players in (1, 8, 32):
        batch = requests(players)
        result[f"players_{players}_ms"] = median_ms(
            lambda b=batch: generator.generate(b), args.repeats
        )
    eight = requests(8)
    result["one_by_one_8_ms"] = median_ms(
        lambda: [generator.generate([r]) for r in eight], args.repeats
    )
    result["batched_speedup_8"] = round(result["one_by_one_8_ms"] / result["players_8_ms"], 2)
    if not args.json:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
