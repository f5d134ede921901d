"""The play screen, drawn off-screen from a hand-made room, and its clicks and keys."""

from __future__ import annotations

import random
from collections.abc import Iterator

import arcade
import numpy as np
import pytest

from client.room_state import RoomState
from client.views import play
from client.views.drawing import (
    ACCENT,
    EMPTY,
    EMPTY_BEAT,
    PANEL,
    PLAYHEAD,
    PLAYHEAD_CELL,
    PLAYHEAD_LIFT,
    WHITE,
    cell_rect,
    mix,
    vibe_colour,
)
from client.views.play import PlayView
from client.views.screen_state import ScreenState, dice_seed, grid_seed, vibe
from shared.messages import Seed
from tests.client.views.jam import (
    ANN,
    BOB,
    CAT,
    HITS,
    OWN_GRID,
    PLAYHEAD_STEP,
    count,
    jam,
    near,
    now,
    own_pose,
    pixel,
    region,
    rgb,
    screenshot,
)


@pytest.fixture(scope="module")
def window() -> Iterator[arcade.Window]:
    window = arcade.Window(play.WIDTH, play.HEIGHT, "PoseJam play test")
    yield window
    window.close()


def view_of(state: ScreenState, **callbacks: object) -> tuple[PlayView, list[object]]:
    """A view of ``state`` whose callbacks note what they are given."""
    calls: list[object] = []
    view = PlayView(
        lambda: state,
        on_seed=calls.append,
        on_tempo=calls.append,
        **callbacks,  # type: ignore[arg-type]
    )
    return view, calls


def test_the_groove_shows_each_players_colour_where_their_layer_hits(
    window: arcade.Window,
) -> None:
    image = screenshot(view_of(jam())[0])
    assert image.shape == (play.HEIGHT, play.WIDTH, 3)
    order = [ANN.id, BOB.id, CAT.id]
    colours = {ANN.id: rgb(ANN.colour), BOB.id: rgb(BOB.colour), CAT.id: rgb(CAT.colour)}
    split = 0
    for step in range(16):
        for drum in range(9):
            rect = cell_rect(play.GRID_BOX, step, drum, gap=3)
            owners = [p for p in order if drum in HITS[p].get(step, ())]
            if not owners:
                want = (
                    PLAYHEAD_CELL
                    if step == PLAYHEAD_STEP
                    else EMPTY_BEAT
                    if step % 4 == 0
                    else EMPTY
                )
                assert near(pixel(image, rect.center_x, rect.center_y), want), (step, drum)
                continue
            share = rect.width / len(owners)
            split += len(owners) > 1
            for k, owner in enumerate(owners):
                want = colours[owner]
                if step == PLAYHEAD_STEP:
                    want = mix(want, WHITE, PLAYHEAD_LIFT)
                got = pixel(image, rect.left + (k + 0.5) * share, rect.center_y)
                assert near(got, want), (step, drum, owner, got)
    assert split == 1  # step 0's kick: Ann's and Cat's, side by side


def test_the_playhead_marks_the_step_sounding(window: arcade.Window) -> None:
    image = screenshot(view_of(jam())[0])
    above = play.GRID_BOX.top + 6
    for step in range(16):
        x = cell_rect(play.GRID_BOX, step, 0).center_x
        assert near(pixel(image, x, above), PLAYHEAD) == (step == PLAYHEAD_STEP), step
    later = jam(server_time=now() + 0.125 * 3)  # three steps on
    image = screenshot(view_of(later)[0])
    assert near(
        pixel(image, cell_rect(play.GRID_BOX, PLAYHEAD_STEP + 3, 0).center_x, above), PLAYHEAD
    )


def test_the_player_dances_on_the_stage_in_their_colour(window: arcade.Window) -> None:
    image = screenshot(view_of(jam())[0])
    stage = region(image, play.STAGE_BOX)
    body = count(stage, rgb(BOB.colour), tolerance=20)
    assert body > 3000
    columns = np.nonzero((np.abs(stage - np.array(rgb(BOB.colour))) <= 20).all(-1).any(0))[0]
    assert play.STAGE_BOX.width / 3 < columns.mean() < 2 * play.STAGE_BOX.width / 3
    assert count(stage, rgb(ANN.colour), tolerance=20) == 0  # only our own body here
    assert count(stage, play.STAGE, tolerance=4) > 0.3 * stage.shape[0] * stage.shape[1]
    nobody = screenshot(view_of(jam(own_pose=None))[0])
    assert count(region(nobody, play.STAGE_BOX), rgb(BOB.colour), tolerance=20) < 100


