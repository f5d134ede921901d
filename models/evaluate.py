"""``posejam model eval``: how well the drum model predicts and obeys, on any drum MIDI folder.

The figures (the last line of ``--json`` output is one JSON object):

- ``bits_per_step`` and ``accuracy`` of the model on every step, each bar conditioned
  on the controls of the bar before it (none for the first), so that no bar informs
  its own conditioning;
- ``ngram_bits_per_step`` of the bar-aware back-off n-gram fitted on the training split;
- ``density_spearman`` / ``syncopation_spearman``: rank correlation between the
  controls asked for and those of the 2-bar layers written, over ``settings`` asks
  (each the controls of a random real bar, written after two unrelated real bars),
  written as the game writes them (asked syncopation steered at ``steer``; 0 for the
  LSTM alone);
- ``density_overlap`` / ``syncopation_overlap``: overlapping area (MGEval) of the
  distributions of those written bars and the folder's real bars.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.controls import CONTROL_NAMES, STEER, sequence_controls
from models.data import Split, load_split
from models.metrics import overlap_area, spearman
from models.model import DrumLSTM
from models.ngram import NGram
from models.sample import LayerRequest, generate
from models.train import evaluate as model_bits
from shared.drums import STEPS_PER_BAR

DENSITY = CONTROL_NAMES.index("density")
SYNCOPATION = CONTROL_NAMES.index("syncopation")


def eval_split(data: Path) -> Split:
    """The folder's test data: its ``test`` split if it has one, else every file in it."""
    split = load_split(data, "test")
    if not split.sequences and (data / "info.csv").exists():
        # A GMD-style folder without a test split (as in development): its validation.
        split = load_split(data, "validation")
    return split


def controllability(
    model: DrumLSTM,
    split: Split,
    settings: int,
    seed: int,
    temperature: float = 1.0,
    steer: float = STEER,
) -> dict[str, float]:
    """Ask for random real-bar controls after an unrelated real primer; compare what comes.

    The asks and the primers are drawn apart, as in play, where a body asks for a
    groove whatever the layer before it was: following the primer is no help.
    """
    rng = np.random.default_rng(seed)
    bars = [(i, b) for i, s in enumerate(split.sequences) for b in range(len(s) // STEPS_PER_BAR)]
    pairs = [(i, b) for i, b in bars if b >= 2]  # two whole bars before: a primer
    if not pairs:
        raise ValueError("controllability needs sequences of at least 3 bars")
    asks = rng.choice(len(bars), size=settings)
    primers = rng.choice(len(pairs), size=settings)
    requests = []
    asked = []
    for n, (k, p) in enumerate(zip(asks, primers, strict=True)):
        i, bar = bars[k]
        wanted = sequence_controls(
            split.sequences[i][bar * STEPS_PER_BAR : (bar + 1) * STEPS_PER_BAR]
        )[0]
        j, end = pairs[p]
        primer = split.sequences[j][(end - 2) * STEPS_PER_BAR : end * STEPS_PER_BAR]
        requests.append(
            LayerRequest(primer, tuple(float(v) for v in wanted), temperature, seed + n, steer)
        )
        asked.append(wanted)
    written = generate(model, requests)
    realized_bars = np.concatenate([sequence_controls(w) for w in written])
    realized = realized_bars.reshape(len(written), -1, len(CONTROL_NAMES)).mean(axis=1)
    real_bars = np.concatenate([sequence_controls(s) for s in split.sequences])
    asked_a = np.array(asked)
    return {
        "density_spearman": spearman(asked_a[:, DENSITY], realized[:, DENSITY]),
        "syncopation_spearman": spearman(asked_a[:, SYNCOPATION], realized[:, SYNCOPATION]),
        "density_overlap": overlap_area(realized_bars[:, DENSITY], real_bars[:, DENSITY]),
        "syncopation_overlap": overlap_area(
            realized_bars[:, SYNCOPATION], real_bars[:, SYNCOPATION]
        ),
    }


def run_eval(
    model: DrumLSTM,
    data: Path,
    train_data: Path,
    settings: int = 256,
    seed: int = 0,
    steer: float = STEER,
) -> dict[str, Any]:
    split = eval_split(data)
    if not split.sequences:
        raise ValueError(f"{data}: no usable drum MIDI files")
    torch.set_num_threads(2)
    train = load_split(train_data, "train")
    ngram = NGram().fit(train.sequences)
    scores = model_bits(model, split)
    return {
        "files": len(split.sequences),
        "steps": scores["steps"],
        "bits_per_step": round(scores["bits_per_step"], 4),
        "ngram_bits_per_step": round(ngram.bits_per_step(split.sequences), 4),
        "accuracy": round(scores["accuracy"], 4),
        # A constant sample has no rank correlation: null, not NaN, in JSON.
        **{
            k: round(v, 4) if math.isfinite(v) else None
            for k, v in controllability(model, split, settings, seed, steer=steer).items()
        },
        "settings": settings,
        "steer": steer,
    }
