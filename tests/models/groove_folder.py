"""A tiny Groove-MIDI-style folder made on the spot, for tests that train or evaluate."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from models.encoding import steps_to_midi

ROCK = {0: (0,), 4: (1,), 8: (0,), 10: (0,), 12: (1,)}  # kick and snare by step
HEADER = [
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "midi_filename", "audio_filename", "duration", "split",
]  # fmt: skip


def rock_bars(bars: int, rng: np.random.Generator) -> np.ndarray:
    steps = np.zeros((bars * 16, 9), dtype=np.uint8)
    for bar in range(bars):
        for step in range(16):
            t = bar * 16 + step
            for drum in ROCK.get(step, ()):
                steps[t, drum] = rng.integers(90, 120)
            if step % 2 == 0:
                steps[t, 2] = rng.integers(60, 90)  # closed hat on the eighths
    return steps


def make_groove_folder(root: Path, train: int = 4, validation: int = 2, bars: int = 8) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for split, count in (("train", train), ("validation", validation)):
        for i in range(count):
            name = f"drummer1/session1/{split}{i}_rock_120_beat_4-4.mid"
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            steps_to_midi(rock_bars(bars, rng), 120.0).write(str(root / name))
            rows.append(["drummer1", "drummer1/session1", f"{split}{i}", "rock", "120", "beat",
                         "4-4", name, "", "16.0", split])  # fmt: skip
    with (root / "info.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return root
