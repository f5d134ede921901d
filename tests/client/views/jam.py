"""A hand-made room for the view tests: three players with layers, dancing bodies, a tempo."""

from __future__ import annotations

import arcade
import numpy as np

from client.bot_pose import quantize
from client.demo_dancer import landmarks_at
from client.pose_tracker import TrackedPose
from client.room_state import RoomState
from client.views.screen_state import ScreenState
from shared.drums import Drum, grid_to_pattern
from shared.messages import Layer, PlayerInfo, Pose, Role, Snapshot, Welcome
from shared.tempo import TempoMap

ANN = PlayerInfo(1, "Ann", Role.PLAYER, 0xFF5A5F)
BOB = PlayerInfo(2, "Bob", Role.PLAYER, 0x3EC1D3)  # this screen's player
CAT = PlayerInfo(3, "Cat", Role.PLAYER, 0xFFC145)
EVE = PlayerInfo(4, "Eve", Role.SPECTATOR, 0x9AA0A6)
START = 100.0  # server time of bar 0
BPM = 120.0  # a step is 0.125 s, a bar 2 s
BAR = 4  # the bar the screens show
PLAYHEAD_STEP = 6  # the step of it sounding

# Each player's one-bar grid, as steps -> drums: Ann kick and snare, Bob hats, Cat
# toms and a crash. Step 0's kick is Ann's and Cat's both; step 6 is under the playhead.
KICK, SNARE, HAT, OPEN = Drum.KICK, Drum.SNARE, Drum.CLOSED_HAT, Drum.OPEN_HAT
HITS: dict[int, dict[int, tuple[Drum, ...]]] = {
    ANN.id: {0: (KICK,), 4: (SNARE,), 8: (KICK,), 10: (KICK,), 12: (SNARE,)},
    BOB.id: {**{s: (HAT,) for s in range(0, 16, 2)}, 14: (OPEN,)},
    CAT.id: {0: (KICK, Drum.CRASH), 3: (Drum.LOW_TOM,), 7: (Drum.MID_TOM,), 11: (Drum.HIGH_TOM,)},
}
DANCE_TIMES = {ANN.id: 3.0, BOB.id: 6.0, CAT.id: 9.0}  # where in its dance each pose was taken
ENERGY = {ANN.id: 2.0, BOB.id: 1.0, CAT.id: 0.5}  # Ann dances hard, Cat gently
OWN_GRID = (1, 0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 2 | 256, 0, 0, 0)  # Bob's seed grid


def grid_of(hits: dict[int, tuple[Drum, ...]]) -> tuple[int, ...]:
    return tuple(sum(1 << d for d in hits.get(step, ())) for step in range(16))


def features(energy: float) -> tuple[float, ...]:
    return (1.0, energy) + (0.0,) * 10


def pose(player: int, t: float, energy: float) -> Pose:
    """A relayed pose of the demo dancer ``t`` seconds into its dance."""
    body = [(float(x), float(y), float(v)) for x, y, _, v in landmarks_at(t)]
    return Pose(0.0, features(energy), quantize(body), player)


def own_pose(image: np.ndarray | None = None) -> TrackedPose:
    return TrackedPose(5.0, 10, 640, 480, landmarks_at(5.0), np.array(features(1.5)), image, 0.01)


def room() -> RoomState:
    state = RoomState()
    state.apply(Welcome(BOB, "JAMS", ANN.id))
    layers = tuple(
        Layer(p, grid_to_pattern(grid_of(hits)), 2 if p == CAT.id else 0, 1)
        for p, hits in HITS.items()
    )
    tempo = TempoMap.start(START, BPM)
    state.apply(Snapshot("JAMS", ANN.id, (ANN, BOB, CAT, EVE), layers, tempo.segments, START))
    for player in (ANN.id, CAT.id):  # Bob's own poses are not echoed back to him
        state.apply(pose(player, DANCE_TIMES[player], ENERGY[player]))
    return state


def now() -> float:
    """A moment just inside step PLAYHEAD_STEP of bar BAR."""
    return START + BAR * 2.0 + PLAYHEAD_STEP * 0.125 + 0.01


def jam(**changes: object) -> ScreenState:
    state = ScreenState(
        room(),
        now(),
        own_pose(),
        OWN_GRID,
        round_trip_ms=12.3,
        uncertainty_ms=0.4,
        changed_at={CAT.id: now() - 0.3},
        message="connected to JAMS",
    )
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def rgb(colour: int) -> tuple[int, int, int]:
    return (colour >> 16 & 0xFF, colour >> 8 & 0xFF, colour & 0xFF)


def screenshot(view: arcade.View) -> np.ndarray:
    """The view drawn once, as ``[720, 1280, 3]`` RGB with row 0 at the top."""
    view.window.show_view(view)
    view.on_draw()
    return np.asarray(arcade.get_image().convert("RGB")).astype(int)


def pixel(image: np.ndarray, x: float, y: float) -> tuple[int, int, int]:
    """The colour at screen point (x, y), y up as arcade draws."""
    r, g, b = image[image.shape[0] - 1 - int(y), int(x)]
    return (int(r), int(g), int(b))


def near(actual: tuple[int, int, int], expected: tuple[int, ...], tolerance: int = 3) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def count(region: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    return int((np.abs(region - np.array(colour)) <= tolerance).all(axis=-1).sum())


def region(image: np.ndarray, rect: arcade.types.Rect) -> np.ndarray:
    """The pixels inside a screen rectangle (y up)."""
    height = image.shape[0]
    top, bottom = height - int(rect.top), height - int(rect.bottom)
    return image[top:bottom, int(rect.left) : int(rect.right)]
