"""Lobby: room codes, creating rooms and finding them by code."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from server.lobby import CODE_LENGTH, CODE_LETTERS, Lobby
from server.room import JoinRefused, RoomLimits
from shared.messages import CloseCode
from shared.tempo import TempoSegment


class ScriptedRng(random.Random):
    """Picks the letters it is given, one after the other, whatever the choices."""

    def __init__(self, letters: str) -> None:
        super().__init__(0)
        self.letters = iter(letters)

    def choice(self, seq: Sequence[str]) -> str:
        letter = next(self.letters)
        assert letter in seq
        return letter


def test_code_letters_are_the_alphabet_without_i_and_o() -> None:
    assert CODE_LETTERS == "ABCDEFGHJKLMNPQRSTUVWXYZ"
    assert CODE_LENGTH == 4


def test_new_codes_are_four_code_letters_and_unique() -> None:
    lobby = Lobby(random.Random(1234))
    codes = [lobby.create(100.0).code for _ in range(500)]
    assert len(set(codes)) == 500
    assert sorted(lobby.rooms) == sorted(codes)
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_LETTERS)
    used = set("".join(codes))
    assert "I" not in used
    assert "O" not in used
    assert used == set(CODE_LETTERS)  # 2000 draws reach every letter


def test_new_codes_follow_the_rng() -> None:
    first = [Lobby(random.Random(7)).new_code() for _ in range(2)]
    assert first[0] == first[1]
    assert Lobby(random.Random(7)).new_code() != Lobby(random.Random(8)).new_code()


def test_new_code_draws_again_when_a_code_is_taken() -> None:
    lobby = Lobby(ScriptedRng("ABCD" + "ABCD" + "WXYZ"))
    assert lobby.create(100.0).code == "ABCD"
    assert lobby.new_code() == "WXYZ"


def test_new_code_gives_up_when_every_draw_is_taken() -> None:
    lobby = Lobby(ScriptedRng("A" * 4 * 1001))
    lobby.create(100.0)
    with pytest.raises(RuntimeError, match=r"^no free room code left$"):
        lobby.new_code()


def test_create_with_an_explicit_code_uppercases_it() -> None:
    lobby = Lobby(random.Random(1))
    room = lobby.create(100.0, "abcd")
    assert room.code == "ABCD"
    assert lobby.rooms == {"ABCD": room}


def test_create_passes_time_password_bpm_and_limits_to_the_room() -> None:
    lobby = Lobby(random.Random(1))
    limits = RoomLimits(max_players=2, max_spectators=3)
    room = lobby.create(250.0, "JAMS", password="sesame", bpm=90.0, limits=limits)
    assert (room.created_at, room.password, room.bpm, room.limits) == (
        250.0,
        "sesame",
        90.0,
        limits,
    )
    assert room.tempo.segments == (TempoSegment(250.0, 0.0, 90.0),)
    assert lobby.create(250.0, "ROCK").limits == RoomLimits()


@pytest.mark.parametrize("taken", ["ABCD", "abcd", "AbCd"])
def test_duplicate_code_is_refused(taken: str) -> None:
    lobby = Lobby(random.Random(1))
    room = lobby.create(100.0, "ABCD")
    with pytest.raises(ValueError, match=r"^room ABCD already exists$"):
        lobby.create(101.0, taken)
    assert lobby.rooms == {"ABCD": room}


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("ABC", "'ABC'"),
        ("ABCDE", "'ABCDE'"),
        ("AB1D", "'AB1D'"),
        ("AB D", "'AB D'"),
        ("äbcd", "'äbcd'"),  # shown as typed
        ("ßab", "'ßab'"),  # "ß".upper() is "SS": checked before uppercasing
        ("AB-D", "'AB-D'"),
    ],
)
def test_malformed_code_is_refused(code: str, shown: str) -> None:
    lobby = Lobby(random.Random(1))
    with pytest.raises(ValueError) as caught:
        lobby.create(100.0, code)
    assert str(caught.value) == f"room code must be 4 letters A-Z, got {shown}"
    assert lobby.rooms == {}
    assert lobby.default is None


def test_the_first_room_created_is_the_default() -> None:
    lobby = Lobby(random.Random(1))
    first = lobby.create(100.0, "FIRS")
    lobby.create(100.0, "SECN")
    assert lobby.default is first
    assert lobby.find("") is first


def test_find_by_code_in_any_case() -> None:
    lobby = Lobby(random.Random(1))
    lobby.create(100.0, "FIRS")
    second = lobby.create(100.0, "SECN")
    assert lobby.find("SECN") is second
    assert lobby.find("secn") is second


def test_find_an_unknown_code_is_refused_with_no_such_room() -> None:
    lobby = Lobby(random.Random(1))
    lobby.create(100.0, "FIRS")
    with pytest.raises(JoinRefused) as caught:
        lobby.find("ZZZZ")
    assert (caught.value.code, caught.value.reason) == (CloseCode.NO_SUCH_ROOM, "no room ZZZZ here")


def test_find_the_default_in_an_empty_lobby_is_refused() -> None:
    with pytest.raises(JoinRefused) as caught:
        Lobby(random.Random(1)).find("")
    assert (caught.value.code, caught.value.reason) == (
        CloseCode.NO_SUCH_ROOM,
        "no room (default) here",
    )