def test_a_camera_frame_fills_the_stage(window: arcade.Window) -> None:
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[...] = (200, 90, 30)
    image = screenshot(view_of(jam(own_pose=own_pose(frame)))[0])
    stage = region(image, play.STAGE_BOX)
    assert count(stage, (200, 90, 30), tolerance=6) > 0.7 * stage.shape[0] * stage.shape[1]
    assert count(stage, play.STAGE, tolerance=4) == 0


def test_the_seed_editor_and_its_buttons(window: arcade.Window) -> None:
    image = screenshot(view_of(jam())[0])
    for step in range(16):
        for drum in range(9):
            rect = cell_rect(play.EDITOR_BOX, step, drum)
            on = OWN_GRID[step] >> drum & 1
            want = rgb(BOB.colour) if on else EMPTY_BEAT if step % 4 == 0 else EMPTY
            assert near(pixel(image, rect.center_x, rect.center_y), want), (step, drum)
    dice, send = play.DICE_BUTTON, play.SEND_BUTTON
    assert near(pixel(image, dice.left + 5, dice.bottom + 5), ACCENT)
    assert near(pixel(image, send.left + 5, send.bottom + 5), rgb(BOB.colour))
    # Their labels are drawn on them, dark on bright.
    assert count(region(image, dice), play.BUTTON_TEXT, tolerance=40) > 100
    assert count(region(image, send), play.BUTTON_TEXT, tolerance=40) > 100


def test_a_player_whose_move_changed_the_groove_glows(window: arcade.Window) -> None:
    image = screenshot(view_of(jam())[0])
    x = play.PLAYERS_BOX.left + 9
    rows = {p: play.player_row_bottom(i) + 3 for i, p in enumerate((ANN.id, BOB.id, CAT.id))}
    lit = 1.0 - 0.3  # changed 0.3 s ago, of a one-second flash
    assert near(pixel(image, x, rows[CAT.id]), mix(PANEL, rgb(CAT.colour), 0.55 * lit))
    assert near(pixel(image, x, rows[ANN.id]), PANEL)
    calm = screenshot(view_of(jam(changed_at={}))[0])
    assert near(pixel(calm, x, rows[CAT.id]), PANEL)
    # Moving bars: Ann dances hard (energy 2 of 2.5), Cat gently (0.5).
    bar_left = play.PLAYERS_BOX.right - 126
    assert near(pixel(image, bar_left + 90, rows[ANN.id] + 8), rgb(ANN.colour))
    assert near(pixel(image, bar_left + 90, rows[CAT.id] + 8), EMPTY)


def test_the_vibe_meter_fills_to_the_rooms_vibe(window: arcade.Window) -> None:
    state = jam()
    image = screenshot(view_of(state)[0])
    assert state.server_time is not None
    score = vibe(state.room, state.server_time, state.own_pose).score
    assert 0.5 < score < 0.9
    left, width = play.VIBE_BOX.left + 16, play.VIBE_BOX.width - 32
    y = play.VIBE_BOX.top - 16 - 108 + 15
    assert near(pixel(image, left + 4, y), vibe_colour(score))
    assert near(pixel(image, left + width * score + 8, y), EMPTY)


def test_before_the_room_syncs_the_screen_still_draws(window: arcade.Window) -> None:
    image = screenshot(view_of(ScreenState(RoomState()))[0])
    above = play.GRID_BOX.top + 6
    for step in range(16):
        rect = cell_rect(play.GRID_BOX, step, 4, gap=3)
        assert near(
            pixel(image, rect.center_x, rect.center_y), EMPTY_BEAT if step % 4 == 0 else EMPTY
        )
        assert not near(pixel(image, rect.center_x, above), PLAYHEAD)


