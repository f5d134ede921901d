"""Writing layers: prime the LSTM with a pattern, then sample steps under asked controls.

Every request in a batch is primed with a pattern of the same length (the
server's are all 2-bar layers or seeds), asks for controls (or none) and a
temperature, and carries its own random seed. Each request draws its random
numbers from its own generator, so a batch writes exactly what the same
requests would write one by one.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from models.controls import CONTROL_COUNT
from models.encoding import class_masks, classes_of
from models.model import START, DrumLSTM
from models.train import bar_controls, control_inputs
from shared.drums import DRUM_COUNT, LAYER_STEPS, STEPS_PER_BAR

MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 3.0
_MASKS = torch.from_numpy(class_masks())


@dataclass(frozen=True)
class LayerRequest:
    primer: np.ndarray  # [P, 9] velocities, P a whole number of bars (0 for none)
    controls: tuple[float, ...] | None  # asked for every written bar; None: the model's choice
    temperature: float = 1.0
    seed: int = 0

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


@torch.inference_mode()
def generate(
    model: DrumLSTM, requests: Sequence[LayerRequest], steps: int = LAYER_STEPS
) -> list[np.ndarray]:
    """``[steps, 9]`` velocities for each request, in one batched pass per primer length."""
    out: list[np.ndarray | None] = [None] * len(requests)
    by_length: dict[int, list[int]] = {}
    for i, r in enumerate(requests):
        by_length.setdefault(len(r.primer), []).append(i)
    for indices in by_length.values():
        written = _generate_group(model, [requests[i] for i in indices], steps)
        for i, pattern in zip(indices, written, strict=True):
            out[i] = pattern
    return [p for p in out if p is not None]


def _generate_group(
    model: DrumLSTM, requests: Sequence[LayerRequest], steps: int
) -> list[np.ndarray]:
    batch = len(requests)
    tables = _tables(model)
    temperature = torch.tensor([r.temperature for r in requests], dtype=torch.float64)
    zeros = torch.zeros(batch, model.config.hidden)
    hs = [zeros] * model.config.layers
    cs = [zeros] * model.config.layers
    last = torch.full((batch,), START)
    primer_steps = len(requests[0].primer)
    if primer_steps:
        # Teacher-force the primer, each of its bars conditioned on its own controls.
        primer = np.stack([r.primer for r in requests])
        classes = torch.from_numpy(classes_of(primer))
        per_bar = bar_controls(primer)
        own = np.ones(per_bar.shape[:2], dtype=bool)
        # The controls' share of the gates for every primer step, in one product.
        controls = torch.from_numpy(control_inputs(per_bar, own, own)) @ tables.control_w
        for t in range(primer_steps):
            tables.advance(last, t % STEPS_PER_BAR, controls[:, t], hs, cs)
            last = classes[:, t]
    asked = np.array(
        [r.controls if r.controls is not None else (0.0,) * CONTROL_COUNT for r in requests]
    )
    present = np.array([r.controls is not None for r in requests])
    flags = np.stack([present, present], axis=1)  # asked for these very bars
    wanted = np.concatenate([asked, flags], axis=1).astype(np.float32)
    control = torch.from_numpy(wanted) @ tables.control_w
    head_b = tables.head_b + torch.from_numpy(wanted) @ tables.head_control_w
    # Each request's random numbers come from its own generator, drawn up front.
    uniforms = torch.from_numpy(
        np.stack([np.random.default_rng(r.seed).random(steps) for r in requests])
    )
    written = torch.zeros((batch, steps, DRUM_COUNT), dtype=torch.uint8)
    for t in range(steps):
        top = tables.advance(last, (primer_steps + t) % STEPS_PER_BAR, control, hs, cs)
        logits = torch.addmm(head_b, top, tables.head_w)
        probs = torch.softmax(logits.double() / temperature.unsqueeze(1), dim=1)
        last = _draw(probs, uniforms[:, t])
        struck = _MASKS[last]
        velocity = model.velocities(top, struck)
        written[:, t] = torch.where(struck, (velocity * 127).round().clamp(1, 127), 0).to(
            torch.uint8
        )
    return list(written.numpy())


class _Tables:
    """The LSTM's weights laid out for stepping, with the gates written out.

    The first layer's input is an embedding, a one-hot position and the controls,
    so their contributions to the gates are rows looked up in tables made once
    per model (or, for controls, one small product per layer written): a step is
    left with a few small matrix products, which is what makes a batch cheap.
    """

    def __init__(self, model: DrumLSTM) -> None:
        lstm, e = model.lstm, model.config.embed

        def weight(name: str) -> torch.Tensor:
            return lstm.get_parameter(name).detach()

        w0 = weight("weight_ih_l0")
        bias0 = weight("bias_ih_l0") + weight("bias_hh_l0")
        self.class_gates = (model.embed.weight.detach() @ w0[:, :e].T + bias0).contiguous()
        self.position_gates = w0[:, e : e + STEPS_PER_BAR].T.contiguous()
        self.control_w = w0[:, e + STEPS_PER_BAR :].T.contiguous()
        layers = range(lstm.num_layers)
        self.w_hh = [weight(f"weight_hh_l{k}").T.contiguous() for k in layers]
        self.w_ih = [weight(f"weight_ih_l{k}").T.contiguous() for k in layers]
        self.bias = [weight(f"bias_ih_l{k}") + weight(f"bias_hh_l{k}") for k in layers]
        hidden = model.config.hidden
        head = model.classes.weight.detach()
        self.head_w = head[:, :hidden].T.contiguous()
        self.head_control_w = head[:, hidden:].T.contiguous()
        self.head_b = model.classes.bias.detach()

    @staticmethod
    def _cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def advance(
        self,
        last: torch.Tensor,
        position: int,
        control: torch.Tensor,
        hs: list[torch.Tensor],
        cs: list[torch.Tensor],
    ) -> torch.Tensor:
        """Feed one step (the previous class ``last``); return the top layer's output."""
        gates = self.class_gates[last] + self.position_gates[position] + control
        hs[0], cs[0] = self._cell(torch.addmm(gates, hs[0], self.w_hh[0]), cs[0])
        for k in range(1, len(hs)):
            gates = torch.addmm(self.bias[k], hs[k - 1], self.w_ih[k])
            hs[k], cs[k] = self._cell(torch.addmm(gates, hs[k], self.w_hh[k]), cs[k])
        return hs[-1]


_TABLES: weakref.WeakKeyDictionary[DrumLSTM, _Tables] = weakref.WeakKeyDictionary()


def _tables(model: DrumLSTM) -> _Tables:
    """Made once per model: weights do not change while it writes."""
    if model not in _TABLES:
        _TABLES[model] = _Tables(model)
    return _TABLES[model]


def _draw(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sampling, a row each: the same ``u`` and probabilities give the same class."""
    cdf = torch.cumsum(probs, dim=1)
    index = (cdf <= (u * cdf[:, -1]).unsqueeze(1)).sum(dim=1)
    return index.clamp(max=probs.shape[1] - 1)
