"""The committed weights: they load weights-only, carry their provenance, and obey."""

from __future__ import annotations

import numpy as np
import pytest

from models.cli import DEFAULT_WEIGHTS
from models.controls import sequence_controls
from models.model import DrumLSTM
from models.sample import LayerRequest, generate
from models.train import load_weights
from server.generator import pattern_from_dice
from shared.drums import DRUM_COUNT, LAYER_STEPS


@pytest.fixture(scope="module")
def shipped() -> tuple[DrumLSTM, dict[str, object]]:
    return load_weights(DEFAULT_WEIGHTS)


def test_the_weights_are_small_and_say_where_they_come_from(
    shipped: tuple[DrumLSTM, dict[str, object]],
) -> None:
    _, meta = shipped
    assert DEFAULT_WEIGHTS.stat().st_size < 20 * 1024 * 1024
    assert "Groove MIDI Dataset" in str(meta["dataset"])
    assert "CC BY 4.0" in str(meta["dataset"])
    assert float(meta["valid_bits_per_step"]) < 2.2  # type: ignore[arg-type]


def test_the_model_writes_valid_layers_that_follow_the_asked_density(
    shipped: tuple[DrumLSTM, dict[str, object]],
) -> None:
    model, _ = shipped
    primers = [np.array(pattern_from_dice(n, 0.5), dtype=np.uint8) for n in range(8)]
    sparse = [LayerRequest(p, (0.08, 0.1, 0.0, 0.6), 1.0, seed=n) for n, p in enumerate(primers)]
    dense = [LayerRequest(p, (0.45, 0.1, 0.0, 0.6), 1.0, seed=n) for n, p in enumerate(primers)]
    written_sparse, written_dense = generate(model, sparse), generate(model, dense)
    for layer in written_sparse + written_dense:
        assert layer.shape == (LAYER_STEPS, DRUM_COUNT)
        assert layer.max() <= 127
    density = [sequence_controls(w)[:, 0].mean() for w in (*written_sparse, *written_dense)]
    # Asked for about 5 hits a bar or about 29: every dense layer beats every sparse one.
    assert max(density[:8]) < min(density[8:])


def test_the_model_writes_layers_that_follow_the_asked_syncopation(
    shipped: tuple[DrumLSTM, dict[str, object]],
) -> None:
    model, _ = shipped
    primers = [np.array(pattern_from_dice(n, 0.5), dtype=np.uint8) for n in range(8)]

    def syncopation(asked: float) -> list[float]:
        requests = [
            LayerRequest(p, (0.3, asked, 0.0, 0.6), 1.0, seed=n) for n, p in enumerate(primers)
        ]
        return [float(sequence_controls(w)[:, 1].mean()) for w in generate(model, requests)]

    # Asked for straight time (0.05) or for a lot of it (0.45), at the game's steer:
    # every syncopated layer is more syncopated than every straight one.
    assert max(syncopation(0.05)) < min(syncopation(0.45))
