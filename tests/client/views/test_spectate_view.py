"""The spectator screen, drawn off-screen: every body from its pose messages, every layer."""

from __future__ import annotations

from collections.abc import Iterator

import arcade
import numpy as np
import pytest

from client.demo_dancer import landmarks_at
from client.room_state import RoomState
from client.views import spectate
from client.views.drawing import (
    ACCENT,
    EMPTY,
    EMPTY_BEAT,
    PANEL,
    PLAYHEAD_CELL,
    PLAYHEAD_LIFT,
    WHITE,
    cell_rect,
    mix,
    vibe_colour,
)
from client.views.screen_state import ScreenState, vibe
from client.views.spectate import SpectateView, column_layout
from shared.drums import Drum, grid_to_pattern
from shared.messages import Join, Layer, PlayerInfo, Role
from tests.client.views.jam import (
    ANN,
    BOB,
    CAT,
    DANCE_TIMES,
    ENERGY,
    EVE,
    HITS,
    PLAYHEAD_STEP,
    count,
    grid_of,
    jam,
    near,
    own_pose,
    pixel,
    pose,
    region,
    rgb,
    screenshot,
)

PLAYERS = (ANN, BOB, CAT)


@pytest.fixture(scope="module")
def window() -> Iterator[arcade.Window]:
    window = arcade.Window(spectate.WIDTH, spectate.HEIGHT, "PoseJam spectate test")
    yield window
    window.close()


def watching() -> ScreenState:
    """The jam as a spectator's screen sees it: Bob's body arrives as pose messages."""
    state = jam(own_pose=None)
    state.room.me = EVE
    state.room.apply(pose(BOB.id, DANCE_TIMES[BOB.id], ENERGY[BOB.id]))
    return state


def expected_cell(owners: list[int], step: int) -> list[tuple[int, int, int]]:
    """The colours of a cell's strips, left to right."""
    if not owners:
        return [PLAYHEAD_CELL if step == PLAYHEAD_STEP else EMPTY_BEAT if step % 4 == 0 else EMPTY]
    colours = [rgb(next(p.colour for p in PLAYERS if p.id == o)) for o in owners]
    return [mix(c, WHITE, PLAYHEAD_LIFT) if step == PLAYHEAD_STEP else c for c in colours]


def check_grid(image: np.ndarray, area: arcade.types.Rect, players: list[int]) -> None:
    for step in range(16):
        for drum in range(9):
            rect = cell_rect(area, step, drum)
            owners = [p for p in players if drum in HITS[p].get(step, ())]
            strips = expected_cell(owners, step)
            share = rect.width / len(strips)
            for k, want in enumerate(strips):
                got = pixel(image, rect.left + (k + 0.5) * share, rect.center_y)
                assert near(got, want), (area, step, drum, got, want)


def test_every_player_dances_in_their_colour_side_by_side(window: arcade.Window) -> None:
    state = watching()
    image = screenshot(SpectateView(lambda: state))
    assert image.shape == (spectate.HEIGHT, spectate.WIDTH, 3)
    for index, player in enumerate(PLAYERS):
        stage, _ = column_layout(index, len(PLAYERS))
        pixels = region(image, stage)
        assert count(pixels, rgb(player.colour), tolerance=20) > 1500, player.name
        for other in PLAYERS:
            if other != player:
                assert count(pixels, rgb(other.colour), tolerance=20) == 0, (
                    player.name,
                    other.name,
                )
        # The head sits where the dancer's nose was when the pose was sent.
        x, y = landmarks_at(DANCE_TIMES[player.id])[0, :2]
        nose = (stage.left + x * stage.width, stage.bottom + (1 - y) * stage.height)
        assert near(pixel(image, *nose), rgb(player.colour)), player.name
    lefts = [column_layout(i, 3)[0].left for i in range(3)]
    assert lefts == sorted(lefts) and lefts[1] - lefts[0] > column_layout(0, 3)[0].width


def test_each_player_shows_their_own_layer(window: arcade.Window) -> None:
    image = screenshot(SpectateView(watching))
    for index, player in enumerate(PLAYERS):
        _, area = column_layout(index, len(PLAYERS))
        check_grid(image, area, [player.id])


def test_the_whole_groove_is_stacked_beside_the_vibe(window: arcade.Window) -> None:
    state = watching()
    image = screenshot(SpectateView(lambda: state))
    check_grid(image, spectate.GROOVE_BOX, [p.id for p in PLAYERS])
    assert state.server_time is not None
    score = vibe(state.room, state.server_time).score
    scale = 1.25
    left = spectate.VIBE_BOX.left + 16 * scale
    width = spectate.VIBE_BOX.width - 32 * scale
    y = spectate.VIBE_BOX.top - 16 * scale - 108 * scale + 15
    assert near(pixel(image, left + 4, y), vibe_colour(score))
    assert near(pixel(image, left + width * score + 8, y), EMPTY)


def test_a_fresh_move_lights_its_players_frame(window: arcade.Window) -> None:
    image = screenshot(SpectateView(watching))
    frames = {}
    for index, player in enumerate(PLAYERS):
        stage, _ = column_layout(index, len(PLAYERS))
        frames[player.id] = pixel(image, stage.left - 2, stage.center_y)
    lit = 1.0 - 0.3
    assert near(frames[CAT.id], mix(mix(PANEL, rgb(CAT.colour), 0.4), WHITE, 0.6 * lit))
    assert near(frames[ANN.id], mix(PANEL, rgb(ANN.colour), 0.4))


def test_no_camera_and_no_editor_on_a_tv(window: arcade.Window) -> None:
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[...] = (200, 90, 30)
    state = watching()
    state.own_pose = own_pose(frame)
    image = screenshot(SpectateView(lambda: state))
    assert count(image, (200, 90, 30), tolerance=6) == 0
    bottom_left = region(image, arcade.LBWH(0, 0, 420, 80))
    assert count(bottom_left, ACCENT, tolerance=6) == 0  # no dice button


def test_an_ai_band_member_has_a_layer_and_no_body(window: arcade.Window) -> None:
    band = PlayerInfo(5, "Band", Role.AI, 0x7BD389)
    state = watching()
    state.room.apply(Join(band))
    state.room.loops.schedule(Layer(band.id, grid_to_pattern(grid_of({1: (Drum.RIDE,)})), 0, 1))
    image = screenshot(SpectateView(lambda: state))
    stage, grid = column_layout(3, 4)
    assert count(region(image, stage), rgb(band.colour), tolerance=12) == 0
    ride = cell_rect(grid, 1, Drum.RIDE)
    assert near(pixel(image, ride.center_x, ride.center_y), rgb(band.colour))


def test_an_empty_room_waits(window: arcade.Window) -> None:
    image = screenshot(SpectateView(lambda: ScreenState(RoomState())))
    assert near(pixel(image, spectate.VIBE_BOX.left + 4, spectate.VIBE_BOX.bottom + 4), PANEL)
    for step in range(16):
        rect = cell_rect(spectate.GROOVE_BOX, step, 0)
        assert near(
            pixel(image, rect.center_x, rect.center_y), EMPTY_BEAT if step % 4 == 0 else EMPTY
        )


def test_escape_closes_the_tv(window: arcade.Window, monkeypatch: pytest.MonkeyPatch) -> None:
    view = SpectateView(watching)
    window.show_view(view)
    closed: list[bool] = []
    monkeypatch.setattr(window, "close", lambda: closed.append(True))
    view.on_key_press(arcade.key.SPACE, 0)
    view.on_key_press(arcade.key.ESCAPE, 0)
    assert closed == [True]
