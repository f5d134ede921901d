"""The drum LSTM: Magenta drums_rnn's drum_kit design, conditioned on groove controls.

Each step's input is the previous step's class (an embedding of 512 drum sets,
plus a start symbol), the position of the step in its bar (one-hot of 16), and
the groove controls of the bar the step is in (4 numbers, a flag that says
whether any are given, and one that says whether they are the bar's own, asked
for it, or only the previous bar's, a hint). An LSTM runs over the steps; a softmax head
predicts the step's class and a small head its velocities, given the drums
struck; the controls feed the softmax head directly as well. The controls are
what lets a body steer the drummer: the model learns
what density, syncopation, balance and intensity a bar will have when asked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from models.controls import CONTROL_COUNT
from models.encoding import CLASS_COUNT
from shared.drums import DRUM_COUNT, STEPS_PER_BAR

START = CLASS_COUNT  # the class "before the first step"
CONTROL_INPUTS = CONTROL_COUNT + 2  # the controls, "given" and "the bar's own"


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 256
    layers: int = 2
    embed: int = 64
    dropout: float = 0.3

    @property
    def input_size(self) -> int:
        return self.embed + STEPS_PER_BAR + CONTROL_INPUTS

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


class DrumLSTM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(CLASS_COUNT + 1, config.embed)
        self.lstm = nn.LSTM(
            config.input_size,
            config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)
        # The controls reach the softmax directly too, not only through the LSTM:
        # a body's ask must be able to turn the groove whatever the history says.
        self.classes = nn.Linear(config.hidden + CONTROL_INPUTS, CLASS_COUNT)
        self.velocity = nn.Sequential(
            nn.Linear(config.hidden + DRUM_COUNT, 64), nn.ReLU(), nn.Linear(64, DRUM_COUNT)
        )

    def inputs(
        self, previous: torch.Tensor, positions: torch.Tensor, controls: torch.Tensor
    ) -> torch.Tensor:
        """Step inputs from classes [B, T], positions in bar [B, T] and controls [B, T, 6]."""
        position = nn.functional.one_hot(positions, STEPS_PER_BAR).float()
        return torch.cat([self.embed(previous), position, controls], dim=-1)

    def forward(
        self,
        previous: torch.Tensor,
        positions: torch.Tensor,
        controls: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Class logits [B, T, 512], hidden outputs [B, T, H] and the LSTM state."""
        out, state = self.lstm(self.inputs(previous, positions, controls), state)
        out = self.drop(out)
        return self.classes(torch.cat([out, controls], dim=-1)), out, state

    def velocities(self, hidden: torch.Tensor, struck: torch.Tensor) -> torch.Tensor:
        """Velocities 0..1 of each drum, given the hidden output and which drums are struck."""
        return torch.sigmoid(self.velocity(torch.cat([hidden, struck.float()], dim=-1)))
