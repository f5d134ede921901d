"""``posejam audio``: the sound devices, the latency PoseJam will play with, and a test beat."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

from client.audio_engine import (
    BUFFER_SIZE,
    SAMPLE_RATE,
    AudioDeviceError,
    RealtimeEngine,
    _pyo,
    output_latency,
)
from client.audio_types import Hit
from client.quiet import native_stderr_hidden
from shared.drums import Drum

logger = logging.getLogger(__name__)

DESCRIPTION = """\
List the sound output devices portaudio finds, with the output latency PoseJam would
schedule with on each (the latency the device reports, or two blocks of --buffer-size
when it reports none) plus your calibration --offset. With --play, play a bar of kick,
snare and hats on the device, so you can hear that it works.
"""


@dataclass(frozen=True, slots=True)
class Device:
    index: int
    name: str
    reported_latency: float | None  # seconds, as portaudio reports it
    default: bool


def devices(pyo: Any) -> list[Device]:
    """The output devices; empty when there are none (checked first: pyo crashes otherwise)."""
    with native_stderr_hidden(logger):  # ALSA lists every card it cannot find
        if pyo.pa_count_devices() == 0:
            return []
        names, indexes = pyo.pa_get_output_devices()
        infos = pyo.pa_get_devices_infos()[1]
        default = int(pyo.pa_get_default_output())
    found = []
    for name, index in zip(names, indexes, strict=True):
        latency = infos.get(index, {}).get("latency")
        reported = float(latency) if isinstance(latency, int | float) else None
        found.append(Device(int(index), str(name), reported, int(index) == default))
    return found


def describe(found: list[Device], buffer_size: int, sample_rate: int, offset: float) -> str:
    """What a player reads: each device and the latency hits would be scheduled with."""
    if not found:
        return (
            "no sound device: portaudio finds none. PoseJam plays silently here "
            "(the game still runs) and can render to a file: posejam render"
        )
    lines = [f"output devices (buffer {buffer_size} samples at {sample_rate} Hz):"]
    for d in found:
        latency = output_latency(d.reported_latency, buffer_size, sample_rate) + offset
        source = "reported" if d.reported_latency is not None else "two blocks"
        mark = " (default)" if d.default else ""
        lines.append(
            f"  {d.index}: {d.name}{mark}: output latency {latency * 1000:.1f} ms "
            f"({source}{f', offset {offset * 1000:+.1f} ms' if offset else ''})"
        )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", type=int, default=None, help="output device index (default: the default)"
    )
    parser.add_argument(
        "--buffer-size",
        type=int,
        default=BUFFER_SIZE,
        help="samples per block: larger is safer, smaller is quicker (default: %(default)s)",
    )
    parser.add_argument(
        "--offset",
        type=float,
        default=0.0,
        metavar="MS",
        help="calibration: milliseconds added to the output latency (default: %(default)s)",
    )
    parser.add_argument("--play", action="store_true", help="play a test bar on the device")
    parser.set_defaults(run=run)


def sound_check_bar(start: float) -> list[Hit]:
    """A bar at 120 bpm: kick on 1 and 3, snare on 2 and 4, hats on the eighths."""
    hits = []
    for step in range(16):
        at = start + step * 0.125
        if step % 2 == 0:
            hits.append(Hit(at, 1, Drum.CLOSED_HAT, 80))
        if step in (0, 8):
            hits.append(Hit(at, 1, Drum.KICK, 110))
        if step in (4, 12):
            hits.append(Hit(at, 1, Drum.SNARE, 100))
    return hits


def run(args: argparse.Namespace) -> int:
    if args.buffer_size < 16 or args.buffer_size & (args.buffer_size - 1):
        print("posejam audio: --buffer-size must be a power of two from 16", file=sys.stderr)
        return 2
    found = devices(_pyo())
    print(describe(found, args.buffer_size, SAMPLE_RATE, args.offset / 1000))
    if not args.play:
        return 0
    try:
        engine = RealtimeEngine(args.device, args.buffer_size)
    except AudioDeviceError as exc:
        print(f"posejam audio: {exc}", file=sys.stderr)
        return 1
    engine.offset = args.offset / 1000
    try:
        engine.schedule(sound_check_bar(engine.now() + 0.3))
        time.sleep(2.8)
    finally:
        engine.close()
    return 0
