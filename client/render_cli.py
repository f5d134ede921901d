"""``posejam render``: play a drum MIDI file through PoseJam's kit into a WAV file."""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pretty_midi

from client.audio_engine import SAMPLE_RATE, AudioDeviceError, OfflineEngine
from client.audio_types import Hit
from client.kit import Kit, KitError
from client.whole_file import write_whole
from models.data import midi_problem
from models.encoding import GM_LOOKUP
from shared.drums import MAX_VELOCITY, Drum

DESCRIPTION = """\
Render a drum MIDI file through PoseJam's drum kit and mix into a stereo 44.1 kHz 24-bit
WAV file. Drum tracks (MIDI channel 10) are read with the General MIDI drum pitches, as
the drum model's encoding maps them onto its nine drums; notes on other pitches and on
other instruments are skipped and counted. The file runs until the last hit has rung out.
"""

OWNER = 1  # one layer: the first player's channel, centred, the kit as built
MAX_SECONDS = 3600.0  # an hour of drums is a long file; anything longer is a broken one
MAX_BYTES = 16 * 1024 * 1024  # the Groove MIDI Dataset's largest file is ~100 KB
PROGRESS_FROM_SECONDS = 20.0  # shorter renders finish before a progress bar is worth it
BAR_WIDTH = 30


class RenderError(Exception):
    """A file cannot be rendered; the message says why."""


@dataclass(frozen=True, slots=True)
class DrumNotes:
    hits: list[Hit]
    unknown: Counter[int]  # drum notes on pitches the kit has no drum for, by pitch
    not_drums: int  # notes on instruments that are not drum tracks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("midi", type=Path, metavar="FILE.mid", help="the drum MIDI file")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE.wav", help="the WAV file to write"
    )
    parser.set_defaults(run=run)


def read_drums(path: Path) -> DrumNotes:
    """The drum hits of a MIDI file, on its own clock (seconds from its start)."""
    if not path.is_file():
        raise RenderError(f"no MIDI file at {path}")
    if path.stat().st_size > MAX_BYTES:
        raise RenderError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB: not a drum part")
    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido and pretty_midi raise many kinds on a broken file
        raise RenderError(
            f"cannot read {path}: not a MIDI file ({midi_problem(exc, path)})"
        ) from exc
    hits: list[Hit] = []
    unknown: Counter[int] = Counter()
    not_drums = 0
    for instrument in midi.instruments:
        if not instrument.is_drum:
            not_drums += len(instrument.notes)
            continue
        for note in instrument.notes:
            drum = GM_LOOKUP.get(note.pitch)
            if drum is None:
                unknown[note.pitch] += 1
                continue
            velocity = min(MAX_VELOCITY, max(1, note.velocity))
            hits.append(Hit(float(note.start), OWNER, drum, velocity))
    if not hits:
        found = sum(unknown.values())
        if found:
            raise RenderError(f"{path} has no notes on General MIDI drum pitches ({found} others)")
        if not_drums:
            raise RenderError(f"{path} has no drum track, only {not_drums} other notes")
        raise RenderError(f"{path} has no notes")
    hits.sort()
    return DrumNotes(hits, unknown, not_drums)


def render_length(hits: list[Hit], kit: Kit) -> float:
    """Seconds until the last hit has rung out."""
    lengths = {d: len(kit.voice(d, MAX_VELOCITY)) for d in {Drum(h.drum) for h in hits}}
    end = max(h.time + lengths[Drum(h.drum)] / kit.sample_rate for h in hits)
    return math.ceil(end * 100.0) / 100.0


class ProgressBar:
    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._shown = -1

    def __call__(self, done: float) -> None:
        percent = round(100.0 * done)
        if percent == self._shown:
            return
        self._shown = percent
        filled = round(BAR_WIDTH * done)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        end = "\n" if percent >= 100 else ""
        self._stream.write(f"\r{self._label} [{bar}] {percent:3d}%{end}")
        self._stream.flush()


def render_hits(
    hits: list[Hit],
    kit: Kit,
    start: float,
    seconds: float,
    out: Path,
    label: str,
    progress_stream: TextIO | None = None,
) -> str:
    """Render ``seconds`` of ``hits`` from ``start`` through ``kit`` into ``out``, whole
    or not at all (a progress bar on ``progress_stream`` for a long one); the line saying
    what was written. Raises OSError."""
    engine = OfflineEngine(SAMPLE_RATE, start=start, kit=kit)
    engine.schedule(hits)
    progress = None
    if progress_stream is not None and seconds >= PROGRESS_FROM_SECONDS:
        progress = ProgressBar(progress_stream, label)
    info = write_whole(out, lambda path: engine.render(path, seconds, progress))
    return (
        f"wrote {out}: {seconds:.2f} s, {info.hits} hits, "
        f"peak {info.peak_dbfs:.1f} dBFS, RMS {info.rms_dbfs:.1f} dBFS"
    )


def render(midi_path: Path, out: Path, progress_stream: TextIO | None = None) -> str:
    """Render ``midi_path`` into ``out``; a summary of what was done."""
    notes = read_drums(midi_path)
    kit = Kit.load(sample_rate=SAMPLE_RATE)
    seconds = render_length(notes.hits, kit)
    if seconds > MAX_SECONDS:
        raise RenderError(
            f"{midi_path} lasts {seconds / 60.0:.0f} minutes; renders stop at "
            f"{MAX_SECONDS / 60.0:.0f}"
        )
    try:
        wrote = render_hits(
            notes.hits, kit, 0.0, seconds, out, f"rendering {midi_path.name}", progress_stream
        )
    except OSError as exc:
        raise RenderError(f"cannot write {out}: {exc.strerror or exc}") from exc
    lines = [wrote]
    if notes.unknown:
        pitches = ", ".join(f"{p} (x{n})" for p, n in sorted(notes.unknown.items()))
        count = sum(notes.unknown.values())
        lines.append(f"skipped {count} drum notes on pitches the kit has no drum for: {pitches}")
    if notes.not_drums:
        lines.append(f"skipped {notes.not_drums} notes on instruments that are not drums")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        # A bar redrawn with carriage returns is for a terminal; in a log it is noise.
        summary = render(args.midi, args.out, sys.stderr if sys.stderr.isatty() else None)
    except RenderError as exc:
        sys.stderr.write(f"posejam render: {exc}\n")
        return 2
    except (KitError, AudioDeviceError) as exc:
        sys.stderr.write(f"posejam render: {exc}\n")
        return 1
    sys.stdout.write(summary + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m client.render_cli",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
