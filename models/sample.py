"""Writing layers: prime the LSTM with a pattern, then sample steps under asked controls.

Every request in a batch is primed with a pattern of the same length (the
server's are all 2-bar layers or seeds), asks for controls (or none) and a
temperature, and carries its own random seed. Each request draws its random
numbers from its own generator, so a batch writes exactly what the same
requests would write one by one.

The asked syncopation is also steered at sampling time, by weighted decoding
(Ghazvininejad et al. 2017, "Hafez": log p(c) + lambda f(c)): f is, for every drum
set c, the syncopation that choosing it adds to the bar right now, exactly (per
voice, from what the bar has played), times the syncopation still asked for. The
LSTM alone follows asked density closely but syncopation only loosely (it learns
about a third of what the ask tells of a bar); ``steer`` (lambda) closes that gap
at a strength chosen on the validation split, where written bars still overlap
real ones (``posejam model eval``).

Writing runs in numpy on weights laid out once per model (:class:`_Tables`): a
step of a batch is a handful of small matrix products and elementwise passes,
about a microsecond of overhead each, where torch would spend five per op and
drown the arithmetic of a small batch.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from models.controls import (
    CONTROL_COUNT,
    HIGH,
    HIT_GAP,
    LOW,
    MAX_STEER,
    MAX_SYNCOPATION,
    PENDING_GAPS,
    SO_FAR_COUNT,
    STEER,
    SYNCOPATION_PAIRS,
    VOICES,
    so_far_from_counts,
)
from models.encoding import CLASS_COUNT, class_masks, classes_of
from models.inputs import SYNCOPATION, bar_controls, conditions, control_inputs
from models.model import (
    CONDITION_INPUTS,
    CONTEXT_INPUTS,
    CONTROL_INPUTS,
    LOCAL_CONDITIONS,
    LOOKBACK_BARS,
    START,
    STEERING_INPUTS,
    VOICE_COUNT,
    DrumLSTM,
)
from shared.drums import DRUM_COUNT, LAYER_STEPS, STEPS_PER_BAR

MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 3.0
_BACK = LOOKBACK_BARS * STEPS_PER_BAR  # START columns before a request's first step
_MASKS = class_masks()  # [512, 9]
# Per class: hits, low-side and high-side hits ([512, 3]), and which voices sound.
_COUNTS = np.stack(
    [_MASKS.sum(axis=1), _MASKS[:, list(LOW)].sum(axis=1), _MASKS[:, list(HIGH)].sum(axis=1)],
    axis=1,
).astype(np.float64)
_VOICE_ON = np.stack([_MASKS[:, list(v)].any(axis=1) for v in VOICES], axis=1)
# [hit gains of 3 voices, silence gains of 3] -> what each drum set adds: [6, 512]
_ADDS = np.concatenate([_VOICE_ON.T, ~_VOICE_ON.T]).astype(np.float32)
# The syncopation pairs that become known once each step of a bar is played:
# {step: (weak steps, their stronger steps, gaps as [1, pairs, 1])}.
_KNOWN_AT = {
    known: (
        np.array([w for w, _, _, k in SYNCOPATION_PAIRS if k == known]),
        np.array([s for _, s, _, k in SYNCOPATION_PAIRS if k == known]),
        np.array([g for _, _, g, k in SYNCOPATION_PAIRS if k == known])[None, :, None],
    )
    for known in sorted({k for _, _, _, k in SYNCOPATION_PAIRS})
}


# Scratch arrays, reused pass after pass (see _Scratch): a free list, so that passes on
# several threads at once each take their own.
_SCRATCH: list[dict[str, np.ndarray]] = []


class _Scratch:
    """Named arrays for one pass, lent from :data:`_SCRATCH` and given back after it.

    A pass's bulk arrays (every step of a batch, [P, B, 4H] and the like) run to
    hundreds of KB at 8 players. Fresh ones come from the OS each pass, since the
    allocator hands such blocks back on free, at a page fault per 4 KB: measured 352
    faults and about 1 ms of a pass for 8 players, 2,500 and 7 ms for 32. Kept, they
    fault once.
    """

    def __init__(self) -> None:
        self.arrays = _SCRATCH.pop() if _SCRATCH else {}

    def __call__(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 array of ``shape``, its contents left from before: ``name``'s last
        use this pass is over."""
        size = math.prod(shape)
        memory = self.arrays.get(name)
        if memory is None or len(memory) < size:
            memory = self.arrays[name] = np.empty(size, np.float32)
        return memory[:size].reshape(shape)

    def give_back(self) -> None:
        _SCRATCH.append(self.arrays)


