"""Drawing pieces the screens share: skeletons, the camera picture, batched rectangles and text.

A game screen draws hundreds of grid cells, a few skeletons and dozens of labels a
frame; one draw call each would cost more than a frame has (600 rectangles take 32 ms
one by one on a software renderer, 3.6 ms batched), so shapes go through a
:class:`ShapeBatch` and labels through a :class:`TextCache`, one draw call each.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import arcade
import numpy as np
import PIL.Image
import pyglet
from arcade.gl import Buffer, BufferDescription, Geometry

Colour = tuple[int, int, int]

BONE: Colour = (255, 200, 40)
JOINT: Colour = (255, 255, 255)

# mediapipe's pose topology: which landmarks the skeleton joins.
BONES = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28), (27, 29), (29, 31), (28, 30), (30, 32),
    (15, 17), (15, 19), (16, 18), (16, 20), (0, 11), (0, 12),
)  # fmt: skip
SEEN = 0.5  # landmarks less visible than this are not drawn
HEAD, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_WRIST, RIGHT_WRIST = 0, 11, 12, 15, 16
FACE = range(1, 11)  # eyes, ears, mouth
FINGERS = range(17, 23)  # pinkies, index fingers, thumbs


def rgb(colour: int) -> Colour:
    """``0xRRGGBB`` as an ``(r, g, b)`` tuple."""
    return (colour >> 16 & 0xFF, colour >> 8 & 0xFF, colour & 0xFF)


def mix(a: Sequence[int], b: Sequence[int], w: float) -> Colour:
    """``a`` moved a share ``w`` (0..1) of the way to ``b``."""
    w = min(1.0, max(0.0, w))
    return (
        round(a[0] + (b[0] - a[0]) * w),
        round(a[1] + (b[1] - a[1]) * w),
        round(a[2] + (b[2] - a[2]) * w),
    )


def draw_skeleton(
    shapes: ShapeBatch,
    landmarks: np.ndarray,
    left: float,
    bottom: float,
    width: float,
    height: float,
    bone: Colour = BONE,
    joint: Colour = JOINT,
    thickness: float = 4,
    stylized: bool = False,
) -> None:
    """Bones and joints of the visible landmarks (``[33, 4]`` x, y, z, visibility, x and y
    0..1 of the frame), image y (down) turned to screen y (up), into ``shapes`` (the
    caller draws it). ``stylized``: the game screens' look, a disc in the bone colour
    for the head and no dots for the face's and fingers' small landmarks."""

    def at(i: int) -> tuple[float, float]:
        return left + landmarks[i, 0] * width, bottom + (1.0 - landmarks[i, 1]) * height

    seen = [
        bool(landmarks[i, 3] >= SEEN and np.isfinite(landmarks[i, :2]).all())
        for i in range(len(landmarks))
    ]
    for a, b in BONES:
        if seen[a] and seen[b]:
            shapes.line(*at(a), *at(b), thickness, bone)
    big = thickness * 1.25  # head and wrists
    details: tuple[int, ...] = (*FACE, *FINGERS) if stylized else ()
    if stylized and seen[HEAD] and seen[LEFT_SHOULDER] and seen[RIGHT_SHOULDER]:
        shoulders = math.dist(at(LEFT_SHOULDER), at(RIGHT_SHOULDER))
        shapes.circle(*at(HEAD), max(big, 0.42 * shoulders), bone, 24)
        details += (HEAD,)
    for i, ok in enumerate(seen):
        if ok and i not in details:
            radius = big if i in (HEAD, LEFT_WRIST, RIGHT_WRIST) else thickness * 0.75
            shapes.circle(*at(i), radius, joint)


class CameraPicture:
    """A camera frame as one texture, rewritten in place each frame: a new texture per
    frame would fill the texture atlas."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._texture: arcade.Texture | None = None
        self._size: tuple[int, int] | None = None

    def draw(self, window: arcade.Window, image: np.ndarray, rect: arcade.types.Rect) -> None:
        size = (image.shape[1], image.shape[0])
        picture = PIL.Image.fromarray(image).convert("RGBA")
        if self._texture is None or self._size != size:
            self._texture = arcade.Texture(picture, hash=f"{self._name}-{id(self)}-{size}")
            self._size = size
        else:
            self._texture.image.paste(picture)
            window.ctx.default_atlas.update_texture_image(self._texture)
        arcade.draw_texture_rect(self._texture, rect, pixelated=False)


