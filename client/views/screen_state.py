"""What the game screens show, as one plain value read each frame, and the pure sums behind it.

A shell (the client app) builds a :class:`ScreenState` from the room mirror, the
synced clock, the pose tracker and the player's seed grid; the play and spectate
views read it and draw. Everything here is pure: the time is an argument.

The vibe meter: how much the room is grooving, 0..1, from three parts, each 0..1:

- **syncopation**: the appeal of the stacked groove's syncopation. Witek et al. (2014,
  "Syncopation, body-movement and pleasure in groove music", PLoS ONE 9(4) e94446)
  found an inverted U: listeners most want to move at medium syncopation, less with
  none and less again when it is so dense that the beat gets lost. The stacked bar's
  syncopation ``s`` is :func:`models.controls.syncopation` (their per-voice
  Longuet-Higgins & Lee measure, 0..1); its appeal is the parabola
  ``max(0, 1 - ((s - 0.25) / 0.25) ** 2)``: 1 at 0.25, the middle of the band real
  drumming keeps to (0..0.48 in the Groove MIDI Dataset, see :mod:`shared.pose_mapping`),
  0 at no syncopation and at 0.5. A plain backbeat reads 0.056 (appeal 0.40), a
  funk bar with off-beat kicks and ghost snares 0.28 (appeal 0.99).
- **interlock**: layers that fill each other's gaps rather than double each other.
  Each hit of the bar scores 1 on a step where every other layer is silent, 1/2 on a
  step where another layer sounds a different drum, and 0 where another layer strikes
  the same drum; interlock is the mean over all hits. With fewer than two layers
  sounding there is nothing to interlock with and it reads 1/2.
- **moving**: the mean of :func:`moving` over the room's players (not AI band members
  or spectators): how hard everyone dances, on the curve the groove mapping hears.

``vibe = 0.25 syncopation + 0.25 interlock + 0.5 moving``: the dancing is the game,
so it carries half; the two measures of the groove share the other half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from client.bot_pose import QUANT
from client.pose_tracker import TrackedPose
from client.room_state import RoomState
from models.controls import syncopation as bar_syncopation
from shared.codec import LANDMARK_COUNT, MAX_ID
from shared.drums import DRUM_COUNT, GRID_STEPS, STEPS_PER_BAR, STEPS_PER_BEAT, Step
from shared.loop_stack import LoopStack
from shared.messages import Layer, PlayerInfo, Pose, Role, Seed, SeedSource
from shared.pose_mapping import ENERGY_FULL, ENERGY_STILL, FEATURE_INDEX, clean_features, ramp
from shared.tempo import MAX_BPM, MIN_BPM, TempoMap

EMPTY_GRID: tuple[int, ...] = (0,) * GRID_STEPS
PULSE_POWER = 3  # the beat pulse falls as (1 - phase) ** 3: a sharp attack, a long tail
FLASH_SECONDS = 1.0  # how long a player's row glows after their move changed the groove
TEMPO_NUDGE = 5.0  # BPM per press of + or -
DICE_DENSITY = 0.5  # share of steps with hits that a dice roll asks for
# Steps read back from a time may land a hair below a whole step (float rounding):
# such a time still counts as that step, as the scheduler counts it.
_EPSILON = 1e-9

SYNCOPATION_SWEET = 0.25  # where the inverted U peaks (module docstring)
SYNCOPATION_REACH = 0.25  # how far either side it falls to 0
INTERLOCK_ALONE = 0.5  # fewer than two layers: neither interlocking nor doubling
GAP_FILL, ALONGSIDE, DOUBLED = 1.0, 0.5, 0.0  # what one hit scores for interlock
VIBE_WEIGHTS = (0.25, 0.25, 0.5)  # syncopation, interlock, moving


@dataclass
class ScreenState:
    """Everything a game screen shows, as the shell saw it this frame."""

    room: RoomState
    server_time: float | None = None  # now on the room's clock; None before the clock syncs
    own_pose: TrackedPose | None = None  # this machine's tracked body, if it has a camera
    grid: tuple[int, ...] = EMPTY_GRID  # the hand-edited seed grid: 16 9-bit drum masks
    round_trip_ms: float | None = None  # the connection's round trip
    uncertainty_ms: float | None = None  # how far the synced clock may be off
    changed_at: dict[int, float] = field(default_factory=dict)  # player -> server time
    message: str = ""  # a status line


@dataclass(frozen=True, slots=True)
class Vibe:
    """The vibe meter's value and its three parts, each 0..1 (module docstring)."""

    score: float
    syncopation: float  # the appeal of the groove's syncopation (the inverted U)
    interlock: float
    moving: float
    raw_syncopation: float  # the stacked bar's syncopation itself, before the U


