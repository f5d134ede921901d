"""The Groove MIDI Dataset as step sequences: splits, counts, random crops.

Each file becomes a ``[T, 9]`` uint8 array of velocities at 16th-note steps,
starting at the file's first bar. Files not in 4/4 are skipped and counted.
The dataset is read from where it lies (``--data``), never copied.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pretty_midi

from models.encoding import GM_LOOKUP, ROLAND_LOOKUP, midi_to_steps
from shared.drums import STEPS_PER_BAR

logger = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "groove"


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


def load_file(path: Path, roland: bool = True) -> np.ndarray:
    """One MIDI file as steps, or :class:`DataError` saying why it cannot be used."""
    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido and pretty_midi raise many types on bad files
        raise DataError(f"{path}: not a readable MIDI file ({type(exc).__name__}: {exc})") from exc
    signatures = {(ts.numerator, ts.denominator) for ts in midi.time_signature_changes}
    if signatures - {(4, 4)}:
        raise DataError(f"{path}: not in 4/4")
    return midi_to_steps(midi, ROLAND_LOOKUP if roland else GM_LOOKUP)


def load_split(data_dir: Path, split: str) -> Split:
    """Every file of ``split`` listed in ``info.csv``; or, without one, every .mid (GM pitches)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"no data folder at {data_dir}")
    out = Split(split)
    info = data_dir / "info.csv"
    if info.exists():
        with info.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("split") == split]
        entries = [(data_dir / r["midi_filename"], r.get("time_signature", "4-4")) for r in rows]
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
