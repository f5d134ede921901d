"""The spectator screen, for a TV or a projector: everyone dancing, their layers, the vibe.

Every player side by side: their skeleton, drawn in their colour from the landmarks
their pose messages carry (no camera picture travels), their name and how hard they
move, and under it their own layer's step grid for the bar playing. On the right, a
big vibe meter and the whole stacked groove; on top, the tempo, bar and beat. No
editor, no buttons: a spectator changes nothing.

The view reads a :class:`ScreenState` each frame; it never touches the network or
the audio. Esc closes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import arcade

from client.views.drawing import (
    ACCENT,
    BACKGROUND,
    DIM,
    DRUM_LABELS,
    EMPTY,
    PANEL,
    TEXT,
    WHITE,
    Colour,
    ShapeBatch,
    TextCache,
    draw_beat_lamps,
    draw_playhead_marker,
    draw_skeleton,
    draw_step_grid,
    draw_vibe_meter,
    mix,
    rgb,
)
from client.views.screen_state import (
    ScreenState,
    cells,
    dequantize,
    flash,
    player_moving,
    players_in_order,
    position,
    upcoming_line,
    vibe,
)
from shared.messages import PlayerInfo, Role

WIDTH, HEIGHT = 1280, 720
MARGIN = 20
STAGE: Colour = (28, 28, 44)

DANCERS_BOX = arcade.LBWH(20, 20, 930, 600)  # every player's column
VIBE_BOX = arcade.LBWH(970, 287, 290, 333)
GROOVE_BOX = arcade.LBWH(986, 46, 258, 189)  # the whole stack, 16 x 9 cells
COLUMN_GAP = 16
MAX_STAGE_H = 330  # a skeleton's box is at most this tall (4:3)
NAME_H = 64  # the name and the moving bar under a stage
NAME_H_SMALL = 44  # the same in two rows
ROW_LIMIT = 4  # players side by side in one row; more stand in two
ROW_GAP = 16
MINI_ROW_H = 22  # a player's own grid: rows this tall


def column_layout(index: int, count: int) -> tuple[arcade.types.Rect, arcade.types.Rect]:
    """Where player ``index`` of ``count`` dances (a 4:3 box) and, under their name, where
    their own layer's grid goes. Up to :data:`ROW_LIMIT` players stand in one row, more
    in two; each player's box and grid are centred in their column."""
    rows = 1 if count <= ROW_LIMIT else 2
    per_row = math.ceil(max(1, count) / rows)
    row, column = divmod(index, per_row)
    in_row = min(per_row, count - row * per_row)
    row_h = (DANCERS_BOX.height - ROW_GAP * (rows - 1)) / rows
    width = DANCERS_BOX.width / per_row
    inner = width - COLUMN_GAP
    name_h = NAME_H if rows == 1 else NAME_H_SMALL
    # Grid cells about as tall as they are wide, the grid at most 40% of the column.
    grid_h = min(len(DRUM_LABELS) * min(MINI_ROW_H, inner / 16), 0.4 * (row_h - name_h))
    stage_h = min(inner * 3 / 4, MAX_STAGE_H, row_h - name_h - grid_h)
    stage_w = stage_h * 4 / 3
    grid_w = min(inner, max(stage_w, 16 * grid_h / len(DRUM_LABELS)))
    centre = DANCERS_BOX.left + (column + 0.5 + (per_row - in_row) / 2) * width
    row_top = DANCERS_BOX.top - row * (row_h + ROW_GAP)
    top = row_top - (row_h - stage_h - name_h - grid_h) / 2
    stage = arcade.LBWH(centre - stage_w / 2, top - stage_h, stage_w, stage_h)
    grid = arcade.LBWH(centre - grid_w / 2, stage.bottom - name_h - grid_h, grid_w, grid_h)
    return stage, grid


