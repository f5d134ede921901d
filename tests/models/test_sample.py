"""Writing layers: valid patterns, asked controls honoured in shape, batches = one by one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.model import DrumLSTM, ModelConfig
from models.sample import LayerRequest, generate
from server.generator import pattern_from_dice
from shared.drums import DRUM_COUNT, LAYER_STEPS


@pytest.fixture(scope="module")
def model() -> DrumLSTM:
    torch.manual_seed(0)
    m = DrumLSTM(ModelConfig(hidden=32, layers=2, embed=8))
    m.eval()
    return m


def dice(n: int) -> np.ndarray:
    return np.array(pattern_from_dice(n, 0.5), dtype=np.uint8)


def test_written_layers_are_valid_velocity_patterns(model: DrumLSTM) -> None:
    requests = [
        LayerRequest(dice(1), (0.2, 0.3, 0.0, 0.6), 1.0, seed=1),
        LayerRequest(dice(2), None, 0.5, seed=2),
    ]
    for written in generate(model, requests):
        assert written.shape == (LAYER_STEPS, DRUM_COUNT)
        assert written.dtype == np.uint8
        assert written.max() <= 127
        # A struck drum has a velocity of at least 1: silence is only ever 0.
        assert set(np.unique(written)) <= set(range(128))


def test_a_batch_writes_exactly_what_each_request_writes_alone(model: DrumLSTM) -> None:
    requests = [
        LayerRequest(dice(i), (0.1 * i, 0.2, 0.0, 0.5), 0.8 + 0.1 * i, seed=100 + i)
        for i in range(6)
    ]
    together = generate(model, requests)
    alone = [generate(model, [r])[0] for r in requests]
    for a, b in zip(together, alone, strict=True):
        assert np.array_equal(a, b)


def test_the_same_seed_writes_the_same_layer_and_another_seed_another(model: DrumLSTM) -> None:
    request = LayerRequest(dice(3), None, 1.5, seed=7)
    first, again = generate(model, [request])[0], generate(model, [request])[0]
    other = generate(model, [LayerRequest(dice(3), None, 1.5, seed=8)])[0]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_mixed_primer_lengths_come_back_in_request_order(model: DrumLSTM) -> None:
    none = np.zeros((0, DRUM_COUNT), dtype=np.uint8)
    requests = [
        LayerRequest(dice(1), None, 1.0, seed=1),
        LayerRequest(none, None, 1.0, seed=2),
        LayerRequest(dice(1)[:16], None, 1.0, seed=3),
    ]
    together = generate(model, requests)
    for request, written in zip(requests, together, strict=True):
        assert np.array_equal(written, generate(model, [request])[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"primer": np.zeros((10, DRUM_COUNT), np.uint8)}, "a primer is whole bars, got 10 steps"),
        ({"primer": np.zeros((16, 8), np.uint8)}, "a primer is [steps, 9], got (16, 8)"),
        ({"controls": (0.1, 0.2)}, "controls are 4 numbers, got 2"),
        ({"temperature": 0.0}, "temperature must be in range 0.05..3.0, got 0.0"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"primer": dice(1), "controls": None, "temperature": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError) as refused:
        LayerRequest(**args)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_the_fast_stepping_path_computes_what_the_model_computes(model: DrumLSTM) -> None:
    from models.model import START
    from models.sample import _tables

    rng = np.random.default_rng(0)
    classes = torch.from_numpy(rng.integers(0, 512, (3, 20)))
    previous = torch.cat([torch.full((3, 1), START), classes[:, :-1]], dim=1)
    positions = (torch.arange(20) % 16).expand(3, 20)
    controls = torch.from_numpy(rng.random((3, 6)).astype(np.float32))
    with torch.no_grad():
        logits, _, _ = model(previous, positions, controls[:, None, :].expand(3, 20, 6))
        tables = _tables(model)
        zeros = torch.zeros(3, model.config.hidden)
        hs, cs = [zeros] * model.config.layers, [zeros] * model.config.layers
        control = controls @ tables.control_w
        head_b = tables.head_b + controls @ tables.head_control_w
        for t in range(20):
            top = tables.advance(previous[:, t], t % 16, control, hs, cs)
            stepped = torch.addmm(head_b, top, tables.head_w)
            assert torch.allclose(stepped, logits[:, t], atol=1e-5)
