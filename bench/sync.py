"""How well do clients agree with the server's clock? ``python -m bench.sync --json``

Starts the real server in its own process and 8 clients in this one, each with
a simulated local clock (a random offset up to +-10 s and drift up to +-100 ppm,
injected through the clock each client is given). 8 more clients with their own
clocks talk to the same server at the same time through a relay that delays
every chunk by 20 ms +- 5 ms, uniformly, in each direction. After a warm-up, 100
times a second, each client's estimate of server time is compared with the
truth (the server's clock is this machine's CLOCK_MONOTONIC, the same in both
processes) for ``--seconds``. Each group runs in its own process, so that one
group's work never delays the other's pongs. The last line printed is one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from bench.relay import DelayRelay, uniform_delay
from client.net import NetClient
from shared.messages import Hello, Role

CLIENTS = 8
SAMPLE_INTERVAL = 0.01


@dataclass(frozen=True, slots=True)
class SimulatedClock:
    """A local clock: ``offset + (1 + drift) * true time``."""

    offset: float
    drift: float

    def at(self, true_time: float) -> float:
        return self.offset + (1.0 + self.drift) * true_time

    def true_time(self, local: float) -> float:
        """The inverse of :meth:`at`: what the true clock read when this one read ``local``."""
        return (local - self.offset) / (1.0 + self.drift)

    def __call__(self) -> float:
        return self.at(time.monotonic())


def summary(errors_ms: list[float]) -> dict[str, float | int]:
    ordered = sorted(abs(e) for e in errors_ms)
    if not ordered:
        return {
            "p50_ms": float("nan"),
            "p99_ms": float("nan"),
            "max_ms": float("nan"),
            "samples": 0,
        }
    return {
        "p50_ms": round(statistics.median(ordered), 4),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 4),
        "max_ms": round(ordered[-1], 4),
        "samples": len(ordered),
    }


def start_server() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", "0", "--room", "SYNC", "--journal", "none"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"listening on ws://127\.0\.0\.1:(\d+)", line)
        if found:
            return proc, int(found.group(1))
    raise RuntimeError("the server did not start")


async def measure_group(
    name: str, port: int, seconds: float, warmup: float, seed: int
) -> tuple[list[float], float]:
    """One group of clients, in its own process: their errors (ms) and median uncertainty."""
    rng = random.Random(f"{seed}-{name}")
    relay = None
    if name == "jitter":
        relay = DelayRelay("127.0.0.1", port, uniform_delay(0.020, 0.005, rng))
        port = await relay.start()
    members: list[tuple[NetClient, SimulatedClock]] = []
    try:
        for i in range(CLIENTS):
            clock = SimulatedClock(rng.uniform(-10, 10), rng.uniform(-100e-6, 100e-6))
            hello = Hello(f"{name} {i}", Role.SPECTATOR)
            client = NetClient(f"ws://127.0.0.1:{port}", hello, clock=clock)
            await client.connect()
            members.append((client, clock))
        await asyncio.sleep(warmup)
        errors: list[float] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for client, clock in members:
                truth = time.monotonic()
                errors.append((client.sync.server_time(clock.at(truth)) - truth) * 1000.0)
            await asyncio.sleep(SAMPLE_INTERVAL)
        uncertainty = statistics.median(c.sync.uncertainty() * 1000 for c, _ in members)
    finally:
        for client, _ in members:
            await client.close()
        if relay:
            await relay.stop()
    return errors, uncertainty


def _run_group(
    name: str, port: int, seconds: float, warmup: float, seed: int
) -> tuple[list[float], float]:
    return asyncio.run(measure_group(name, port, seconds, warmup, seed))


def measure(seconds: float, warmup: float, seed: int) -> dict[str, object]:
    """Both groups at once, each in its own process so neither's work delays the other's pongs."""
    proc, port = start_server()
    try:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {
                name: pool.submit(_run_group, name, port, seconds, warmup, seed)
                for name in ("jitter", "clean")
            }
            results = {name: f.result() for name, f in futures.items()}
    finally:
        proc.terminate()
        proc.wait()
    out: dict[str, object] = {}
    for name, (errors, uncertainty) in results.items():
        out[name] = {**summary(errors), "reported_uncertainty_ms": round(uncertainty, 4)}
    return {**out, "clients": CLIENTS, "seconds": seconds, "warmup_s": warmup}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measuring time (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=60.0,
        help="sync time before measuring (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="random seed for clocks and delays (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    result = measure(args.seconds, args.warmup, args.seed)
    if not args.json:
        for name in ("clean", "jitter"):
            r = result[name]
            assert isinstance(r, dict)
            print(f"{name:>6}: p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  max {r['max_ms']} ms")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