class SpectateView(arcade.View):
    def __init__(self, state: Callable[[], ScreenState]) -> None:
        super().__init__()
        self.state = state
        self._shapes = ShapeBatch()
        self._texts = TextCache()
        self._skeletons = ShapeBatch()  # drawn over the stages

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        if symbol == arcade.key.ESCAPE:
            self.window.close()

    def on_draw(self) -> None:
        state = self.state()
        room = state.room
        now = position(room.tempo, state.server_time)
        shapes, texts = self._shapes, self._texts
        self.clear(color=BACKGROUND)
        colours = {p.id: rgb(p.colour) for p in room.players.values()}
        bar = now.bar if now is not None else 0
        playhead = now.step_in_bar if now is not None else None

        # The header: the room, the tempo, the bar and its beats.
        title = texts.put("title", "PoseJam", MARGIN, HEIGHT - 52, 30, TEXT, bold=True)
        room_line = f"room {room.room}" if room.room else ""
        texts.put("room", room_line, MARGIN + title.content_width + 16, HEIGHT - 48, 18, DIM)
        texts.put("message", state.message, MARGIN, HEIGHT - 80, 12, DIM)
        number = f"{now.bpm:.0f}" if now is not None else "---"
        big = texts.put("bpm", number, 560, HEIGHT - 60, 44, TEXT, bold=True)
        texts.put("bpm-unit", "BPM", 560 + big.content_width + 10, HEIGHT - 58, 18, DIM, bold=True)
        if now is not None:
            draw_beat_lamps(shapes, 790, HEIGHT - 60, 34, now.beat_in_bar, now.pulse, ACCENT)
        else:
            draw_beat_lamps(shapes, 790, HEIGHT - 60, 34, None, 0.0, ACCENT)
        texts.put(
            "bar", f"BAR {bar + 1}" if now is not None else "waiting for the room",
            WIDTH - MARGIN, HEIGHT - 56, 26, TEXT, "right", True,
        )  # fmt: skip

        order = players_in_order(room)
        grid = cells(room.loops, bar, [p.id for p in order])
        self._draw_dancers(state, order, grid, colours, playhead)

        if now is not None:
            v = vibe(room, now.time, state.own_pose)
            parts = [
                ("syncopation", v.syncopation),
                ("interlock", v.interlock),
                ("moving", v.moving),
            ]
            draw_vibe_meter(shapes, texts, "vibe", VIBE_BOX, parts, v.score, scale=1.25)
        else:
            shapes.add(VIBE_BOX.left, VIBE_BOX.right, VIBE_BOX.bottom, VIBE_BOX.top, PANEL)
            texts.put(
                "vibe-title", "VIBE", VIBE_BOX.left + 20, VIBE_BOX.top - 38, 18, DIM, bold=True
            )
        shapes.add(VIBE_BOX.left, VIBE_BOX.right, 20, GROOVE_BOX.top + 36, PANEL)
        texts.put("groove", "THE GROOVE", GROOVE_BOX.left, GROOVE_BOX.top + 14, 13, DIM, bold=True)
        draw_step_grid(shapes, GROOVE_BOX, grid, colours, playhead)
        texts.put(
            "next",
            upcoming_line(room, bar) if now is not None else "",
            GROOVE_BOX.left,
            24,
            10,
            DIM,
        )
        shapes.draw()
        texts.draw()

    def _draw_dancers(
        self,
        state: ScreenState,
        order: list[PlayerInfo],
        grid: list[list[list[int]]],
        colours: dict[int, Colour],
        playhead: int | None,
    ) -> None:
        shapes, texts, room = self._shapes, self._texts, state.room
        if not order:
            texts.put(
                "nobody", "waiting for players to join", DANCERS_BOX.center_x,
                DANCERS_BOX.center_y, 22, DIM, "center",
            )  # fmt: skip
            return
        count = len(order)
        size = 20 if count <= 3 else 16 if count <= ROW_LIMIT else 14
        name_h = NAME_H if count <= ROW_LIMIT else NAME_H_SMALL
        skeletons = self._skeletons
        for index, player in enumerate(order):
            colour = colours[player.id]
            box, column = column_layout(index, count)
            lit = flash(state.changed_at, player.id, state.server_time)
            border = 3 + 5 * lit
            shapes.add(
                box.left - border, box.right + border, box.bottom - border, box.top + border,
                mix(mix(PANEL, colour, 0.4), WHITE, 0.6 * lit),
            )  # fmt: skip
            shapes.add(box.left, box.right, box.bottom, box.top, STAGE)
            floor = box.bottom + box.height * 0.1
            shapes.add(box.left, box.right, box.bottom, floor, mix(STAGE, colour, 0.12))
            pose = room.poses.get(player.id)
            landmarks = dequantize(pose.landmarks) if pose is not None else None
            if room.me is not None and player.id == room.me.id and state.own_pose is not None:
                landmarks = state.own_pose.landmarks
            if landmarks is not None:
                thick = max(2.5, box.height / 45)
                size_of = (box.left, box.bottom, box.width, box.height)
                draw_skeleton(
                    skeletons, landmarks, *size_of, bone=colour, thickness=thick, stylized=True
                )
            else:
                note = "AI band" if player.role is Role.AI else "no body in view"
                note_size = min(size, box.width / 12)
                texts.put(
                    f"note-{player.id}", note, box.center_x, box.center_y, note_size, DIM, "center"
                )
            # The name, how hard they move, and their own layer.
            name_y = box.bottom - 0.47 * name_h
            texts.put(
                f"name-{player.id}", player.name, column.left, name_y, size, colour, bold=True
            )
            if player.role is Role.PLAYER:
                moving = player_moving(room, player.id, state.own_pose)
                bar_h = name_h / 8
                bar_y = box.bottom - 0.75 * name_h
                shapes.bar(column.left, bar_y, column.width, bar_h, moving, colour, EMPTY)
            draw_step_grid(shapes, column, grid, colours, playhead, only=player.id, gap=2)
            draw_playhead_marker(shapes, column, playhead, 3)
        shapes.draw()  # the stages first, then the bodies on them
        skeletons.draw()
