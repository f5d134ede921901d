"""Does the server hold up for a long jam? ``python -m bench.soak --minutes 10 --json``

Starts the real server in a process of its own (``python -m server --port 0
--journal none``, with the drum model when its weights are there) and 8 bots
(``client.bot``: each streams a dancing pose at 30 Hz and rolls a seed every 4-8 s,
so the room writes layers all along) for ``--minutes``. Every few seconds it reads
the server's resident memory (``/proc/PID/status``: its process and its drum
model's); the slope is fitted by least squares to the samples after the warm-up
(the first fifth of the run, at most a minute), where imports, the first layers
and the sockets' buffers have settled.
Errors are every ERROR, CRITICAL or traceback line in the server's log, every bot
that failed to join or was disconnected (closed by anyone but itself) and a server
that does not exit cleanly when stopped. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from bench.load import ServerProcess, family_rss_mb
from bench.report import report
from client.bot import BotReport, run_bot
from shared.messages import CloseCode, Role

BOTS = 8
ROOM = "SOAK"
SAMPLE_EVERY = 5.0  # seconds; a short run samples more often, to have a slope to fit
WARMUP_SHARE = 0.2
MAX_WARMUP = 60.0
# How a bot's own leave ends: it says leave (the server closes with LEFT) and closes.
CLEAN_CLOSES = {None, CloseCode.NORMAL, CloseCode.LEFT}


def slope_per_minute(samples: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of ``(seconds, MB)`` samples, in MB a minute."""
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return None
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread


def bot_error(outcome: BotReport | BaseException) -> str | None:
    """Why a bot's run counts as an error, or None."""
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {outcome}"
    if outcome.close_code not in CLEAN_CLOSES:
        return f"{outcome.name} was closed with {outcome.close_code}"
    return None


async def jam(
    url: str, pid: int, seconds: float, interval: float
) -> tuple[list[BotReport | BaseException], list[tuple[float, float]]]:
    """The bots for ``seconds``, and the server's RSS every ``interval`` meanwhile."""
    start = time.monotonic()
    samples: list[tuple[float, float]] = []

    async def sample() -> None:
        while True:
            samples.append((time.monotonic() - start, family_rss_mb(pid)))
            await asyncio.sleep(interval)

    sampler = asyncio.create_task(sample())
    try:
        outcomes = await asyncio.gather(
            *(
                run_bot(url, ROOM, f"soak {i + 1}", Role.PLAYER, seconds, seed=i)
                for i in range(BOTS)
            ),
            return_exceptions=True,
        )
    finally:
        sampler.cancel()
    samples.append((time.monotonic() - start, family_rss_mb(pid)))
    return list(outcomes), samples


def soak(minutes: float, interval: float | None = None) -> dict[str, Any]:
    seconds = minutes * 60
    interval = interval or min(SAMPLE_EVERY, seconds / 20)
    warmup = min(MAX_WARMUP, WARMUP_SHARE * seconds)
    command = [sys.executable, "-m", "server", "--port", "0", "--journal", "none", "--room", ROOM]
    with ServerProcess(command) as server:
        outcomes, samples = asyncio.run(jam(server.url, server.pid, seconds, interval))
        server.stop()
    problems = [e for e in map(bot_error, outcomes) if e is not None]
    problems += server.errors
    if server.returncode != 0:
        problems.append(f"the server exited with {server.returncode}")
    settled = [(t, v) for t, v in samples if t >= warmup]
    slope = slope_per_minute(settled)
    return {
        "minutes": minutes,
        "bots": BOTS,
        "rss_start_mb": round(settled[0][1], 1),
        "rss_end_mb": round(settled[-1][1], 1),
        "rss_slope_mb_per_min": round(slope, 3) if slope is not None else None,
        "errors": len(problems),
        "rss_peak_mb": round(max(v for _, v in samples), 1),
        "samples": len(settled),
        "warmup_s": round(warmup, 1),
        "poses_sent": sum(o.poses_sent for o in outcomes if isinstance(o, BotReport)),
        "first_errors": problems[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="how long the bots play (default: %(default)s)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help=f"seconds between memory samples (default: {SAMPLE_EVERY:g}, or a 20th of a "
        "shorter run)",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    if args.minutes <= 0:
        parser.error("--minutes must be more than 0")
    try:
        result = soak(args.minutes, args.interval)
    except KeyboardInterrupt:
        return 130
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