@dataclass(frozen=True, slots=True)
class Position:
    """Where the music is at a moment: what the screens' clocks show."""

    time: float  # server time
    step: int  # global step, from bar 0
    bar: int
    step_in_bar: int  # 0..15: the playhead's column
    beat_in_bar: int  # 0..3
    pulse: float  # :func:`beat_pulse`
    bpm: float


# -- time ------------------------------------------------------------------------


def current_step(tempo: TempoMap, t: float) -> int:
    """The global 16th step sounding at server time ``t`` (step 0 starts bar 0)."""
    return math.floor(tempo.step_at(t) + _EPSILON)


def current_bar(tempo: TempoMap, t: float) -> int:
    return current_step(tempo, t) // STEPS_PER_BAR


def beat_pulse(tempo: TempoMap, t: float) -> float:
    """1 on each beat, falling as ``(1 - phase) ** 3`` to 0 at the next one."""
    beat = tempo.beat_at(t)
    phase = beat - math.floor(beat + _EPSILON)
    if phase < _EPSILON:  # a beat's own time, read back a hair either side of it
        phase = 0.0
    return float((1.0 - phase) ** PULSE_POWER)


def position(tempo: TempoMap | None, t: float | None) -> Position | None:
    """Where the music is at server time ``t``; None before the room has a tempo or the
    clock is synced."""
    if tempo is None or t is None:
        return None
    step = current_step(tempo, t)
    bar, in_bar = divmod(step, STEPS_PER_BAR)
    beat = in_bar // STEPS_PER_BEAT
    return Position(t, step, bar, in_bar, beat, beat_pulse(tempo, t), tempo.bpm_at(t))


def flash(changed_at: dict[int, float], player: int, t: float | None) -> float:
    """How bright a player's highlight is: 1 when their move changed the groove,
    falling linearly to 0 after :data:`FLASH_SECONDS` (0 before it, or with no time)."""
    when = changed_at.get(player)
    if when is None or t is None or t < when:
        return 0.0
    return max(0.0, 1.0 - (t - when) / FLASH_SECONDS)


def nudge_bpm(bpm: float, delta: float) -> float:
    """``bpm + delta``, kept within the tempo map's range."""
    return min(MAX_BPM, max(MIN_BPM, bpm + delta))


# -- the grid --------------------------------------------------------------------


def layer_row(layer: Layer, step: int) -> Step:
    """The velocities ``layer`` plays at global ``step``: it loops from its own bar."""
    return layer.pattern[(step - layer.starts_at_bar * STEPS_PER_BAR) % len(layer.pattern)]


def cells(loops: LoopStack, bar: int, players: Sequence[int]) -> list[list[list[int]]]:
    """``[16 steps][9 drums]``: the owners whose layer strikes that drum on that step of
    ``bar``, in the order of ``players``; owners not among them follow, by id."""
    playing = loops.layers_at(bar)
    known = [p for p in dict.fromkeys(players) if p in playing]
    order = known + sorted(o for o in playing if o not in known)
    grid: list[list[list[int]]] = [[[] for _ in range(DRUM_COUNT)] for _ in range(STEPS_PER_BAR)]
    for owner in order:
        for i in range(STEPS_PER_BAR):
            row = layer_row(playing[owner], bar * STEPS_PER_BAR + i)
            for drum, velocity in enumerate(row):
                if velocity:
                    grid[i][drum].append(owner)
    return grid


def upcoming_line(room: RoomState, bar: int) -> str:
    """Which new layers wait for a later bar than ``bar`` (bars counted from 1, as a
    musician counts): what the groove is about to become."""
    pending = room.loops.pending(bar)
    if not pending:
        return ""
    first = pending[0].starts_at_bar
    names = [
        room.players[lay.owner].name if lay.owner in room.players else f"#{lay.owner}"
        for lay in pending
        if lay.starts_at_bar == first
    ]
    more = f" (+{len(pending) - len(names)} later)" if len(pending) > len(names) else ""
    return f"bar {first + 1}: new layer for {', '.join(names)}{more}"


def toggle(grid: Sequence[int], step: int, drum: int) -> tuple[int, ...]:
    """The grid with ``drum`` on ``step`` flipped."""
    if not 0 <= step < len(grid):
        raise ValueError(f"step must be in range 0..{len(grid) - 1}, got {step}")
    if not 0 <= drum < DRUM_COUNT:
        raise ValueError(f"drum must be in range 0..{DRUM_COUNT - 1}, got {drum}")
    return tuple(mask ^ (1 << drum) if i == step else mask for i, mask in enumerate(grid))


