"""The AI band: styles by section, a steady wobble, and members that play in a room."""

from __future__ import annotations

import pytest

from server import ai_band
from server.generator import GenerationRequest
from server.room import AI_COLOURS, GenerationBatch, Outgoing, Room
from shared.messages import Hello, Join, PlayerInfo, Role, Seed, SeedSource

T0 = 100.0  # rooms start here at 120 bpm: a bar is 2.0 s, bar 1 at 102.0


def test_each_member_follows_its_round_of_styles_a_section_at_a_time() -> None:
    kit, hats = ai_band.band(2)
    assert (kit.name, hats.name) == ("AI Kit", "AI Hats")
    assert [ai_band.style_at(kit, bar) for bar in (0, 3, 4, 8, 12, 16)] == [
        "rock", "rock", "half-time", "funk", "rock", "rock",
    ]  # fmt: skip
    assert ai_band.style_at(hats, 5) == "shuffle"
    assert ai_band.style_at(kit, -3) == "rock"  # before the room's first bar: the first style


def test_controls_wobble_around_the_style_and_hold_for_a_section() -> None:
    kit = ai_band.band(1)[0]
    section = [ai_band.controls_at(kit, bar, seed=7) for bar in range(4)]
    assert len(set(section)) == 1  # no twitching within a section
    style = ai_band.STYLES["rock"]
    assert all(abs(c - s) <= ai_band.WOBBLE for c, s in zip(section[0], style, strict=True))
    assert ai_band.controls_at(kit, 0, seed=7) == ai_band.controls_at(kit, 0, seed=7)
    assert ai_band.controls_at(kit, 0, seed=7) != ai_band.controls_at(kit, 0, seed=8)
    assert ai_band.controls_at(kit, 4, seed=7)[2] < -0.4  # half-time: towards the kick


def test_a_band_has_one_to_three_members() -> None:
    with pytest.raises(ValueError, match=r"an AI band has 1\.\.3 members, got 4"):
        ai_band.band(4)


def test_the_band_joins_a_room_and_plays_from_its_first_batch() -> None:
    room = Room("SOLO", T0)
    out = room.add_band(2, seed=3, now=T0)
    kit = PlayerInfo(1, "AI Kit", Role.AI, AI_COLOURS[0])
    hats = PlayerInfo(2, "AI Hats", Role.AI, AI_COLOURS[1])
    assert out == [Outgoing(Join(kit)), Outgoing(Join(hats))]
    player, _ = room.join(Hello("Ann", Role.PLAYER), T0)
    assert (player.id, room.host, room.count(Role.PLAYER)) == (3, 3, 1)  # the band is no host
    band = ai_band.band(2)
    assert room.generation_due(101.0) == GenerationBatch(
        1,
        (
            GenerationRequest(
                1,
                Seed(SeedSource.DICE, dice=93, density=0.28),
                None,
                ai_band.controls_at(band[0], 1, 3),
            ),
            GenerationRequest(
                2,
                Seed(SeedSource.DICE, dice=94, density=0.36),
                None,
                ai_band.controls_at(band[1], 1, 3),
            ),
        ),
    )


def test_the_band_moves_on_at_each_section() -> None:
    room = Room("SOLO", T0)
    room.add_band(1, seed=3, now=T0)
    batch = room.generation_due(101.0)
    assert batch is not None
    pattern = ((0,) * 9,) * 31 + ((100,) + (0,) * 8,)
    room.apply_generated(batch, [pattern], 101.0)
    for bar in (2, 3):  # the same section: nothing new to write
        assert room.generation_due(T0 + 2.0 * bar - 1.0) is None
    band = ai_band.band(1)
    assert room.generation_due(T0 + 2.0 * 4 - 1.0) == GenerationBatch(
        4, (GenerationRequest(1, None, pattern, ai_band.controls_at(band[0], 4, 3)),)
    )
