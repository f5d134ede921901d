"""The lobby: rooms by short, human-friendly codes, each with an optional password."""

from __future__ import annotations

import random

from server.room import JoinRefused, Room, RoomLimits
from shared.messages import CloseCode
from shared.tempo import DEFAULT_BPM

# No I or O: they read as 1 and 0 when a code is said aloud or shown on a TV.
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 4


class Lobby:
    def __init__(self, rng: random.Random | None = None) -> None:
        self.rooms: dict[str, Room] = {}
        self.default: Room | None = None
        self._rng = rng or random.Random()

    def new_code(self) -> str:
        for _ in range(1000):
            code = "".join(self._rng.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
            if code not in self.rooms:
                return code
        raise RuntimeError("no free room code left")

    def create(
        self,
        now: float,
        code: str | None = None,
        password: str = "",
        bpm: float = DEFAULT_BPM,
        limits: RoomLimits | None = None,
    ) -> Room:
        code = code or self.new_code()
        if len(code) != CODE_LENGTH or not code.isascii() or not code.isalpha():
            raise ValueError(f"room code must be {CODE_LENGTH} letters A-Z, got {code!r}")
        code = code.upper()
        if code in self.rooms:
            raise ValueError(f"room {code} already exists")
        room = Room(code, now, password, bpm, limits or RoomLimits())
        self.rooms[code] = room
        if self.default is None:
            self.default = room
        return room

    def find(self, code: str) -> Room:
        """The room for a hello's code; "" is the default room."""
        room = self.rooms.get(code.upper()) if code else self.default
        if room is None:
            raise JoinRefused(CloseCode.NO_SUCH_ROOM, f"no room {code or '(default)'} here")
        return room