class ShapeBatch:
    """Filled triangles (rectangles, lines, circles) gathered and drawn in one call, in the
    order added."""

    _FLOATS = 6  # x, y, r, g, b, a per vertex

    def __init__(self) -> None:
        self._data = array("f")
        self._buffer: Buffer | None = None
        self._geometry: Geometry | None = None

    def add(
        self,
        left: float,
        right: float,
        bottom: float,
        top: float,
        colour: Sequence[int],
    ) -> None:
        self.quad((left, bottom), (right, bottom), (right, top), (left, top), colour)

    def quad(
        self,
        p1: tuple[float, float],
        p2: tuple[float, float],
        p3: tuple[float, float],
        p4: tuple[float, float],
        colour: Sequence[int],
    ) -> None:
        """A convex quadrilateral, corners in order around it."""
        self.triangle(p1, p2, p3, colour)
        self.triangle(p1, p3, p4, colour)

    def triangle(
        self,
        p1: tuple[float, float],
        p2: tuple[float, float],
        p3: tuple[float, float],
        colour: Sequence[int],
    ) -> None:
        r, g, b = colour[0], colour[1], colour[2]
        a = colour[3] if len(colour) > 3 else 255
        for x, y in (p1, p2, p3):
            self._data.extend((x, y, r, g, b, a))

    def line(
        self, x1: float, y1: float, x2: float, y2: float, width: float, colour: Sequence[int]
    ) -> None:
        """A straight stroke ``width`` wide between two points (square ends)."""
        length = math.hypot(x2 - x1, y2 - y1)
        if not length:
            return
        nx, ny = (y1 - y2) / length * width / 2, (x2 - x1) / length * width / 2
        self.quad(
            (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x2 - nx, y2 - ny), (x2 + nx, y2 + ny), colour
        )

    def circle(
        self, x: float, y: float, radius: float, colour: Sequence[int], segments: int = 16
    ) -> None:
        self.ellipse(x, y, radius, radius, colour, segments)

    def ellipse(
        self,
        x: float,
        y: float,
        rx: float,
        ry: float,
        colour: Sequence[int],
        segments: int = 16,
    ) -> None:
        points = [
            (x + rx * math.cos(2 * math.pi * k / segments),
             y + ry * math.sin(2 * math.pi * k / segments))
            for k in range(segments + 1)
        ]  # fmt: skip
        for a, b in pairwise(points):
            self.triangle((x, y), a, b, colour)

    def bar(
        self,
        left: float,
        bottom: float,
        width: float,
        height: float,
        share: float,
        colour: Sequence[int],
        back: Sequence[int],
    ) -> None:
        """A meter: ``back`` across ``width``, ``colour`` over its first ``share`` (0..1)."""
        self.add(left, left + width, bottom, bottom + height, back)
        share = min(1.0, max(0.0, share))
        if share > 0:
            self.add(left, left + width * share, bottom, bottom + height, colour)

    def draw(self) -> None:
        """Draw everything added since the last draw, and start over."""
        vertices = len(self._data) // self._FLOATS
        if not vertices:
            return
        ctx = arcade.get_window().ctx
        size = len(self._data) * self._data.itemsize
        if self._buffer is None or self._geometry is None or self._buffer.size < size:
            # Grown by doubling, so a busy frame does not make a buffer every frame.
            reserve = max(size, 2 * (self._buffer.size if self._buffer is not None else 0))
            self._buffer = ctx.buffer(reserve=reserve)
            self._geometry = ctx.geometry(
                [BufferDescription(self._buffer, "2f 4f", ("in_vert", "in_color"))],
                mode=ctx.TRIANGLES,
            )
        self._buffer.write(self._data)
        # As arcade's own shapes do: blend on for the draw, off after it
        # (arcade.gl's flag helpers carry no annotations, hence the Any).
        flags: Any = ctx
        flags.enable(ctx.BLEND)
        self._geometry.render(ctx.line_generic_with_colors_program, vertices=vertices)
        flags.disable(ctx.BLEND)
        self._data = array("f")


