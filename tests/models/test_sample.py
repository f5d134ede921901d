"""Writing layers: valid patterns, asked controls honoured in shape, batches = one by one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.encoding import class_masks
from models.inputs import bar_controls, conditions, control_inputs, model_inputs
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
        ({"steer": -1.0}, "steer must be in range 0..20.0, got -1.0"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"primer": dice(1), "controls": None, "temperature": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError) as refused:
        LayerRequest(**args)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_the_written_steps_are_drawn_from_what_the_model_computes(model: DrumLSTM) -> None:
    """The numpy writer's logits equal model.forward over the primer and the written steps,
    fed as the writer feeds them: primer bars on their own controls, written bars on the ask."""
    requests = [
        LayerRequest(dice(i), (0.1 * i, 0.2, 0.3 - 0.2 * i, 0.5), 0.9 + 0.1 * i, seed=i)
        for i in range(4)
    ]
    seen: list[np.ndarray] = []
    written = generate(model, requests, logits=seen)
    assert len(seen) == LAYER_STEPS
    whole = np.stack(
        [np.concatenate([r.primer, w]) for r, w in zip(requests, written, strict=True)]
    )
    previous, lookback, positions, _ = model_inputs(whole)
    per_bar = bar_controls(whole)
    own = np.ones(per_bar.shape[:2], dtype=bool)
    controls = control_inputs(per_bar, own, own)
    controls[:, LAYER_STEPS:] = np.array([[*r.controls, 1.0, 1.0] for r in requests])[:, None]  # type: ignore[misc]
    with torch.no_grad():
        logits, _, _ = model(
            previous, lookback, positions, torch.from_numpy(conditions(whole, controls))
        )
    assert np.allclose(np.stack(seen, axis=1), logits[:, LAYER_STEPS:].numpy(), atol=1e-5)


def test_the_bar_context_kept_while_writing_equals_that_of_the_finished_steps() -> None:
    from models.sample import _BarContext

    rng = np.random.default_rng(5)
    classes = rng.integers(0, 512, (7, 32))
    # Four rows ask for controls, three do not: the steering is zero for those.
    asked = np.zeros((7, 6), dtype=np.float32)
    asked[:4] = np.array([[0.3, 0.1 * k, 0.2, 0.6, 1.0, 1.0] for k in range(4)], np.float32)
    context = _BarContext(7, asked)
    steps = class_masks()[classes].astype(np.uint8)
    expected = conditions(steps, np.repeat(asked[:, None], 32, axis=1))[..., 6:]  # [7, 32, 19]
    for step in range(32):
        if step == 16:
            context.next_bar()
        assert np.array_equal(context.features(step % 16), expected[:, step])
        context.play(classes[:, step], step % 16)
    assert (expected[4:, :, 13:] == 0.0).all() and (expected[1:4, :, 13:] != 0.0).any()


def test_steering_shifts_each_drum_set_by_the_syncopation_it_would_add() -> None:
    from models.controls import so_far
    from models.sample import _BarContext

    rng = np.random.default_rng(11)
    masks = class_masks().astype(np.uint8)
    for _ in range(20):
        played = rng.integers(0, 512, 16)
        position = int(rng.integers(0, 16))
        wanted = np.array([[0.3, 0.45, 0.0, 0.6, 1.0, 1.0]], np.float32)
        context = _BarContext(1, wanted)
        for step in range(position):
            context.play(played[step : step + 1], step)
        context.features(position)
        shift = context.steering(np.float32([2.0]))[0]
        # Every drum set on this step, after the bar so far: what it adds, exactly.
        bars = np.repeat(masks[played][None], 512, axis=0)
        bars[:, position] = masks
        grown = so_far(bars)[:, position + 1, 1] - so_far(bars)[:, position, 1]
        need = 0.45 - so_far(bars[:1])[0, position, 1]
        assert np.allclose(shift, 2.0 * need * grown * 54, atol=1e-4)


def test_no_steer_is_the_lstm_alone_and_steering_raises_asked_syncopation(
    model: DrumLSTM,
) -> None:
    from models.controls import sequence_controls
    from models.encoding import classes_of
    from models.sample import _draw

    def drawn_from_raw_logits(steer: float) -> tuple[bool, list[np.ndarray]]:
        request = LayerRequest(dice(1), (0.25, 0.5, 0.0, 0.6), 1.0, 1, steer)
        seen: list[np.ndarray] = []
        layer = generate(model, [request], logits=seen)[0]
        uniforms = np.random.default_rng(1).random(LAYER_STEPS)
        raw = [int(_draw(x, uniforms[t : t + 1])[0]) for t, x in enumerate(seen)]
        return raw == classes_of(layer).tolist(), [layer]

    assert drawn_from_raw_logits(0.0)[0]  # steer 0: the LSTM's own odds, untouched
    assert not drawn_from_raw_logits(10.0)[0]

    def syncopation(steer: float) -> float:
        requests = [LayerRequest(dice(i), (0.25, 0.5, 0.0, 0.6), 1.0, i, steer) for i in range(16)]
        return float(
            np.mean([sequence_controls(w)[:, 1].mean() for w in generate(model, requests)])
        )

    assert syncopation(10.0) > syncopation(0.0) + 0.05


@pytest.mark.parametrize(
    ("rows", "depth", "columns", "chunks"),
    [(8, 128, 512, 1), (15, 128, 512, 1), (32, 128, 512, 3), (8, 192, 768, 2), (1, 256, 1024, 1)],
)
def test_a_product_in_small_chunks_equals_the_whole_product(
    rows: int, depth: int, columns: int, chunks: int
) -> None:
    from models.sample import _Product

    rng = np.random.default_rng(rows + columns)
    weights = rng.standard_normal((depth, columns)).astype(np.float32)
    x = rng.standard_normal((rows, depth)).astype(np.float32)
    product = _Product(weights)
    cut = product.chunks(rows)
    assert len(cut) == chunks
    assert all(rows * w.size <= _Product.SMALL for _, w in cut)
    assert sum(w.shape[1] for _, w in cut) == columns
    out = np.empty((rows, columns), np.float32)
    assert np.allclose(product.into(x, out), x @ weights, atol=1e-4)


def test_draws_follow_the_softmax_to_within_rounding_of_a_boundary() -> None:
    """The blocked running sums draw what a float64 inverse CDF draws, for every u not
    within rounding of a boundary between two classes: the same law."""
    from models.sample import _draw

    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((6, 512)) * np.array([[0.5], [2], [5], [10], [30], [80]])).astype(
        np.float32
    )
    logits[1, ::3] = -1e4  # a third of the classes out of reach
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    cdf = np.cumsum(np.exp(shifted), axis=1)
    cdf /= cdf[:, -1:]
    checked = 0
    for u in (*rng.random(3000), 0.0, np.nextafter(1.0, 0.0)):
        us = np.full(6, u)
        drawn = _draw(logits.copy(), us)
        expected = (cdf <= u).sum(axis=1)
        clear = np.abs(cdf - u).min(axis=1) > 1e-5
        assert np.array_equal(drawn[clear], expected[clear])
        checked += clear.sum()
        assert (logits[np.arange(6), drawn] > -1e3).all()  # never a class out of reach
    assert checked > 0.99 * 6 * 3002


def test_a_pass_leaves_earlier_layers_alone_and_threads_write_what_one_writes(
    model: DrumLSTM,
) -> None:
    """Passes reuse their bulk arrays: what one returned stays as it was, and passes on
    several threads at once each write what they write alone."""
    from concurrent.futures import ThreadPoolExecutor

    batches = [
        [
            LayerRequest(dice(i + j), (0.2, 0.1 * j, 0.0, 0.5), 1.0, seed=10 * i + j)
            for j in range(i)
        ]
        for i in range(1, 7)
    ]
    alone = [generate(model, batch) for batch in batches]
    kept = [[w.copy() for w in written] for written in alone]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda batch: generate(model, batch), batches * 4))
    for written, copies in zip(alone, kept, strict=True):
        assert all(np.array_equal(w, c) for w, c in zip(written, copies, strict=True))
    for written, expected in zip(together, alone * 4, strict=True):
        assert all(np.array_equal(w, e) for w, e in zip(written, expected, strict=True))
