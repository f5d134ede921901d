"""The Groove MIDI Dataset as step sequences: splits, counts, random crops.

Each file becomes a ``[T, 9]`` uint8 array of velocities at 16th-note steps,
starting at the file's first bar. Files not in 4/4 are skipped and counted.
The dataset is read from where it lies (``--data``), never copied.
"""

from __future__ import annotations

import contextlib
import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pretty_midi

from models.encoding import GM_LOOKUP, ROLAND_LOOKUP, midi_to_steps
from shared.drums import STEPS_PER_BAR, STEPS_PER_BEAT

logger = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "groove"
# The longest drum part a file may hold: over an hour at 120 bpm. The Groove MIDI
# Dataset's longest is a few minutes; a file claiming more is damaged, and its steps
# would take gigabytes.
MAX_BARS = 2048


class DataError(ValueError):
    """A data folder or MIDI file that cannot be used, with the reason."""


@dataclass
class Split:
    name: str
    sequences: list[np.ndarray] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return sum(len(s) for s in self.sequences)

    @property
    def bars(self) -> int:
        return sum(len(s) // STEPS_PER_BAR for s in self.sequences)

    def summary(self) -> dict[str, object]:
        return {
            "split": self.name,
            "files": len(self.sequences),
            "bars": self.bars,
            "steps": self.steps,
            "skipped": dict(self.skipped),
        }


def _skip(split: Split, why: str) -> None:
    split.skipped[why] = split.skipped.get(why, 0) + 1


def midi_problem(exc: BaseException, path: Path) -> str:
    """Why mido or pretty_midi could not read ``path``, in a few words on one line."""
    if isinstance(exc, EOFError):
        with contextlib.suppress(OSError):
            if path.stat().st_size == 0:
                return "the file is empty"
        return "the file ends too soon (truncated?)"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, ZeroDivisionError):
        return "its header gives a beat 0 ticks long"
    # The libraries' own words, on one line and not too long.
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def read_midi(path: Path) -> pretty_midi.PrettyMIDI:
    """A MIDI file, or :class:`DataError` saying in one line why it cannot be read."""
    try:
        return pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido and pretty_midi raise many types on bad files
        problem = f"{type(exc).__name__}: {midi_problem(exc, path)}"
        raise DataError(f"{path}: not a readable MIDI file ({problem})") from exc


def load_file(path: Path, roland: bool = True) -> np.ndarray:
    """One MIDI file as steps, or :class:`DataError` saying why it cannot be used."""
    midi = read_midi(path)
    signatures = {(ts.numerator, ts.denominator) for ts in midi.time_signature_changes}
    if signatures - {(4, 4)}:
        raise DataError(f"{path}: not in 4/4")
    # A few bytes can claim hours at a tiny resolution: refuse before making the steps.
    steps = midi.time_to_tick(midi.get_end_time()) * STEPS_PER_BEAT / midi.resolution
    if steps > MAX_BARS * STEPS_PER_BAR:
        raise DataError(
            f"{path}: lasts {steps / STEPS_PER_BAR:.0f} bars, more than {MAX_BARS} (damaged?)"
        )
    return midi_to_steps(midi, ROLAND_LOOKUP if roland else GM_LOOKUP)


def _listed(info: Path, split: str) -> list[tuple[str, str]]:
    """The (midi_filename, time_signature) rows of ``split`` in an info.csv, or
    :class:`DataError` when it is not one."""
    try:
        with info.open(newline="", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r.get("split") == split]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DataError(f"{info}: not a readable info.csv ({problem})") from exc
    if any(not r.get("midi_filename") for r in rows):
        raise DataError(f"{info}: a {split} row has no midi_filename")
    return [(r["midi_filename"], r.get("time_signature", "4-4")) for r in rows]


def load_split(data_dir: Path, split: str) -> Split:
    """Every file of ``split`` listed in ``info.csv``; or, without one, every .mid (GM pitches)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"no data folder at {data_dir}")
    out = Split(split)
    info = data_dir / "info.csv"
    if info.exists():
        entries = [(data_dir / name, signature) for name, signature in _listed(info, split)]
        roland = True
    else:
        entries = [(p, "4-4") for p in sorted(data_dir.rglob("*.mid"))]
        roland = False
    for path, signature in entries:
        if signature != "4-4":
            _skip(out, "not 4/4")
            continue
        try:
            steps = load_file(path, roland)
        except DataError as exc:
            logger.warning("%s", exc)
            _skip(out, "not 4/4" if str(exc).endswith("not in 4/4") else "unreadable")
            continue
        if not steps.any():
            _skip(out, "no drum hits")
            continue
        # Whole bars only: a last bar cut short is padded with silence.
        bars = -(-len(steps) // STEPS_PER_BAR)
        steps = np.pad(steps, ((0, bars * STEPS_PER_BAR - len(steps)), (0, 0)))
        out.sequences.append(steps)
        out.files.append(str(path))
    return out


def random_crops(
    sequences: list[np.ndarray], length: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` crops of ``length`` steps, each starting on a bar line: ``[count, length, 9]``.

    Sequences are drawn in proportion to their length; shorter ones are padded with
    silence at the end (a fill of 2 bars still teaches its bars).
    """
    lengths = np.array([len(s) for s in sequences], dtype=np.float64)
    picks = rng.choice(len(sequences), size=count, p=lengths / lengths.sum())
    out = np.zeros((count, length, sequences[0].shape[1]), dtype=np.uint8)
    for i, k in enumerate(picks):
        seq = sequences[k]
        bars = max(1, (len(seq) - length) // STEPS_PER_BAR + 1)
        start = int(rng.integers(bars)) * STEPS_PER_BAR
        piece = seq[start : start + length]
        out[i, : len(piece)] = piece
    return out