class TextCache:
    """Labels by key, kept from frame to frame and drawn in one batch.

    Each frame a view calls :meth:`put` for every label it shows and :meth:`draw` once;
    a label not put since the last draw is hidden.
    """

    def __init__(self) -> None:
        self._batch = pyglet.graphics.Batch()
        self._texts: dict[str, arcade.Text] = {}
        self._props: dict[str, tuple[Any, ...]] = {}
        self._shown: set[str] = set()

    def put(
        self,
        key: str,
        value: str,
        x: float,
        y: float,
        size: float,
        colour: Sequence[int],
        anchor_x: str = "left",
        bold: bool = False,
    ) -> arcade.Text:
        text = self._texts.get(key)
        rgb_colour = (colour[0], colour[1], colour[2])
        props = (value, x, y, size, rgb_colour, anchor_x, bold)
        if text is None:
            text = arcade.Text(
                value, x, y, rgb_colour, size, anchor_x=anchor_x, bold=bold, batch=self._batch
            )
            self._texts[key] = text
        elif self._props[key] != props:
            text.text, text.x, text.y = value, x, y
            text.font_size, text.color = size, rgb_colour
            text.anchor_x, text.bold = anchor_x, bold
        self._props[key] = props
        text.label.visible = True
        self._shown.add(key)
        return text

    def draw(self) -> None:
        for key, text in self._texts.items():
            if key not in self._shown:
                text.label.visible = False
        self._shown = set()
        self._batch.draw()


# -- the game screens' shared widgets ------------------------------------------------

BACKGROUND: Colour = (14, 14, 22)
PANEL: Colour = (26, 26, 40)
EMPTY: Colour = (42, 42, 60)
EMPTY_BEAT: Colour = (58, 58, 82)  # the first step of each beat, so a bar reads in fours
PLAYHEAD: Colour = (240, 240, 255)
PLAYHEAD_CELL: Colour = (92, 92, 128)  # an empty cell under the playhead
TEXT: Colour = (238, 238, 246)
DIM: Colour = (146, 146, 168)
ACCENT: Colour = (255, 193, 69)
UNKNOWN: Colour = (160, 160, 170)  # a layer whose owner the room has no colour for
GOOD: Colour = (123, 211, 137)
FAIR: Colour = (255, 193, 69)
POOR: Colour = (255, 90, 95)
WHITE: Colour = (255, 255, 255)
PLAYHEAD_LIFT = 0.35  # how much whiter a struck cell shows under the playhead

DRUM_LABELS = (
    "kick",
    "snare",
    "hat",
    "open hat",
    "low tom",
    "mid tom",
    "high tom",
    "crash",
    "ride",
)
MOODS = ((0.25, "warming up"), (0.5, "getting there"), (0.75, "grooving"), (1.01, "on fire!"))


def cell_rect(area: arcade.types.Rect, step: int, drum: int, gap: float = 2.0) -> arcade.types.Rect:
    """Where a step grid inside ``area`` puts (step, drum): steps left to right, drums
    bottom (kick) to top (ride), as the body asks for them: crouch low, hands high."""
    width, height = area.width / 16, area.height / len(DRUM_LABELS)
    return arcade.LBWH(
        area.left + step * width + gap / 2,
        area.bottom + drum * height + gap / 2,
        width - gap,
        height - gap,
    )


def cell_at(area: arcade.types.Rect, x: float, y: float) -> tuple[int, int] | None:
    """The (step, drum) of a step grid inside ``area`` under a point, if any."""
    if not (area.left <= x < area.right and area.bottom <= y < area.top):
        return None
    step = int((x - area.left) / (area.width / 16))
    drum = int((y - area.bottom) / (area.height / len(DRUM_LABELS)))
    return min(step, 15), min(drum, len(DRUM_LABELS) - 1)