@dataclass(frozen=True)
class LayerRequest:
    primer: np.ndarray  # [P, 9] velocities, P a whole number of bars (0 for none)
    controls: tuple[float, ...] | None  # asked for every written bar; None: the model's choice
    temperature: float = 1.0
    seed: int = 0
    steer: float = STEER  # how hard asked syncopation is steered; 0: the LSTM alone

    def __post_init__(self) -> None:
        if self.primer.ndim != 2 or self.primer.shape[1] != DRUM_COUNT:
            raise ValueError(f"a primer is [steps, {DRUM_COUNT}], got {self.primer.shape}")
        if len(self.primer) % STEPS_PER_BAR:
            raise ValueError(f"a primer is whole bars, got {len(self.primer)} steps")
        if self.controls is not None and len(self.controls) != CONTROL_COUNT:
            raise ValueError(f"controls are {CONTROL_COUNT} numbers, got {len(self.controls)}")
        if not MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE:
            raise ValueError(
                f"temperature must be in range {MIN_TEMPERATURE}..{MAX_TEMPERATURE}, "
                f"got {self.temperature}"
            )
        if not 0.0 <= self.steer <= MAX_STEER:
            raise ValueError(f"steer must be in range 0..{MAX_STEER}, got {self.steer}")


def generate(
    model: DrumLSTM,
    requests: Sequence[LayerRequest],
    steps: int = LAYER_STEPS,
    logits: list[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """``[steps, 9]`` velocities for each request, in one batched pass per primer length.

    ``logits``, when given a list, receives each written step's ``[B, 512]`` class
    logits of each pass (before the temperature): a window for tests.
    """
    tables = _tables(model)
    out: list[np.ndarray | None] = [None] * len(requests)
    by_length: dict[int, list[int]] = {}
    for i, r in enumerate(requests):
        by_length.setdefault(len(r.primer), []).append(i)
    for indices in by_length.values():
        scratch = _Scratch()
        try:
            written = _Writer(tables, [requests[i] for i in indices], logits, scratch).write(steps)
        finally:
            scratch.give_back()
        for i, pattern in zip(indices, written, strict=True):
            out[i] = pattern
    return [p for p in out if p is not None]


class _Product:
    """``x @ W`` for a few rows ``x``, W's columns cut so that each product stays small.

    OpenBLAS multiplies small matrices (rows x K x columns up to 10^6, here) by a
    kernel that packs nothing; past that, a product of a few rows runs at a third of
    the speed (measured: [8, 128] x [128, 976] takes 19 us, x [128, 977] 33 us). The
    writer's products of a layer's 4 gates stay small up to 61 rows; the head's 512
    classes are cut for more than 15.
    """

    SMALL = 10**6

    def __init__(self, weights: np.ndarray) -> None:
        self.whole = weights
        self._cuts: dict[int, list[tuple[slice, np.ndarray]]] = {}

    def chunks(self, rows: int) -> list[tuple[slice, np.ndarray]]:
        """W's columns in as few chunks as keep ``rows`` rows' products small."""
        if rows not in self._cuts:
            depth, columns = self.whole.shape
            parts = max(1, -(-rows * depth * columns // self.SMALL))
            width = -(-columns // parts)
            self._cuts[rows] = [
                (slice(at, at + width), np.ascontiguousarray(self.whole[:, at : at + width]))
                for at in range(0, columns, width)
            ]
        return self._cuts[rows]

    def into(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out[:] = x @ W``; returns ``out``."""
        chunks = self.chunks(len(x))
        if len(chunks) == 1:
            return np.matmul(x, self.whole, out=out)
        for columns, weights in chunks:
            np.matmul(x, weights, out=out[:, columns])
        return out


class _GateProduct:
    """A layer's weights ``[K, 4H]``, also by gate ``[4, K, H]``: see :class:`_Cell`."""

    def __init__(self, weights: np.ndarray) -> None:
        k, n = weights.shape[0], weights.shape[1] // 4
        self.rows = np.ascontiguousarray(weights)
        self.gates = np.ascontiguousarray(weights.reshape(k, 4, n).transpose(1, 0, 2))

    def of(self, batch: int) -> np.ndarray:
        """The weights that ``batch`` rows are multiplied by, into :attr:`_Cell.product`."""
        return self.rows if batch == 1 else self.gates


class _Cell:
    """One layer's LSTM cell for a batch, updated in place step by step.

    Its state is ``[c, i, o, f, g]``, each ``[B * H]``: the cell state, then the
    gates' pre-activations (the sigmoids' scaled by 1/2, see :class:`_Tables`). Gate
    by gate, each gate of the whole batch is one run in memory, so a pass over the
    batch is one run too (as rows ``[B, 4H]`` it is B strided pieces: 1.6x the time
    at 8 rows, measured). One tanh serves all four gates (2 sigmoid(x) = tanh(x / 2)
    + 1), and c sits next to i as f does next to g, so one product forms both c f and
    i g. The views are made once: slicing costs as much as a small pass.
    """

    def __init__(self, batch: int, hidden: int) -> None:
        self.state = np.zeros((5, batch * hidden), np.float32)
        self.gates = self.state[1:]  # [4, B * H]
        self.by_gate = self.gates.reshape(4, batch, hidden)
        # Where x @ _GateProduct.of(B) writes its gates: one row's [1, 4H] is the
        # same memory as [4, 1, H], and the faster product for a row.
        self.product = self.gates.reshape(1, -1) if batch == 1 else self.by_gate
        self._sigmoids = self.state[1:4]
        self._c_i, self._f_g = self.state[:2], self.state[3:]
        self._c, self._i, self._o = self.state[0], self.state[1], self.state[2]

    def step(self, h_out: np.ndarray) -> None:
        """Activate the gates as they stand and update c; twice h goes to ``h_out``
        ``[B * H]``."""
        np.tanh(self.gates, out=self.gates)
        self._sigmoids += 1.0  # twice the sigmoids
        self._c_i *= self._f_g  # c 2f, 2i g
        c = self._c
        c += self._i
        c *= 0.5
        np.tanh(c, out=h_out)
        h_out *= self._o  # 2o tanh(c)


class _Tables:
    """The model's weights laid out for stepping, in float32 numpy.

    The first layer's input is three class embeddings, a one-hot position and the
    conditions, so the embeddings' and positions' shares of the gates are rows of
    tables made once per model. The gates are reordered i, o, f, g and the first
    three scaled by 1/2 everywhere, so one tanh serves all four: 2 sigmoid(x) =
    tanh(x / 2) + 1, one pass over a block. Each cell then keeps twice its hidden
    state (see :class:`_Cell`), and every product of a hidden state has its weights
    halved: fewer passes over the batch, the same numbers.
    """

    def __init__(self, model: DrumLSTM) -> None:
        config = model.config
        e, h = config.embed, config.hidden
        self.hidden, self.layers = h, config.layers
        lstm = model.lstm

        def weight(name: str) -> np.ndarray:
            return np.asarray(lstm.get_parameter(name).detach().numpy(), dtype=np.float64)

        # torch's gate order is i, f, g, o: the sigmoid gates go first, g last (and f
        # next to it, for :class:`_Cell`).
        order = np.concatenate(
            [np.arange(h), np.arange(3 * h, 4 * h), np.arange(h, 2 * h), np.arange(2 * h, 3 * h)]
        )
        scale = np.full(4 * h, 0.5)
        scale[3 * h :] = 1.0  # g is a tanh already

        def gates(matrix: np.ndarray) -> np.ndarray:  # [..., 4H] reordered, scaled, float32
            return np.ascontiguousarray(matrix[..., order] * scale, dtype=np.float32)

        def of_hidden(matrix: np.ndarray) -> np.ndarray:  # weights that read a kept (2x) state
            return gates(matrix / 2)

        w0 = weight("weight_ih_l0")  # [4H, input]
        bias0 = weight("bias_ih_l0") + weight("bias_hh_l0")
        embeddings = [model.embed, *model.lookback]
        shares = [
            table.weight.detach().numpy().astype(np.float64) @ w0[:, k * e : (k + 1) * e].T
            for k, table in enumerate(embeddings)
        ]
        shares[0] = shares[0] + bias0  # the bias rides along with the previous class
        self.class_gates = [gates(share) for share in shares]  # [classes, 4H]
        self.class_gates_by_gate = [  # [4, classes, H]
            np.ascontiguousarray(table.reshape(len(table), 4, h).transpose(1, 0, 2))
            for table in self.class_gates
        ]
        at = len(embeddings) * e
        self.position_gates = gates(w0[:, at : at + STEPS_PER_BAR].T)
        at += STEPS_PER_BAR
        self.condition_w = gates(w0[:, at : at + CONDITION_INPUTS].T)  # [25, 4H]
        local = len(LOCAL_CONDITIONS)
        # [16 positions, 7 local conditions, 4H]: each one's weight at each position.
        self.local_w = np.ascontiguousarray(
            gates(w0[:, at + CONDITION_INPUTS :].T)
            .reshape(local, STEPS_PER_BAR, -1)
            .transpose(1, 0, 2)
        )
        # [16 positions, 25, 4H]: all the conditions' weights at each position, the local
        # ones added in, so that a bar of steps is a stack of one product a position.
        self.condition_at = np.repeat(self.condition_w[None], STEPS_PER_BAR, axis=0)
        self.condition_at[:, list(LOCAL_CONDITIONS)] += self.local_w
        self.ask_at = np.ascontiguousarray(self.condition_at[:, :CONTROL_INPUTS])  # [16, 6, 4H]
        layers = range(config.layers)
        above = range(1, config.layers)  # the first layer's input is laid out above
        self.w_hh = [_GateProduct(of_hidden(weight(f"weight_hh_l{k}").T)) for k in layers]
        self.w_ih = {k: _GateProduct(of_hidden(weight(f"weight_ih_l{k}").T)) for k in above}
        self.bias = {k: gates(weight(f"bias_ih_l{k}") + weight(f"bias_hh_l{k}")) for k in above}
        head = model.classes.weight.detach().numpy()
        self.head_w = _Product(np.ascontiguousarray(head[:, :h].T / 2))  # [H, 512], of 2h
        self.head_condition_w = np.ascontiguousarray(head[:, h : h + CONDITION_INPUTS].T)
        self.head_local_w = np.ascontiguousarray(  # [16, 7, 512]
            head[:, h + CONDITION_INPUTS :]
            .T.reshape(local, STEPS_PER_BAR, CLASS_COUNT)
            .transpose(1, 0, 2)
        )
        self.head_b = model.classes.bias.detach().numpy().copy()
        # [16 positions, 6, 512]: the ask's weights at each position, as ask_at's.
        self.head_ask_at = self.head_condition_w[None, :CONTROL_INPUTS].repeat(STEPS_PER_BAR, 0)
        self.head_ask_at[:, :CONTROL_COUNT] += self.head_local_w[:, :CONTROL_COUNT]
        # The bar context and steering [so far (3), before (3), is there one, gains (6),
        # steering (6)] change every step and reach the first layer and the head, the
        # bar so far with a weight per position too: per position, one product gives
        # all of it.
        context = np.concatenate(
            [self.condition_w[CONTROL_INPUTS:], self.head_condition_w[CONTROL_INPUTS:]], axis=1
        )
        self.context_w = np.repeat(context[None], STEPS_PER_BAR, axis=0)  # [16, 19, 4H + 512]
        so_far_rows = slice(CONTROL_COUNT, local)  # the bar so far among the local ones
        self.context_w[:, :SO_FAR_COUNT] += np.concatenate(
            [self.local_w[:, so_far_rows], self.head_local_w[:, so_far_rows]], axis=2
        )
        first, last = [layer for layer in model.velocity if isinstance(layer, torch.nn.Linear)]
        w1 = first.weight.detach().numpy().T  # [H + 9, hidden]: the top state, then struck
        self.velocity_w = np.ascontiguousarray(w1[:h] / 2)  # of the kept 2h
        # What the struck drums of each class add, the bias with them: [512, hidden].
        self.velocity_class = _MASKS.astype(np.float32) @ w1[h:] + first.bias.detach().numpy()
        self.velocity_out = (last.weight.detach().numpy().T.copy(), last.bias.detach().numpy())

    def velocities(self, tops: np.ndarray, written: np.ndarray, scratch: _Scratch) -> np.ndarray:
        """MIDI velocities of the struck drums of every written step, in one pass."""
        shape = (*written.shape, self.velocity_w.shape[1])
        hidden = np.matmul(tops, self.velocity_w, out=scratch("velocity", shape))
        hidden += np.take(
            self.velocity_class, written, axis=0, mode="clip", out=scratch("by", shape)
        )
        np.maximum(hidden, 0.0, out=hidden)
        w2, b2 = self.velocity_out
        z = hidden @ w2 + b2
        struck = _MASKS[written]
        velocity = 1.0 / (1.0 + np.exp(-z))
        return np.where(struck, np.clip(np.round(velocity * 127), 1, 127), 0).astype(np.uint8)


class _Writer:
    """One batched pass: requests with primers of one length, written step by step."""

    def __init__(
        self,
        tables: _Tables,
        requests: Sequence[LayerRequest],
        logits: list[np.ndarray] | None,
        scratch: _Scratch,
    ) -> None:
        self.t = tables
        self.scratch = scratch
        self.requests = requests
        self.logits = logits
        self.batch = b = len(requests)
        h = tables.hidden
        self.cells = [_Cell(b, h) for _ in range(tables.layers)]
        self.hs = [np.zeros((b, h), np.float32) for _ in range(tables.layers)]  # twice h
        self.hs_flat = [state.reshape(-1) for state in self.hs]
        self.w_hh = [w.of(b) for w in tables.w_hh]
        self.w_ih = {k: w.of(b) for k, w in tables.w_ih.items()}
        self.above = _Cell(b, h)  # where the recurrent products of the layers above land
        self.bias = {  # by gate, [4, B * H]
            k: np.repeat(bias.reshape(4, 1, h), b, axis=1).reshape(4, -1)
            for k, bias in tables.bias.items()
        }
        self.primer = np.stack([r.primer for r in requests])  # [B, P, 9]
        self.primer_steps = self.primer.shape[1]
        # Every class so far, after LOOKBACK_BARS bars of START: lookbacks are slices.
        self.history = np.full((b, _BACK + self.primer_steps), START, dtype=np.int64)

    def write(self, steps: int) -> list[np.ndarray]:
        self._prime()
        written, tops = self._sample(steps)
        return list(self.t.velocities(tops, written, self.scratch))

    def _prime(self) -> None:
        """Teacher-force the primer, each of its bars conditioned on its own controls."""
        p = self.primer_steps
        if not p:
            return
        t = self.t
        primer = self.primer
        classes = classes_of(primer)
        self.history[:, _BACK:] = classes
        per_bar = bar_controls(primer)
        own = np.ones(per_bar.shape[:2], dtype=bool)
        condition = conditions(primer, control_inputs(per_bar, own, own))
        # The first written bar follows the primer's last, whole: its controls.
        self.before = per_bar[:, -1, :SO_FAR_COUNT]
        b, n = self.batch, t.hidden
        bars = p // STEPS_PER_BAR
        # Step-major from here, [P, B, ...]: each step's rows are one block.
        condition = np.ascontiguousarray(condition.transpose(1, 0, 2))
        scratch = self.scratch
        # [bars, 16, B, 4H]: a stack of one product a step, weights by position. (Not
        # einsum: numpy's einsum here skips BLAS, 10x slower.)
        inputs = np.matmul(
            condition.reshape(bars, STEPS_PER_BAR, b, -1),
            t.condition_at,
            out=scratch("inputs", (bars, STEPS_PER_BAR, b, 4 * n)),
        ).reshape(p, b, 4 * n)
        inputs += t.position_gates[np.arange(p) % STEPS_PER_BAR, None]
        history = self.history.T
        gathered = scratch("gathered", (p, b, 4 * n))
        for k in range(LOOKBACK_BARS + 1):  # the class before, then the lookbacks
            back = k * STEPS_PER_BAR or 1
            classes = history[_BACK - back : _BACK + p - back]
            inputs += np.take(t.class_gates[k], classes, axis=0, mode="clip", out=gathered)
        # Each step's gate inputs by gate, [4, B * H]: from rows [P, B, 4H] in one pass.
        by_gate = scratch("by gate", (p, 4, b, n))
        np.copyto(by_gate, inputs.reshape(p, b, 4, n).transpose(0, 2, 1, 3))
        per_step = list(by_gate.reshape(p, 4, b * n))
        below = scratch("below", (p, b, n))  # the layer's h at each step, the next's input
        below_flat = below.reshape(p, b * n)
        # Layer by layer: only the recurrent product is left inside the loop. (All
        # layers at once, as a wavefront, is fewer calls but twice the arithmetic,
        # which a batch of players pays for: measured slower.)
        for k in range(t.layers):
            if k:  # [4, P * B * H]: a step's inputs are a [4, B * H] slice
                from_below = np.matmul(
                    below.reshape(p * b, n), t.w_ih[k].gates, out=scratch("inputs", (4, p * b, n))
                )
                from_below += t.bias[k].reshape(4, 1, n)
                flat = from_below.reshape(4, -1)
                per_step = [flat[:, s * b * n : (s + 1) * b * n] for s in range(p)]
            cell, w_hh = self.cells[k], self.w_hh[k]
            h = self.hs[k]
            for step in range(p):
                np.matmul(h, w_hh, out=cell.product)
                cell.gates += per_step[step]
                cell.step(below_flat[step])
                h = below[step]
            self.hs[k][:] = h

    def _known_gates(
        self, steps: int, wanted: np.ndarray, history: np.ndarray
    ) -> tuple[np.ndarray, list[list[int]]]:
        """The first layer's gate inputs known before writing, per step ``[steps, B,
        4H]``: position, ask, and the lookbacks that fall in the primer (or before it);
        and, per step, the lookbacks left to add because this very pass writes them."""
        t, p, b, n = self.t, self.primer_steps, self.batch, self.t.hidden
        scratch = self.scratch
        at_position = np.matmul(  # [16, B, 4H]
            wanted, t.ask_at, out=scratch("at position", (STEPS_PER_BAR, b, 4 * n))
        )
        at_position += t.position_gates[:, None]
        positions = (p + np.arange(steps)) % STEPS_PER_BAR
        known = np.take(
            at_position, positions, axis=0, mode="clip", out=scratch("known", (steps, b, 4 * n))
        )
        late: list[list[int]] = [[] for _ in range(steps)]
        for k in range(LOOKBACK_BARS):
            back = (k + 1) * STEPS_PER_BAR
            ready = min(steps, back)
            classes = history[:, _BACK + p - back : _BACK + p - back + ready]
            gathered = np.take(
                t.class_gates[k + 1],
                classes,
                axis=0,
                mode="clip",
                out=scratch("gathered", (b, ready, 4 * n)),
            )
            known[:ready] += gathered.transpose(1, 0, 2)
            for step in range(ready, steps):
                late[step].append(k)
        return known, late

    def _sample(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Write ``steps`` steps after the primer: the classes drawn ``[B, steps]`` and
        the top layer's (twice) h at each ``[B, steps, H]``."""
        t, b, n, p = self.t, self.batch, self.t.hidden, self.primer_steps
        wanted = self._wanted()
        history = np.concatenate([self.history, np.zeros((b, steps), dtype=np.int64)], axis=1)
        fixed, late_at = self._known_gates(steps, wanted, history)
        head_b = np.matmul(  # [16 positions, B, 512]
            wanted, t.head_ask_at, out=self.scratch("head", (STEPS_PER_BAR, b, CLASS_COUNT))
        )
        head_b += t.head_b
        inverse_t = np.array([1.0 / r.temperature for r in self.requests], np.float32)[:, None]
        steer = np.array([r.steer for r in self.requests], np.float32)
        # Each request's random numbers come from its own generator, drawn up front.
        uniforms = np.stack([np.random.default_rng(r.seed).random(steps) for r in self.requests])
        written = np.zeros((b, steps), dtype=np.int64)
        tops = self.scratch("tops", (b, steps, n))
        bar = _BarContext(b, wanted)
        if p:
            bar.start_after(self.before)
        known = np.empty((4, b * n), np.float32)  # the first layer's input, by gate
        known_by_gate = known.reshape(4, b, n)
        context = np.empty((b, t.context_w.shape[2]), np.float32)  # [B, 4H + 512]
        context_gates = context[:, : 4 * n].reshape(b, 4, n).transpose(1, 0, 2)
        logits = np.empty((b, CLASS_COUNT), np.float32)
        last = history[:, _BACK + p - 1]
        for step in range(steps):
            at = _BACK + p + step
            position = (p + step) % STEPS_PER_BAR
            if position == 0 and step:
                bar.next_bar()
            np.matmul(bar.features(position), t.context_w[position], out=context)
            context[:, : 4 * n] += fixed[step]
            np.take(t.class_gates_by_gate[0], last, axis=1, mode="clip", out=known_by_gate)
            for k in late_at[step]:
                back = history[:, at - (k + 1) * STEPS_PER_BAR]
                known_by_gate += t.class_gates_by_gate[k + 1][:, back]
            known_by_gate += context_gates
            top = self._step(known)
            tops[:, step] = top
            t.head_w.into(top, logits)
            logits += head_b[position]
            logits += context[:, 4 * n :]
            if self.logits is not None:
                self.logits.append(logits.copy())
            logits += bar.steering(steer)
            logits *= inverse_t
            last = _draw(logits, uniforms[:, step])
            history[:, at] = last
            written[:, step] = last
            bar.play(last, position)
        return written, tops

    def _wanted(self) -> np.ndarray:
        """``[B, 6]``: each request's asked controls (zeros for none) and their flags."""
        asked = np.array(
            [
                r.controls if r.controls is not None else (0.0,) * CONTROL_COUNT
                for r in self.requests
            ]
        )
        present = np.array([r.controls is not None for r in self.requests])
        flags = np.stack([present, present], axis=1)  # asked for these very bars
        return np.concatenate([asked, flags], axis=1).astype(np.float32)

    def _step(self, known: np.ndarray) -> np.ndarray:
        """One step of every layer, the first's input ``known`` ``[4, B * H]`` by gate
        (the recurrent share left to add); returns the top layer's (twice) h."""
        cells, hs, hs_flat = self.cells, self.hs, self.hs_flat
        np.matmul(hs[0], self.w_hh[0], out=cells[0].product)
        cells[0].gates += known
        cells[0].step(hs_flat[0])
        above = self.above
        for k in range(1, len(cells)):
            np.matmul(hs[k - 1], self.w_ih[k], out=cells[k].product)
            np.matmul(hs[k], self.w_hh[k], out=above.product)
            cells[k].gates += above.gates
            cells[k].gates += self.bias[k]
            cells[k].step(hs_flat[k])
        return hs[-1]


class _BarContext:
    """What each step knows of its bar, kept step by step while a batch writes.

    The same numbers as :func:`models.inputs.bar_context` and
    :func:`models.inputs.steering` give for the finished steps (a test holds them
    equal), kept as running counts.
    """

    def __init__(self, batch: int, wanted: np.ndarray) -> None:
        self.counts = np.zeros((batch, 3))  # hits, low-side hits, high-side hits
        self.syncopation = np.zeros(batch)
        self.on = np.zeros((batch, STEPS_PER_BAR, VOICE_COUNT), dtype=bool)
        # [so far (3), bar before (3), is there one (1), gains (6), steering (6)]
        self.out = np.zeros((batch, CONTEXT_INPUTS + STEERING_INPUTS), np.float32)
        self.asked = wanted[:, SYNCOPATION]  # [B] float32, as the ask is fed
        self.given = wanted[:, CONTROL_COUNT]
        self.need = np.zeros(batch, np.float32)  # the syncopation still asked for

    def start_after(self, before: np.ndarray) -> None:
        """The bar being written follows a finished bar with these ``[B, 3]`` values."""
        self.out[:, SO_FAR_COUNT : 2 * SO_FAR_COUNT] = before
        self.out[:, 2 * SO_FAR_COUNT] = 1.0

    def next_bar(self) -> None:
        """The bar is finished: it becomes the bar before, and a new one starts."""
        self.start_after(self.out[:, :SO_FAR_COUNT])
        self.counts[:] = 0.0
        self.syncopation[:] = 0.0
        self.on[:] = False
        self.out[:, :SO_FAR_COUNT] = 0.0

    def play(self, classes: np.ndarray, position: int) -> None:
        self.counts += _COUNTS[classes]
        self.on[:, position] = _VOICE_ON[classes]
        if position in _KNOWN_AT:
            weak, strong, gaps = _KNOWN_AT[position]
            syncopated = self.on[:, weak] & ~self.on[:, strong]  # [B, pairs, voices]
            self.syncopation += (syncopated * gaps).sum(axis=(1, 2))
        hits, low, high = self.counts.T
        self.out[:, :SO_FAR_COUNT] = so_far_from_counts(hits, self.syncopation, low, high)

    def features(self, position: int) -> np.ndarray:
        """``[B, 19]``: the bar context and steering of the step at ``position``."""
        gains = self.out[:, _GAINS]
        gains[:, :VOICE_COUNT] = HIT_GAP[position] * _UNIT * ~self.on[:, 0]
        gains[:, VOICE_COUNT:] = _PENDING_UNITS[position] @ self.on
        self.need = (self.asked - self.out[:, SYNCOPATION]) * self.given
        self.out[:, CONTEXT_INPUTS:] = self.need[:, None] * gains
        return self.out

    def steering(self, steer: np.ndarray) -> np.ndarray:
        """``[B, 512]`` logit shifts: ``steer`` x the syncopation still asked for x what
        each drum set would add to it on this step, in LHL weight gaps (after
        :meth:`features` of the step). The steering features are the need times the
        gains already, and a drum set adds the hit gain of each voice it strikes and
        the silence gain of each it does not: one product."""
        adds = self.out[:, CONTEXT_INPUTS:] @ _ADDS
        adds *= (steer * np.float32(1.0 / _UNIT))[:, None]
        return adds


_GAINS = slice(2 * SO_FAR_COUNT + 1, CONTEXT_INPUTS)
_UNIT = 1.0 / (VOICE_COUNT * MAX_SYNCOPATION)  # syncopation per unit of LHL weight gap
_PENDING_UNITS = PENDING_GAPS * _UNIT  # [strong step, weak step], in syncopation units


_BLOCK = 32  # classes summed in one block by _draw
_BLOCKS = CLASS_COUNT // _BLOCK
_RUNS = np.triu(np.ones((_BLOCK, _BLOCK), np.float32))  # x @ _RUNS: running sums of x
_BEFORE = np.triu(np.ones((_BLOCKS, _BLOCKS), np.float32), 1)  # sums of the blocks before

_TABLES: weakref.WeakKeyDictionary[DrumLSTM, _Tables] = weakref.WeakKeyDictionary()


def _tables(model: DrumLSTM) -> _Tables:
    """Made once per model: weights do not change while it writes."""
    if model not in _TABLES:
        with torch.no_grad():
            _TABLES[model] = _Tables(model)
    return _TABLES[model]


def _draw(logits: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling, a row each: the same ``u`` and logits give the same class.

    ``logits`` (already divided by the temperature) is used up as scratch.

    The running sums are made in blocks, by products: within each block of
    :data:`_BLOCK` classes (``x @ _RUNS``), then the blocks before each block
    (``@ _BEFORE``). numpy's running sum goes element by element: measured 15 us for
    8 rows of 512, where the products and their sum take 7 us (and 4 us to its 3.5
    for one row). The law is the same; the sums round differently, so a draw can
    differ from one of a plain running sum only where u falls within rounding of a
    boundary between two classes.
    """
    b = len(logits)
    z = logits
    z -= logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    cdf = z.reshape(b * _BLOCKS, _BLOCK) @ _RUNS
    cdf += (cdf[:, -1].reshape(b, _BLOCKS) @ _BEFORE).reshape(b * _BLOCKS, 1)
    cdf = cdf.reshape(b, CLASS_COUNT)
    target = u * cdf[:, -1]
    # The first class whose running sum passes u of the total. (The last always
    # passes, even should rounding put u x total at the total.)
    cdf[:, -1] = np.inf
    return np.asarray(np.greater(cdf, target[:, None]).argmax(axis=1))