def grid_seed(grid: Sequence[int]) -> Seed:
    """The seed message that asks for a layer grown from ``grid``."""
    if len(grid) != GRID_STEPS:
        raise ValueError(f"grid must have {GRID_STEPS} steps, got {len(grid)}")
    return Seed(SeedSource.GRID, grid=tuple(grid))


def dice_seed(roll: int, density: float = DICE_DENSITY) -> Seed:
    """The seed message of a dice roll (any integer; the wire holds 0..2**31-1)."""
    return Seed(SeedSource.DICE, dice=roll % (MAX_ID + 1), density=density)


# -- players and bodies -------------------------------------------------------------


def players_in_order(room: RoomState) -> list[PlayerInfo]:
    """Everyone who plays a layer (players and AI band members), by id."""
    return [
        room.players[p] for p in sorted(room.players) if room.players[p].role is not Role.SPECTATOR
    ]


def moving(pose: Pose | TrackedPose | None) -> float:
    """0..1: how hard a body dances, from its energy feature, on the groove mapping's curve
    (``sqrt(ramp(energy, 0.25, 2.5))``: gentle dancing already shows)."""
    if pose is None:
        return 0.0
    energy = float(clean_features(pose.features)[FEATURE_INDEX["energy"]])
    return math.sqrt(ramp(energy, ENERGY_STILL, ENERGY_FULL))


def player_moving(room: RoomState, player: int, own: TrackedPose | None = None) -> float:
    """:func:`moving` of a player's latest pose; this machine's own body (``own``) for
    the player it is, whose poses the server does not echo back."""
    if own is not None and room.me is not None and player == room.me.id:
        return moving(own)
    return moving(room.poses.get(player))


def dequantize(landmarks: Sequence[int]) -> np.ndarray | None:
    """``[33, 4]`` x, y, z (0), visibility as floats 0..1 from a pose message's
    landmarks (33 x, y, visibility, each 0..65535); None when it carries none."""
    if not landmarks:
        return None
    if len(landmarks) != LANDMARK_COUNT * 3:
        raise ValueError(f"landmarks must hold {LANDMARK_COUNT * 3} values, got {len(landmarks)}")
    values = np.asarray(landmarks, dtype=np.float64).reshape(LANDMARK_COUNT, 3) / QUANT
    points = np.zeros((LANDMARK_COUNT, 4))
    points[:, (0, 1, 3)] = values
    return points


# -- the vibe ----------------------------------------------------------------------


def syncopation_appeal(syncopation: float) -> float:
    """The inverted U over syncopation: 1 at the sweet spot, 0 at its reach either side."""
    return max(0.0, 1.0 - ((syncopation - SYNCOPATION_SWEET) / SYNCOPATION_REACH) ** 2)


def stacked(grid: Sequence[Sequence[Sequence[int]]]) -> np.ndarray:
    """``[16, 9]``: 1 where any layer strikes, 0 elsewhere, from :func:`cells`."""
    return np.array([[1.0 if owners else 0.0 for owners in step] for step in grid])


def interlock(grid: Sequence[Sequence[Sequence[int]]]) -> float:
    """How much the layers of a :func:`cells` grid fill each other's gaps (docstring)."""
    layers = {owner for step in grid for owners in step for owner in owners}
    if len(layers) < 2:
        return INTERLOCK_ALONE
    scores = []
    for step in grid:
        sounding = {owner for owners in step for owner in owners}
        for owners in step:
            for owner in owners:
                if len(owners) > 1:
                    scores.append(DOUBLED)
                elif sounding - {owner}:
                    scores.append(ALONGSIDE)
                else:
                    scores.append(GAP_FILL)
    return sum(scores) / len(scores)


def vibe(room: RoomState, t: float, own: TrackedPose | None = None) -> Vibe:
    """The room's vibe during the bar playing at server time ``t`` (module docstring).

    ``own``: this machine's tracked body, which counts for the player it is.
    """
    bar = current_bar(room.tempo, t) if room.tempo is not None else 0
    grid = cells(room.loops, bar, sorted(room.players))
    raw = float(bar_syncopation(stacked(grid)))
    dancers = [p.id for p in room.players.values() if p.role is Role.PLAYER]
    move = sum(player_moving(room, p, own) for p in dancers) / len(dancers) if dancers else 0.0
    parts = (syncopation_appeal(raw), interlock(grid), move)
    score = sum(w * v for w, v in zip(VIBE_WEIGHTS, parts, strict=True))
    return Vibe(score, *parts, raw_syncopation=raw)
