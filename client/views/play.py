"""The play screen: your body, your seed grid, and the room's groove with everyone in it.

Left is the player's own side: the camera picture (or a dark stage for the demo
dancer) with their skeleton in their colour, and under it the seed grid they edit
by hand, with the dice and send buttons. Right is the room's side: the tempo, bar
and beat and the connection on top; the stacked step grid of the bar now playing,
each cell split in the colours of the players who strike it, the playhead on the
step sounding; the players, each with a "moving" bar and a glow for a second when
their move changed the groove; the vibe meter.

The view reads a :class:`ScreenState` each frame and calls back with what the player
asks for (a seed, a tempo, and for the host: muting or removing another player, with
the small buttons on that player's row); it never touches the network or the audio.
A muted player's row is dimmed and tagged "muted".

Keys: D rolls the dice, G sends the grid, + and - nudge the tempo by 5 BPM, Esc closes.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import arcade

from client.views.drawing import (
    ACCENT,
    BACKGROUND,
    DIM,
    DRUM_LABELS,
    EMPTY,
    EMPTY_BEAT,
    FAIR,
    GOOD,
    PANEL,
    POOR,
    TEXT,
    WHITE,
    CameraPicture,
    Colour,
    ShapeBatch,
    TextCache,
    cell_at,
    cell_rect,
    draw_beat_lamps,
    draw_playhead_marker,
    draw_skeleton,
    draw_step_grid,
    draw_vibe_meter,
    mix,
    rgb,
)
from client.views.screen_state import (
    TEMPO_NUDGE,
    Position,
    ScreenState,
    cells,
    dice_seed,
    flash,
    grid_seed,
    nudge_bpm,
    player_moving,
    players_in_order,
    position,
    toggle,
    upcoming_line,
    vibe,
)
from shared.drums import STEPS_PER_BAR, STEPS_PER_BEAT
from shared.messages import PlayerInfo, Role, Seed

WIDTH, HEIGHT = 1280, 720
MARGIN = 20

STAGE: Colour = (30, 30, 46)
FLOOR: Colour = (38, 38, 58)
SPOT: tuple[int, int, int, int] = (255, 255, 255, 12)
LIT_FLOOR: Colour = (56, 56, 80)
BUTTON_TEXT: Colour = (20, 20, 28)
SELF: Colour = ACCENT  # the player's colour before the server has given one

# Layout: the player's side (left) and the room's side (right).
STAGE_BOX = arcade.LBWH(20, 284, 480, 360)  # 4:3, as the camera sees
EDITOR_BOX = arcade.LBWH(84, 78, 416, 171)  # 16 steps x 9 drums of 26 x 19
DICE_BUTTON = arcade.LBWH(20, 20, 150, 44)
SEND_BUTTON = arcade.LBWH(182, 20, 190, 44)
GRID_BOX = arcade.LBWH(615, 372, 640, 252)  # 16 steps x 9 drums of 40 x 28
PLAYERS_BOX = arcade.LBWH(530, 20, 360, 310)
VIBE_BOX = arcade.LBWH(910, 20, 350, 310)
PLAYER_ROW = 30
MAX_ROWS = 8  # rows the players list has room for; more are counted in its footer
PRESS_SECONDS = 0.15  # how long a button shows pressed
# The host's buttons on another player's row, left of the moving bar.
MUTE_LEFT, MUTE_WIDTH = 238, 54  # from the players list's right edge
REMOVE_LEFT, REMOVE_WIDTH = 180, 50
ROW_BUTTON_HEIGHT = 20
MUTE_BUTTON: Colour = (120, 130, 170)
REMOVE_BUTTON: Colour = POOR
MUTED_SHARE = 0.35  # how much of a muted player's colour is left on their row

TEMPO_UP = (arcade.key.PLUS, arcade.key.EQUAL, arcade.key.NUM_ADD)
TEMPO_DOWN = (arcade.key.MINUS, arcade.key.UNDERSCORE, arcade.key.NUM_SUBTRACT)


def editor_cell_at(x: float, y: float) -> tuple[int, int] | None:
    """The (step, drum) of the seed editor under a point, if any."""
    return cell_at(EDITOR_BOX, x, y)


def player_row_bottom(index: int) -> float:
    """The bottom of row ``index`` of the players list."""
    return PLAYERS_BOX.top - 44 - PLAYER_ROW * (index + 1)


def mute_button(index: int) -> arcade.Rect:
    """The mute/unmute button on row ``index`` of the players list."""
    bottom = player_row_bottom(index) + 3
    return arcade.LBWH(PLAYERS_BOX.right - MUTE_LEFT, bottom, MUTE_WIDTH, ROW_BUTTON_HEIGHT)


def remove_button(index: int) -> arcade.Rect:
    """The remove button on row ``index`` of the players list."""
    bottom = player_row_bottom(index) + 3
    return arcade.LBWH(PLAYERS_BOX.right - REMOVE_LEFT, bottom, REMOVE_WIDTH, ROW_BUTTON_HEIGHT)


def signal_colour(round_trip_ms: float | None) -> Colour:
    """Green for a round trip a LAN gives, amber for a slow one, red for one that hurts."""
    if round_trip_ms is None:
        return DIM
    return GOOD if round_trip_ms < 30 else FAIR if round_trip_ms < 100 else POOR


class PlayView(arcade.View):
    def __init__(
        self,
        state: Callable[[], ScreenState],
        on_seed: Callable[[Seed], None],
        on_tempo: Callable[[float], None] | None = None,
        on_grid: Callable[[tuple[int, ...]], None] | None = None,
        rng: random.Random | None = None,
        on_mute: Callable[[int, bool], None] | None = None,
        on_remove: Callable[[int], None] | None = None,
    ) -> None:
        """``state`` is read every frame and on every input. A click on the editor gives
        ``on_grid`` the edited grid; without it the grid is written into the state
        read (for a shell that hands out one ScreenState). ``rng`` rolls the dice.
        When this player hosts, ``on_mute(player, muted)`` and ``on_remove(player)``
        get the clicks on the buttons of another player's row (none without them)."""
        super().__init__()
        self.state = state
        self.on_seed = on_seed
        self.on_tempo = on_tempo
        self.on_grid = on_grid
        self.on_mute = on_mute
        self.on_remove = on_remove
        self._rng = rng or random.Random()
        self._camera = CameraPicture("play-camera")
        self._shapes = ShapeBatch()
        self._stage = ShapeBatch()  # under the camera picture
        self._over_stage = ShapeBatch()  # over it: the frame and the skeleton
        self._texts = TextCache()
        self._pressed: dict[str, float] = {}  # button -> seconds it still shows pressed
        self._hover: tuple[float, float] = (-1.0, -1.0)

    # -- input -------------------------------------------------------------------

    def roll_dice(self) -> None:
        self._pressed["dice"] = PRESS_SECONDS
        self.on_seed(dice_seed(self._rng.getrandbits(31)))

    def send_grid(self) -> None:
        self._pressed["send"] = PRESS_SECONDS
        self.on_seed(grid_seed(self.state().grid))

    def nudge_tempo(self, sign: int) -> None:
        tempo = self.state().room.tempo
        if self.on_tempo is None or tempo is None:
            return
        # From the newest tempo asked for, so two quick presses make two steps.
        self.on_tempo(nudge_bpm(tempo.segments[-1].bpm, sign * TEMPO_NUDGE))

    def host_rows(self, state: ScreenState) -> list[tuple[int, PlayerInfo]]:
        """The rows (index, player) that get the host's buttons: every other player's
        shown, when this player hosts; none for anyone else."""
        room = state.room
        if room.me is None or room.me.id != room.host:
            return []
        shown = players_in_order(room)[:MAX_ROWS]
        return [(i, p) for i, p in enumerate(shown) if p.id != room.me.id]

    def _press_row_button(self, x: float, y: float) -> bool:
        """A click on a host's row button: call back, True; elsewhere False."""
        state = self.state()
        for index, player in self.host_rows(state):
            if self.on_mute is not None and mute_button(index).point_in_rect((x, y)):
                self._pressed[f"mute-{player.id}"] = PRESS_SECONDS
                self.on_mute(player.id, player.id not in state.room.muted)
                return True
            if self.on_remove is not None and remove_button(index).point_in_rect((x, y)):
                self._pressed[f"remove-{player.id}"] = PRESS_SECONDS
                self.on_remove(player.id)
                return True
        return False

    def on_mouse_press(self, x: float, y: float, button: int, modifiers: int) -> None:
        if button != arcade.MOUSE_BUTTON_LEFT:
            return
        if self._press_row_button(x, y):
            return
        if DICE_BUTTON.point_in_rect((x, y)):
            self.roll_dice()
        elif SEND_BUTTON.point_in_rect((x, y)):
            self.send_grid()
        elif (cell := editor_cell_at(x, y)) is not None:
            state = self.state()
            grid = toggle(state.grid, *cell)
            if self.on_grid is not None:
                self.on_grid(grid)
            else:
                state.grid = grid

    def on_mouse_motion(self, x: float, y: float, dx: float, dy: float) -> None:
        self._hover = (x, y)

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        if symbol == arcade.key.D:
            self.roll_dice()
        elif symbol == arcade.key.G:
            self.send_grid()
        elif symbol in TEMPO_UP:
            self.nudge_tempo(+1)
        elif symbol in TEMPO_DOWN:
            self.nudge_tempo(-1)
        elif symbol == arcade.key.ESCAPE:
            self.window.close()

    def on_update(self, delta_time: float) -> None:
        self._pressed = {k: v - delta_time for k, v in self._pressed.items() if v > delta_time}

    # -- drawing -----------------------------------------------------------------

    def on_draw(self) -> None:
        state = self.state()
        room = state.room
        now = position(room.tempo, state.server_time)
        colours = {p.id: rgb(p.colour) for p in room.players.values()}
        me = rgb(room.me.colour) if room.me is not None else SELF
        self.clear(color=BACKGROUND)
        self._draw_stage(state, me)
        shapes, texts = self._shapes, self._texts

        bar = now.bar if now is not None else 0
        playhead = now.step_in_bar if now is not None else None
        self._draw_header(state, now, me)

        order = players_in_order(room)
        grid = cells(room.loops, bar, [p.id for p in order])
        texts.put("groove", "THE GROOVE", 530, GRID_BOX.top + 14, 14, TEXT, bold=True)
        texts.put(
            "groove-next", upcoming_line(room, bar) if now is not None else "waiting for the room",
            GRID_BOX.right, GRID_BOX.top + 14, 13, DIM, anchor_x="right",
        )  # fmt: skip
        # The grid's frame breathes with the beat.
        glow = mix(BACKGROUND, me, 0.25 * now.pulse if now is not None else 0.0)
        shapes.add(
            GRID_BOX.left - 6, GRID_BOX.right + 6, GRID_BOX.bottom - 6, GRID_BOX.top + 6, glow
        )
        shapes.add(
            GRID_BOX.left - 3, GRID_BOX.right + 3, GRID_BOX.bottom - 3, GRID_BOX.top + 3, BACKGROUND
        )
        draw_step_grid(shapes, GRID_BOX, grid, colours, playhead, gap=3)
        draw_playhead_marker(shapes, GRID_BOX, playhead)
        for drum, label in enumerate(DRUM_LABELS):
            rect = cell_rect(GRID_BOX, 0, drum)
            texts.put(f"drum-{drum}", label, GRID_BOX.left - 12, rect.bottom + 6, 12, DIM, "right")
        for beat in range(STEPS_PER_BAR // STEPS_PER_BEAT):
            rect = cell_rect(GRID_BOX, beat * STEPS_PER_BEAT, 0)
            texts.put(f"beat-{beat}", str(beat + 1), rect.left + 4, GRID_BOX.bottom - 22, 12, DIM)

        self._draw_players(state, order, colours)
        if now is not None:
            v = vibe(room, now.time, state.own_pose)
            parts = [
                ("syncopation", v.syncopation),
                ("interlock", v.interlock),
                ("moving", v.moving),
            ]
            draw_vibe_meter(shapes, texts, "vibe", VIBE_BOX, parts, v.score)
        else:
            shapes.add(VIBE_BOX.left, VIBE_BOX.right, VIBE_BOX.bottom, VIBE_BOX.top, PANEL)
            texts.put(
                "vibe-title", "VIBE", VIBE_BOX.left + 16, VIBE_BOX.top - 30, 14, DIM, bold=True
            )
        self._draw_editor(state, me)
        shapes.draw()
        texts.draw()

    def _draw_stage(self, state: ScreenState, me: Colour) -> None:
        """The camera picture, or a dark stage, and the player's skeleton over it."""
        box = STAGE_BOX
        pose = state.own_pose
        stage, edge = self._stage, self._over_stage
        stage.add(box.left, box.right, box.bottom, box.top, STAGE)
        if pose is not None and pose.image is not None:
            stage.draw()
            self._camera.draw(self.window, pose.image, box)
        else:
            floor = box.bottom + box.height * 0.1
            stage.add(box.left, box.right, box.bottom, floor, FLOOR)
            # A spotlight from above onto the dancer's spot on the floor.
            x = box.center_x
            stage.quad(
                (x - 40, box.top), (x + 40, box.top), (x + 150, floor), (x - 150, floor), SPOT
            )
            stage.ellipse(x, floor, 150, 16, LIT_FLOOR, 32)
            stage.draw()
        flash_share = (
            flash(state.changed_at, state.room.me.id, state.server_time) if state.room.me else 0.0
        )
        border = mix(PANEL, me, 0.35 + 0.65 * flash_share)
        for rect in (
            (box.left - 3, box.right + 3, box.top, box.top + 3),
            (box.left - 3, box.right + 3, box.bottom - 3, box.bottom),
            (box.left - 3, box.left, box.bottom, box.top),
            (box.right, box.right + 3, box.bottom, box.top),
        ):
            edge.add(*rect, border)
        if pose is not None and pose.landmarks is not None:
            landmarks = pose.landmarks
            size = (box.left, box.bottom, box.width, box.height)
            draw_skeleton(edge, landmarks, *size, bone=me, thickness=6, stylized=True)
        edge.draw()
        if pose is None:
            line = "no camera: roll the dice (D) or edit your grid"
        elif pose.landmarks is None:
            line = "step into the picture"
        else:
            line = ""
        self._texts.put("stage", line, box.center_x, box.center_y, 15, DIM, "center")

    def _draw_header(self, state: ScreenState, now: Position | None, me: Colour) -> None:
        shapes, texts, room = self._shapes, self._texts, state.room
        title = texts.put("title", "PoseJam", MARGIN, HEIGHT - 42, 24, TEXT, bold=True)
        room_x = MARGIN + title.content_width + 14
        texts.put("room", f"room {room.room}" if room.room else "", room_x, HEIGHT - 40, 14, me)
        texts.put("message", state.message, MARGIN, HEIGHT - 66, 12, DIM)
        number = f"{now.bpm:.0f}" if now is not None else "---"
        big = texts.put("bpm", number, 530, HEIGHT - 52, 34, TEXT, bold=True)
        unit_x = 530 + big.content_width + 8
        texts.put("bpm-unit", "BPM", unit_x, HEIGHT - 34, 13, DIM, bold=True)
        texts.put("bpm-keys", "- / + nudge", unit_x, HEIGHT - 52, 10, DIM)
        if now is not None:
            draw_beat_lamps(shapes, 720, HEIGHT - 50, 22, now.beat_in_bar, now.pulse, me)
        else:
            draw_beat_lamps(shapes, 720, HEIGHT - 50, 22, None, 0.0, me)
        bar = f"BAR {now.bar + 1}" if now is not None else ""  # counted from 1, as players do
        texts.put("bar", bar, 850, HEIGHT - 46, 16, TEXT, bold=True)
        # The connection: a signal icon and its two numbers.
        colour = signal_colour(state.round_trip_ms)
        for k in range(4):
            x = 1010 + k * 9
            shapes.add(
                x,
                x + 6,
                HEIGHT - 52,
                HEIGHT - 44 + 6 * k,
                colour if state.round_trip_ms is not None else EMPTY,
            )
        rtt = f"{state.round_trip_ms:.1f} ms" if state.round_trip_ms is not None else "-- ms"
        sync = f"±{state.uncertainty_ms:.1f} ms" if state.uncertainty_ms is not None else "±-- ms"
        texts.put("rtt", f"round trip {rtt}", WIDTH - MARGIN, HEIGHT - 38, 12, TEXT, "right")
        texts.put("sync", f"clock sync {sync}", WIDTH - MARGIN, HEIGHT - 56, 12, DIM, "right")

    def _draw_players(
        self, state: ScreenState, order: list[PlayerInfo], colours: dict[int, Colour]
    ) -> None:
        shapes, texts, room = self._shapes, self._texts, state.room
        box = PLAYERS_BOX
        shapes.add(box.left, box.right, box.bottom, box.top, PANEL)
        texts.put("players", "PLAYERS", box.left + 16, box.top - 30, 14, DIM, bold=True)
        shown = order[:MAX_ROWS]
        for index, player in enumerate(shown):
            y = player_row_bottom(index)
            colour = colours[player.id]
            lit = flash(state.changed_at, player.id, state.server_time)
            if lit:
                shapes.add(
                    box.left + 6,
                    box.right - 6,
                    y,
                    y + PLAYER_ROW - 4,
                    mix(PANEL, colour, 0.55 * lit),
                )
            muted = player.id in room.muted
            if muted:  # still there, not heard: dimmed
                colour = mix(PANEL, colour, MUTED_SHARE)
            shapes.add(box.left + 16, box.left + 30, y + 6, y + 20, colour)
            tags = []
            if room.me is not None and player.id == room.me.id:
                tags.append("you")
            if player.id == room.host:
                tags.append("host")
            if player.role is Role.AI:
                tags.append("AI")
            if muted:
                tags.append("muted")
            name = player.name + (f"  ({', '.join(tags)})" if tags else "")
            ink = DIM if muted else TEXT if not lit else WHITE
            texts.put(f"p-{player.id}", name, box.left + 40, y + 7, 14, ink)
            if player.role is Role.PLAYER:
                moving = player_moving(room, player.id, state.own_pose)
                shapes.bar(box.right - 126, y + 8, 110, 10, moving, colour, EMPTY)
        for index, player in self.host_rows(state):
            buttons = (
                ("mute", self.on_mute, mute_button(index), MUTE_BUTTON),
                ("remove", self.on_remove, remove_button(index), REMOVE_BUTTON),
            )
            for key, callback, rect, base in buttons:
                if callback is None:
                    continue
                pressed = f"{key}-{player.id}" in self._pressed
                lift = 0.5 if pressed else 0.2 if rect.point_in_rect(self._hover) else 0
                shapes.add(rect.left, rect.right, rect.bottom, rect.top, mix(base, WHITE, lift))
                label = "unmute" if key == "mute" and player.id in room.muted else key
                texts.put(
                    f"{key}-{player.id}", label, rect.center_x, rect.bottom + 5, 10,
                    BUTTON_TEXT, "center",
                )  # fmt: skip
        watching = sum(1 for p in room.players.values() if p.role is Role.SPECTATOR)
        hidden = len(order) - len(shown)
        footer = "  ".join(
            part
            for part in (
                f"+{hidden} more" if hidden else "",
                f"{watching} watching" if watching else "",
            )
            if part
        )
        texts.put("players-footer", footer, box.left + 16, box.bottom + 8, 11, DIM)
        texts.put(
            "moving",
            "moving" if order else "nobody here yet",
            box.right - 126,
            box.top - 30,
            11,
            DIM,
        )

    def _draw_editor(self, state: ScreenState, me: Colour) -> None:
        shapes, texts = self._shapes, self._texts
        texts.put("editor", "YOUR SEED GRID", MARGIN, EDITOR_BOX.top + 12, 14, TEXT, bold=True)
        texts.put(
            "editor-hint",
            "click cells, then send",
            EDITOR_BOX.right,
            EDITOR_BOX.top + 12,
            11,
            DIM,
            "right",
        )
        for step in range(STEPS_PER_BAR):
            mask = state.grid[step] if step < len(state.grid) else 0
            for drum in range(len(DRUM_LABELS)):
                rect = cell_rect(EDITOR_BOX, step, drum)
                on = mask >> drum & 1
                colour = me if on else EMPTY_BEAT if step % 4 == 0 else EMPTY
                shapes.add(rect.left, rect.right, rect.bottom, rect.top, colour)
        for drum, label in enumerate(DRUM_LABELS):
            rect = cell_rect(EDITOR_BOX, 0, drum)
            texts.put(
                f"edrum-{drum}", label, EDITOR_BOX.left - 8, rect.bottom + 3, 10, DIM, "right"
            )
        for key, rect, label, base in (
            ("dice", DICE_BUTTON, "DICE  [D]", ACCENT),
            ("send", SEND_BUTTON, "SEND GRID  [G]", me),
        ):
            lift = 0.5 if key in self._pressed else 0.2 if rect.point_in_rect(self._hover) else 0
            colour = mix(base, WHITE, lift)
            shapes.add(rect.left, rect.right, rect.bottom, rect.top, colour)
            texts.put(
                f"button-{key}",
                label,
                rect.center_x,
                rect.bottom + 15,
                14,
                BUTTON_TEXT,
                "center",
                True,
            )