def test_clicks_toggle_the_editor_and_press_the_buttons(window: arcade.Window) -> None:
    edits: list[tuple[int, ...]] = []
    state = jam()
    view, calls = view_of(state, on_grid=edits.append, rng=random.Random(7))
    left = arcade.MOUSE_BUTTON_LEFT
    cell = cell_rect(play.EDITOR_BOX, 5, 8)  # step 5, ride
    view.on_mouse_press(cell.center_x, cell.center_y, left, 0)
    assert edits == [(*OWN_GRID[:5], 256, *OWN_GRID[6:])]
    cell = cell_rect(play.EDITOR_BOX, 0, 0)  # step 0, kick: on, so it goes off
    view.on_mouse_press(cell.left + 1, cell.bottom + 1, left, 0)
    assert edits[1] == (0, *OWN_GRID[1:])
    assert state.grid == OWN_GRID  # the shell owns it, through on_grid
    view.on_mouse_press(play.DICE_BUTTON.center_x, play.DICE_BUTTON.center_y, left, 0)
    view.on_mouse_press(play.SEND_BUTTON.center_x, play.SEND_BUTTON.center_y, left, 0)
    assert calls == [dice_seed(random.Random(7).getrandbits(31)), grid_seed(OWN_GRID)]
    view.on_mouse_press(
        play.DICE_BUTTON.center_x, play.DICE_BUTTON.center_y, arcade.MOUSE_BUTTON_RIGHT, 0
    )
    view.on_mouse_press(play.GRID_BOX.center_x, play.GRID_BOX.center_y, left, 0)  # the room's grid
    assert len(calls) == 2 and len(edits) == 2


def test_without_on_grid_a_click_edits_the_state_itself(window: arcade.Window) -> None:
    state = jam()
    view, calls = view_of(state)
    cell = cell_rect(play.EDITOR_BOX, 15, 2)
    view.on_mouse_press(cell.center_x, cell.center_y, arcade.MOUSE_BUTTON_LEFT, 0)
    assert state.grid == (*OWN_GRID[:15], 4)
    view.on_key_press(arcade.key.G, 0)
    assert calls == [grid_seed((*OWN_GRID[:15], 4))]
    image = screenshot(view)
    assert near(pixel(image, cell.center_x, cell.center_y), rgb(BOB.colour))


def test_keys_roll_send_and_nudge_the_tempo(
    window: arcade.Window, monkeypatch: pytest.MonkeyPatch
) -> None:
    view, calls = view_of(jam(), rng=random.Random(3))
    for key in (arcade.key.D, arcade.key.G, arcade.key.PLUS, arcade.key.EQUAL, arcade.key.MINUS):
        view.on_key_press(key, 0)
    assert calls == [
        dice_seed(random.Random(3).getrandbits(31)),
        grid_seed(OWN_GRID),
        125.0,
        125.0,
        115.0,
    ]
    assert isinstance(calls[0], Seed)
    silent = PlayView(lambda: ScreenState(RoomState()), on_seed=calls.append, on_tempo=calls.append)
    silent.on_key_press(arcade.key.PLUS, 0)  # no tempo yet: nothing to nudge
    no_tempo = PlayView(jam, on_seed=calls.append)
    no_tempo.on_key_press(arcade.key.PLUS, 0)
    assert len(calls) == 5
    closed: list[bool] = []
    window.show_view(view)
    monkeypatch.setattr(window, "close", lambda: closed.append(True))
    view.on_key_press(arcade.key.ESCAPE, 0)
    assert closed == [True]


def hosting(**changes: object) -> ScreenState:
    """The jam as Ann, who hosts it, sees it."""
    state = jam(**changes)
    state.room.me = ANN
    assert state.room.host == ANN.id
    return state


ROWS = {ANN.id: 0, BOB.id: 1, CAT.id: 2}


def test_the_host_sees_mute_and_remove_buttons_on_every_other_players_row(
    window: arcade.Window,
) -> None:
    noted: list[object] = []
    view, _ = view_of(hosting(), on_mute=lambda *a: noted.append(a), on_remove=noted.append)
    image = screenshot(view)
    for player, row in ROWS.items():
        mute, remove = play.mute_button(row), play.remove_button(row)
        shown = player != ANN.id  # not on the host's own row
        assert near(pixel(image, mute.left + 3, mute.bottom + 3), play.MUTE_BUTTON) == shown
        assert near(pixel(image, remove.left + 3, remove.bottom + 3), play.REMOVE_BUTTON) == shown
        if shown:  # labelled, dark on bright
            assert count(region(image, mute), play.BUTTON_TEXT, tolerance=40) > 10
            assert count(region(image, remove), play.BUTTON_TEXT, tolerance=40) > 10


