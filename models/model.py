"""The drum LSTM: Magenta drums_rnn's drum_kit design, conditioned on groove controls.

Each step's input is:

- the previous step's class (an embedding of 512 drum sets, plus a start symbol);
- the classes of the same step one and two bars back (their own embeddings), as
  Magenta's Lookback RNN feeds them: drumming repeats by the bar, and this lets
  the LSTM spend its memory on the groove rather than on counting 16 steps;
- the position of the step in its bar (one-hot of 16);
- the groove controls of the bar the step is in (4 numbers, a flag that says
  whether any are given, and one that says whether they are the bar's own, asked
  for it, or only the previous bar's, a hint);
- the bar so far: the density, syncopation and balance its earlier steps have
  delivered (:func:`models.controls.so_far`), so the model can see how much of
  the asked groove is still to come; and the same three of the whole bar before
  (with a flag: is there one), so an ask that differs from it is a turn in plain
  sight rather than something to infer from memory;
- the asked controls and the bar so far once more, each times the one-hot
  position (7 x 16 numbers): syncopation is where in the bar the hits fall, and
  this gives each step its own linear response to the ask ("more syncopation:
  louder odds on step 7, softer on step 8") without hidden units having to build
  the product of position and control;
- per voice, what a hit and what silence on this step would add to the bar's
  syncopation, and both times the syncopation still asked for: whether a drum set
  syncopates depends on what the bar has played, and this puts "how much it would
  add, and how much is wanted" where a linear head can weigh it.

An LSTM runs over the steps; a softmax head predicts the step's class and a small
head its velocities, given the drums struck. The controls and the bar so far feed
the softmax head directly as well: a body's ask must be able to turn the groove
whatever the history says.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from models.controls import CONTROL_COUNT, SO_FAR_COUNT, VOICES
from models.encoding import CLASS_COUNT
from shared.drums import DRUM_COUNT, STEPS_PER_BAR

START = CLASS_COUNT  # the class "before the first step" (and of a bar before the first)
CONTROL_INPUTS = CONTROL_COUNT + 2  # the controls, "given" and "the bar's own"
# The bar context: the bar so far, the bar before, whether there is one, and per voice
# the syncopation a hit and a silence would add; then those gains times the need.
VOICE_COUNT = len(VOICES)
CONTEXT_INPUTS = 2 * SO_FAR_COUNT + 1 + 2 * VOICE_COUNT
STEERING_INPUTS = 2 * VOICE_COUNT
CONDITION_INPUTS = CONTROL_INPUTS + CONTEXT_INPUTS + STEERING_INPUTS
# The conditions that also get a weight per position in the bar: the asked controls
# and the bar so far (indices into the conditions).
LOCAL_CONDITIONS = (*range(CONTROL_COUNT), *range(CONTROL_INPUTS, CONTROL_INPUTS + SO_FAR_COUNT))
BY_POSITION = len(LOCAL_CONDITIONS) * STEPS_PER_BAR
LOOKBACK_BARS = 2
VELOCITY_HIDDEN = 64


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 128
    layers: int = 2
    embed: int = 64
    dropout: float = 0.3

    @property
    def input_size(self) -> int:
        return (1 + LOOKBACK_BARS) * self.embed + STEPS_PER_BAR + CONDITION_INPUTS + BY_POSITION

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


class DrumLSTM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(CLASS_COUNT + 1, config.embed)
        self.lookback = nn.ModuleList(
            nn.Embedding(CLASS_COUNT + 1, config.embed) for _ in range(LOOKBACK_BARS)
        )
        self.lstm = nn.LSTM(
            config.input_size,
            config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)
        self.classes = nn.Linear(config.hidden + CONDITION_INPUTS + BY_POSITION, CLASS_COUNT)
        self.velocity = nn.Sequential(
            nn.Linear(config.hidden + DRUM_COUNT, VELOCITY_HIDDEN),
            nn.ReLU(),
            nn.Linear(VELOCITY_HIDDEN, DRUM_COUNT),
        )

    def inputs(
        self,
        previous: torch.Tensor,
        lookback: torch.Tensor,
        positions: torch.Tensor,
        conditions: torch.Tensor,
    ) -> torch.Tensor:
        """Step inputs from classes [B, T], lookback classes [B, T, 2], positions in bar
        [B, T] and conditions [B, T, 25] (controls, their flags, bar context, steering)."""
        position = nn.functional.one_hot(positions, STEPS_PER_BAR).float()
        back = [table(lookback[..., k]) for k, table in enumerate(self.lookback)]
        local = by_position(conditions, position)
        return torch.cat([self.embed(previous), *back, position, conditions, local], dim=-1)

    def forward(
        self,
        previous: torch.Tensor,
        lookback: torch.Tensor,
        positions: torch.Tensor,
        conditions: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Class logits [B, T, 512], hidden outputs [B, T, H] and the LSTM state."""
        x = self.inputs(previous, lookback, positions, conditions)
        out, state = self.lstm(x, state)
        out = self.drop(out)
        # The head sees the conditions and their per-position copies as they are (the
        # tail of the input), next to the LSTM's output.
        head = torch.cat([out, x[..., -(CONDITION_INPUTS + BY_POSITION) :]], dim=-1)
        return self.classes(head), out, state

    def velocities(self, hidden: torch.Tensor, struck: torch.Tensor) -> torch.Tensor:
        """Velocities 0..1 of each drum, given the hidden output and which drums are struck."""
        return torch.sigmoid(self.velocity(torch.cat([hidden, struck.float()], dim=-1)))


def by_position(conditions: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
    """``[..., 25]`` conditions and ``[..., 16]`` one-hot positions -> ``[..., 7 * 16]``:
    each local condition times each position (condition-major)."""
    local = conditions[..., list(LOCAL_CONDITIONS)]
    return (local.unsqueeze(-1) * position.unsqueeze(-2)).flatten(-2)
