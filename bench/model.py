"""How fast does the drum model write layers? ``python -m bench.model --json``

Median time, on one thread, to write 2-bar (32-step) layers for 1, 8 and 32
players in one batched call, and for the same 8 players one call each, through
the server's own generator (primed by dice seeds, as a room's first layers are).
The four are timed in turn, round after round, so a busy spell of the machine
touches them all alike. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.report import report
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


def median_ms(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median milliseconds of each action, timed in turn round after round: on a shared,
    noisy machine every figure then sees the same conditions, and so does their ratio."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: round(statistics.median(t), 3) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model", description=__doc__)
    parser.add_argument(
        "--weights",
        type=Path,
        default=DEFAULT_WEIGHTS,
        help="model weights (default: the shipped ones)",
    )
    parser.add_argument(
        "--repeats", type=int, default=60, help="timed calls per figure (default: %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    generator = ModelGenerator(args.weights, threads=1)
    actions: dict[str, Callable[[], object]] = {
        f"players_{players}_ms": partial(generator.generate, requests(players))
        for players in (1, 8, 32)
    }
    eight = requests(8)
    actions["one_by_one_8_ms"] = lambda: [generator.generate([r]) for r in eight]
    result: dict[str, float] = median_ms(actions, args.repeats)
    result["batched_speedup_8"] = round(result["one_by_one_8_ms"] / result["players_8_ms"], 2)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