def test_without_callbacks_or_as_a_guest_there_are_no_row_buttons(
    window: arcade.Window,
) -> None:
    def buttons(image: np.ndarray) -> int:
        mute, remove = play.mute_button(2), play.remove_button(2)
        return count(region(image, mute), play.MUTE_BUTTON) + count(
            region(image, remove), play.REMOVE_BUTTON
        )

    assert buttons(screenshot(view_of(hosting())[0])) == 0
    guest = jam()  # Bob, who does not host
    assert buttons(screenshot(view_of(guest, on_mute=print, on_remove=print)[0])) == 0
    assert buttons(screenshot(view_of(hosting(), on_mute=print, on_remove=print)[0])) > 1000


def test_clicks_on_the_row_buttons_mute_unmute_and_remove(window: arcade.Window) -> None:
    state = hosting()
    mutes: list[tuple[int, bool]] = []
    removes: list[int] = []
    view, calls = view_of(
        state, on_mute=lambda p, m: mutes.append((p, m)), on_remove=removes.append
    )
    left = arcade.MOUSE_BUTTON_LEFT
    cat, bob = ROWS[CAT.id], ROWS[BOB.id]
    view.on_mouse_press(play.mute_button(cat).center_x, play.mute_button(cat).center_y, left, 0)
    state.room.muted.add(CAT.id)  # the server said so
    view.on_mouse_press(play.mute_button(cat).left + 1, play.mute_button(cat).bottom + 1, left, 0)
    view.on_mouse_press(play.remove_button(bob).center_x, play.remove_button(bob).center_y, left, 0)
    own = play.mute_button(ROWS[ANN.id])  # the host's own row has no buttons
    view.on_mouse_press(own.center_x, own.center_y, left, 0)
    assert mutes == [(CAT.id, True), (CAT.id, False)]
    assert removes == [BOB.id]
    assert calls == []
    guest = jam()
    view, calls = view_of(
        guest, on_mute=lambda p, m: mutes.append((p, m)), on_remove=removes.append
    )
    view.on_mouse_press(play.mute_button(cat).center_x, play.mute_button(cat).center_y, left, 0)
    view.on_mouse_press(play.remove_button(bob).center_x, play.remove_button(bob).center_y, left, 0)
    assert len(mutes) == 2 and removes == [BOB.id] and calls == []


def test_a_muted_players_row_is_dimmed(window: arcade.Window) -> None:
    state = jam(changed_at={})
    state.room.muted.add(ANN.id)
    image = screenshot(view_of(state)[0])
    swatch_x = play.PLAYERS_BOX.left + 23
    row = {p: play.player_row_bottom(i) + 13 for p, i in ROWS.items()}
    assert near(pixel(image, swatch_x, row[ANN.id]), mix(PANEL, rgb(ANN.colour), play.MUTED_SHARE))
    assert near(pixel(image, swatch_x, row[CAT.id]), rgb(CAT.colour))
    # Ann dances hard: her moving bar is there, in the dimmed colour.
    bar_left = play.PLAYERS_BOX.right - 126
    dimmed = mix(PANEL, rgb(ANN.colour), play.MUTED_SHARE)
    assert near(pixel(image, bar_left + 40, play.player_row_bottom(0) + 11), dimmed)
    # Her name is drawn in the dim ink, not the bright one; Cat's is bright.
    name_box = arcade.LBWH(play.PLAYERS_BOX.left + 40, play.player_row_bottom(0) + 4, 150, 20)
    assert count(region(image, name_box), play.DIM, tolerance=30) > 20
    assert count(region(image, name_box), play.TEXT, tolerance=10) == 0
    cat_box = arcade.LBWH(play.PLAYERS_BOX.left + 40, play.player_row_bottom(2) + 4, 150, 20)
    assert count(region(image, cat_box), play.TEXT, tolerance=10) > 20
