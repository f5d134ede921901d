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
        written = _Writer(tables, [requests[i] for i in indices], logits).write(steps)
        for i, pattern in zip(indices, written, strict=True):
            out[i] = pattern
    return [p for p in out if p is not None]


class _Product:
    """``x @ W`` for a few rows ``x``, with W's columns cut into chunks that stay in cache.

    Past about 400 KB of weights numpy's product of a few rows runs at a third of its
    speed (measured here: [8, 192] x [192, 768] takes 48 us whole, 26 us in two halves).
    """

    LIMIT = 96 * 1024  # floats a chunk may hold

    def __init__(self, weights: np.ndarray) -> None:
        self.whole = weights  # for products of many rows, which block for cache anyway
        columns = weights.shape[1]
        width = -(-columns // -(-weights.size // self.LIMIT))
        self.chunks = [
            (slice(at, at + width), np.ascontiguousarray(weights[:, at : at + width]))
            for at in range(0, columns, width)
        ]

    def into(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out[:] = x @ W``; returns ``out``."""
        if len(self.chunks) == 1:
            return np.matmul(x, self.whole, out=out)
        for columns, weights in self.chunks:
            np.matmul(x, weights, out=out[:, columns])
        return out


class _Tables:
    """The model's weights laid out for stepping, in float32 numpy.

    The first layer's input is three class embeddings, a one-hot position and the
    conditions, so the embeddings' and positions' shares of the gates are rows of
    tables made once per model. The gates are reordered i, f, o, g and the first
    three scaled by 1/2 everywhere, so one tanh serves all four: 2 sigmoid(x) =
    tanh(x / 2) + 1, one pass over a block. Each cell then keeps twice its hidden
    state (see :meth:`cell`), and every product of a hidden state has its weights
    halved: fewer passes over the batch, the same numbers.
    """

    def __init__(self, model: DrumLSTM) -> None:
        config = model.config
        e, h = config.embed, config.hidden
        self.hidden, self.layers = h, config.layers
        lstm = model.lstm

        def weight(name: str) -> np.ndarray:
            return np.asarray(lstm.get_parameter(name).detach().numpy(), dtype=np.float64)

        # torch's gate order is i, f, g, o: the sigmoid gates go first, g last.
        order = np.concatenate([np.arange(2 * h), np.arange(3 * h, 4 * h), np.arange(2 * h, 3 * h)])
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
        self.class_gates = [gates(share) for share in shares]
        at = len(embeddings) * e
        self.position_gates = gates(w0[:, at : at + STEPS_PER_BAR].T)
        at += STEPS_PER_BAR
        self.condition_w = gates(w0[:, at : at + CONDITION_INPUTS].T)  # [13, 4H]
        local = len(LOCAL_CONDITIONS)
        # [16 positions, 7 local conditions, 4H]: each one's weight at each position,
        # position first so that a run of steps is a stack of small products.
        self.local_w = np.ascontiguousarray(
            gates(w0[:, at + CONDITION_INPUTS :].T)
            .reshape(local, STEPS_PER_BAR, -1)
            .transpose(1, 0, 2)
        )
        layers = range(config.layers)
        above = range(1, config.layers)  # the first layer's input is laid out above
        self.w_hh = [_Product(of_hidden(weight(f"weight_hh_l{k}").T)) for k in layers]
        self.w_ih = {k: _Product(of_hidden(weight(f"weight_ih_l{k}").T)) for k in above}
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
        # The bar context [so far (3), before (3), is there one] changes every step and
        # reaches the first layer and the head, the bar so far with a weight per
        # position too: per position, one product gives all of it.
        context = np.concatenate(
            [self.condition_w[CONTROL_INPUTS:], self.head_condition_w[CONTROL_INPUTS:]], axis=1
        )
        self.context_w = np.repeat(context[None], STEPS_PER_BAR, axis=0)  # [16, 7, 4H + 512]
        so_far_rows = slice(CONTROL_COUNT, local)  # the bar so far among the local ones
        self.context_w[:, :SO_FAR_COUNT] += np.concatenate(
            [self.local_w[:, so_far_rows], self.head_local_w[:, so_far_rows]], axis=2
        )
        linears = [layer for layer in model.velocity if isinstance(layer, torch.nn.Linear)]
        self.velocity = [
            (np.ascontiguousarray(lin.weight.detach().numpy().T), lin.bias.detach().numpy().copy())
            for lin in linears
        ]
        self.velocity[0][0][:h] /= 2  # the top layer's kept states come first

    def cell(self, gates: np.ndarray, c: np.ndarray, h_out: np.ndarray) -> None:
        """One LSTM cell update in place: ``gates`` (pre-activation, i f o g, scaled) ->
        c, and twice h into ``h_out``."""
        np.tanh(gates, out=gates)
        n = self.hidden
        gates[:, : 3 * n] += 1.0  # twice the sigmoids
        i, f, o, g = gates[:, :n], gates[:, n : 2 * n], gates[:, 2 * n : 3 * n], gates[:, 3 * n :]
        c *= f
        i *= g
        c += i
        c *= 0.5
        np.tanh(c, out=h_out)
        h_out *= o

    def velocities(self, tops: np.ndarray, struck: np.ndarray) -> np.ndarray:
        """MIDI velocities of the struck drums of every written step, in one pass."""
        (w1, b1), (w2, b2) = self.velocity
        hidden = np.concatenate([tops, struck.astype(np.float32)], axis=-1) @ w1 + b1
        np.maximum(hidden, 0.0, out=hidden)
        z = hidden @ w2 + b2
        velocity = 1.0 / (1.0 + np.exp(-z))
        return np.where(struck, np.clip(np.round(velocity * 127), 1, 127), 0).astype(np.uint8)


class _Writer:
    """One batched pass: requests with primers of one length, written step by step."""

    def __init__(
        self, tables: _Tables, requests: Sequence[LayerRequest], logits: list[np.ndarray] | None
    ) -> None:
        self.t = tables
        self.requests = requests
        self.logits = logits
        self.batch = len(requests)
        h = tables.hidden
        self.hs = [np.zeros((self.batch, h), np.float32) for _ in range(tables.layers)]
        self.cs = [np.zeros((self.batch, h), np.float32) for _ in range(tables.layers)]
        self.primer = np.stack([r.primer for r in requests])  # [B, P, 9]
        self.primer_steps = self.primer.shape[1]
        # Every class so far, after LOOKBACK_BARS bars of START: lookbacks are slices.
        self.history = np.full((self.batch, _BACK + self.primer_steps), START, dtype=np.int64)

    def write(self, steps: int) -> list[np.ndarray]:
        self._prime()
        written, tops = self._sample(steps)
        struck = _MASKS[written]
        return list(self.t.velocities(tops, struck))

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
        positions = np.arange(p) % STEPS_PER_BAR
        # Step-major from here, [P, B, ...]: each step's rows are one block.
        condition = np.ascontiguousarray(condition.transpose(1, 0, 2))
        history = self.history.T
        inputs = t.class_gates[0][history[_BACK - 1 : _BACK + p - 1]] + condition @ t.condition_w
        # (A stack of products, not einsum: numpy's einsum here skips BLAS, 10x slower.)
        inputs += condition[..., list(LOCAL_CONDITIONS)] @ t.local_w[positions]
        for k in range(LOOKBACK_BARS):
            back = (k + 1) * STEPS_PER_BAR
            inputs += t.class_gates[k + 1][history[_BACK - back : _BACK + p - back]]
        inputs += t.position_gates[positions][:, None]
        b, n = self.batch, t.hidden
        below = np.empty((p, b, n), np.float32)
        scratch = np.empty((b, 4 * n), np.float32)
        # Layer by layer: only the recurrent product is left inside the loop. (All
        # layers at once, as a wavefront, is fewer calls but twice the arithmetic,
        # which a batch of players pays for: measured slower.)
        for k in range(t.layers):
            if k:
                below_all = below.reshape(p * b, n)
                inputs = (below_all @ t.w_ih[k].whole + t.bias[k]).reshape(p, b, 4 * n)
            h, c = self.hs[k], self.cs[k]
            for step in range(p):
                gates = t.w_hh[k].into(h, scratch)
                gates += inputs[step]
                t.cell(gates, c, h)
                below[step] = h

    def _known_gates(
        self, steps: int, wanted: np.ndarray, history: np.ndarray
    ) -> tuple[np.ndarray, list[list[int]]]:
        """The first layer's gates known before writing, per step ``[steps, B, 4H]``:
        position, ask, and the lookbacks that fall in the primer (or before it); and,
        per step, the lookbacks left to add because this very pass writes them."""
        t, p = self.t, self.primer_steps
        positions = (p + np.arange(steps)) % STEPS_PER_BAR
        asked = wanted[:, :CONTROL_COUNT]
        known = t.position_gates[positions][:, None, :] + (wanted @ t.condition_w[:CONTROL_INPUTS])
        known += asked @ t.local_w[positions, :CONTROL_COUNT]
        late: list[list[int]] = [[] for _ in range(steps)]
        for k in range(LOOKBACK_BARS):
            back = (k + 1) * STEPS_PER_BAR
            ready = min(steps, back)
            classes = history[:, _BACK + p - back : _BACK + p - back + ready]
            known[:ready] += t.class_gates[k + 1][classes].transpose(1, 0, 2)
            for step in range(ready, steps):
                late[step].append(k)
        return known, late

    def _sample(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        t, b, n = self.t, self.batch, self.t.hidden
        p = self.primer_steps
        asked = np.array(
            [
                r.controls if r.controls is not None else (0.0,) * CONTROL_COUNT
                for r in self.requests
            ]
        )
        present = np.array([r.controls is not None for r in self.requests])
        flags = np.stack([present, present], axis=1)  # asked for these very bars
        wanted = np.concatenate([asked, flags], axis=1).astype(np.float32)  # [B, 6]
        history = np.concatenate([self.history, np.zeros((b, steps), dtype=np.int64)], axis=1)
        fixed, late_at = self._known_gates(steps, wanted, history)
        positions = (p + np.arange(steps)) % STEPS_PER_BAR
        head_b = (t.head_b + wanted @ t.head_condition_w[:CONTROL_INPUTS]) + (
            wanted[:, :CONTROL_COUNT] @ t.head_local_w[positions, :CONTROL_COUNT]
        )  # [steps, B, 512]
        inverse_t = np.array([1.0 / r.temperature for r in self.requests], np.float32)[:, None]
        steer = np.array([r.steer for r in self.requests], np.float32)
        # Each request's random numbers come from its own generator, drawn up front.
        uniforms = np.stack([np.random.default_rng(r.seed).random(steps) for r in self.requests])
        written = np.zeros((b, steps), dtype=np.int64)
        tops = np.empty((b, steps, n), np.float32)
        bar = _BarContext(b, wanted)
        if p:
            bar.start_after(self.before)
        gates = np.empty((b, 4 * n), np.float32)
        scratch = np.empty((b, 4 * n), np.float32)
        logits = np.empty((b, CLASS_COUNT), np.float32)
        last = history[:, _BACK + p - 1]
        for step in range(steps):
            at = _BACK + p + step
            position = (p + step) % STEPS_PER_BAR
            if position == 0 and step:
                bar.next_bar()
            context = bar.features(position) @ t.context_w[position]
            np.take(t.class_gates[0], last, axis=0, out=gates)
            gates += fixed[step]
            for k in late_at[step]:
                gates += t.class_gates[k + 1][history[:, at - (k + 1) * STEPS_PER_BAR]]
            gates += context[:, : 4 * n]
            gates += t.w_hh[0].into(self.hs[0], scratch)
            t.cell(gates, self.cs[0], self.hs[0])
            for k in range(1, t.layers):
                t.w_ih[k].into(self.hs[k - 1], gates)
                gates += t.w_hh[k].into(self.hs[k], scratch)
                gates += t.bias[k]
                t.cell(gates, self.cs[k], self.hs[k])
            top = self.hs[-1]
            tops[:, step] = top
            t.head_w.into(top, logits)
            logits += head_b[step]
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
    """
    z = logits
    z -= logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    cdf = np.cumsum(z, axis=1)
    index = (cdf <= (u * cdf[:, -1])[:, None]).sum(axis=1)
    return np.asarray(np.minimum(index, CLASS_COUNT - 1))
