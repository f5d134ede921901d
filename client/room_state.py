"""The client's picture of the room, built only from what the server sent. Pure.

Views, the scheduler and bots read it; only :class:`client.net.NetClient` feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.loop_stack import LoopStack
from shared.messages import (
    Join,
    Layer,
    Leave,
    Message,
    Mute,
    PlayerInfo,
    Pose,
    Snapshot,
    Tempo,
    Welcome,
)
from shared.tempo import TempoMap


@dataclass
class RoomState:
    me: PlayerInfo | None = None
    room: str = ""
    host: int = 0
    players: dict[int, PlayerInfo] = field(default_factory=dict)
    loops: LoopStack = field(default_factory=LoopStack)
    tempo: TempoMap | None = None
    poses: dict[int, Pose] = field(default_factory=dict)  # latest pose of each player
    muted: set[int] = field(default_factory=set)  # players the host muted: not played here

    def apply(self, message: Message) -> None:
        """Fold one server message into the state; other kinds leave it as it was."""
        if isinstance(message, Welcome):
            self.me = message.player
            self.room = message.room
            self.host = message.host
        elif isinstance(message, Snapshot):
            self.room = message.room
            self.host = message.host
            self.players = {p.id: p for p in message.players}
            self.loops = LoopStack()
            for layer in message.layers:
                self.loops.schedule(layer)
            self.tempo = TempoMap(message.tempo)
            self.muted = set(message.muted)
        elif isinstance(message, Join):
            self.players[message.player.id] = message.player
        elif isinstance(message, Leave):
            self.players.pop(message.player, None)
            self.poses.pop(message.player, None)
            self.loops.remove(message.player)
            self.muted.discard(message.player)
            self.host = message.host
        elif isinstance(message, Layer):
            self.loops.schedule(message)
        elif isinstance(message, Tempo) and self.tempo is not None:
            # Computed from our copy of the map, with the server's arithmetic: the
            # same bar gives the same start time on every screen.
            self.tempo = self.tempo.with_tempo(message.bpm, message.starts_at_bar)
        elif isinstance(message, Pose):
            self.poses[message.player] = message
        elif isinstance(message, Mute):
            if message.muted:
                self.muted.add(message.player)
            else:
                self.muted.discard(message.player)