def draw_step_grid(
    shapes: ShapeBatch,
    area: arcade.types.Rect,
    grid: Sequence[Sequence[Sequence[int]]],
    colours: dict[int, Colour],
    playhead: int | None,
    only: int | None = None,
    gap: float = 2.0,
) -> None:
    """A bar of :func:`client.views.screen_state.cells`: each struck cell split in the
    colours of the owners striking it (or, with ``only``, lit in that owner's colour
    alone), the playhead's column brighter."""
    for step in range(16):
        under = step == playhead
        for drum in range(len(DRUM_LABELS)):
            rect = cell_rect(area, step, drum, gap)
            owners = [o for o in grid[step][drum] if only is None or o == only]
            if not owners:
                empty = PLAYHEAD_CELL if under else EMPTY_BEAT if step % 4 == 0 else EMPTY
                shapes.add(rect.left, rect.right, rect.bottom, rect.top, empty)
                continue
            share = rect.width / len(owners)
            for k, owner in enumerate(owners):
                colour = colours.get(owner, UNKNOWN)
                if under:
                    colour = mix(colour, WHITE, PLAYHEAD_LIFT)
                left = rect.left + k * share
                shapes.add(left, left + share, rect.bottom, rect.top, colour)


def draw_playhead_marker(
    shapes: ShapeBatch, area: arcade.types.Rect, playhead: int | None, height: float = 6.0
) -> None:
    """A bright tab over the playhead's column, just above the grid."""
    if playhead is None:
        return
    rect = cell_rect(area, playhead, 0)
    shapes.add(rect.left, rect.right, area.top + 3, area.top + 3 + height, PLAYHEAD)


def draw_beat_lamps(
    shapes: ShapeBatch,
    left: float,
    bottom: float,
    size: float,
    beat_in_bar: int | None,
    pulse: float,
    colour: Colour,
) -> None:
    """Four lamps, one a beat; the one sounding lights up with the pulse."""
    for beat in range(4):
        x = left + beat * size * 1.4
        lit = beat == beat_in_bar
        base = EMPTY_BEAT if beat == 0 else EMPTY
        fill = mix(mix(base, colour, 0.45), colour, pulse) if lit else base
        grow = size * 0.12 * pulse if lit else 0.0
        shapes.add(x - grow, x + size + grow, bottom - grow, bottom + size + grow, fill)


def vibe_colour(score: float) -> Colour:
    """Red when the room is cold, through amber, to green when it grooves."""
    return mix(POOR, FAIR, score * 2) if score < 0.5 else mix(FAIR, GOOD, score * 2 - 1)


def mood(score: float) -> str:
    return next(word for top, word in MOODS if score < top)


def draw_vibe_meter(
    shapes: ShapeBatch,
    texts: TextCache,
    key: str,
    area: arcade.types.Rect,
    parts: Sequence[tuple[str, float]],
    score: float,
    scale: float = 1.0,
) -> None:
    """The vibe meter inside ``area``, top down: its title, the score as a percentage and
    a mood, one big bar, then a small labelled bar for each part."""
    shapes.add(area.left, area.right, area.bottom, area.top, PANEL)
    pad = 16 * scale
    left, width = area.left + pad, area.width - 2 * pad
    top = area.top - pad
    colour = vibe_colour(score)
    texts.put(f"{key}-title", "VIBE", left, top - 14 * scale, 14 * scale, DIM, bold=True)
    texts.put(f"{key}-score", f"{score:.0%}", left, top - 62 * scale, 40 * scale, colour, bold=True)
    texts.put(
        f"{key}-mood", mood(score), area.right - pad, top - 14 * scale, 14 * scale, colour,
        anchor_x="right", bold=True,
    )  # fmt: skip
    y = top - 108 * scale
    shapes.bar(left, y, width, 30 * scale, score, colour, EMPTY)
    for quarter in (0.25, 0.5, 0.75):  # ticks, so a level reads against the moods
        x = left + width * quarter
        shapes.add(x - 1, x + 1, y, y + 30 * scale, BACKGROUND)
    y -= 20 * scale
    for name, value in parts:
        y -= 34 * scale
        texts.put(f"{key}-{name}", name, left, y + 14 * scale, 12 * scale, DIM)
        texts.put(
            f"{key}-{name}-value", f"{value:.0%}", left + width, y + 14 * scale, 12 * scale, TEXT,
            anchor_x="right",
        )  # fmt: skip
        shapes.bar(left, y, width, 9 * scale, value, mix(DIM, colour, 0.6), EMPTY)
