"""RoomState folds server messages into the client's picture of the room."""

from __future__ import annotations

from client.room_state import RoomState
from shared.drums import empty_pattern
from shared.messages import (
    Join,
    Layer,
    Leave,
    Mute,
    PlayerInfo,
    Pose,
    Role,
    Snapshot,
    Tempo,
    Welcome,
)
from shared.tempo import TempoMap

ANN = PlayerInfo(1, "Ann", Role.PLAYER, 0xFF0000)
BOB = PlayerInfo(2, "Bob", Role.PLAYER, 0x00FF00)


def joined_state() -> RoomState:
    state = RoomState()
    state.apply(Welcome(BOB, "ROOM", host=1))
    layer = Layer(1, empty_pattern(), 3, 1)
    state.apply(Snapshot("ROOM", 1, (ANN, BOB), (layer,), TempoMap.start(10.0).segments, 12.0))
    return state


def test_welcome_and_snapshot_set_up_the_room() -> None:
    state = joined_state()
    assert state.me == BOB
    assert (state.room, state.host) == ("ROOM", 1)
    assert state.players == {1: ANN, 2: BOB}
    assert state.loops.layer_at(1, 3) == Layer(1, empty_pattern(), 3, 1)
    assert state.tempo == TempoMap.start(10.0)


def test_join_layer_pose_tempo_and_leave_update_it() -> None:
    state = joined_state()
    cat = PlayerInfo(3, "Cat", Role.SPECTATOR, 0x999999)
    state.apply(Join(cat))
    assert state.players[3] == cat
    newer = Layer(1, empty_pattern(), 5, 2)
    state.apply(newer)
    assert state.loops.layer_at(1, 4) == Layer(1, empty_pattern(), 3, 1)
    assert state.loops.layer_at(1, 5) == newer
    state.apply(Pose(1.0, (0.25,), player=1))
    assert state.poses[1].features == (0.25,)
    state.apply(Tempo(90.0, 2))
    assert state.tempo is not None
    # Bar 2 at 120 bpm starts 4 s after 10.0; from there 90 bpm.
    assert state.tempo.time_at_bar(2) == 14.0
    assert state.tempo.time_at_bar(3) == 14.0 + 4 * 60 / 90
    state.apply(Leave(1, host=2))
    assert 1 not in state.players and 1 not in state.poses
    assert state.loops.latest(1) is None
    assert state.host == 2


def test_a_tempo_before_the_snapshot_is_ignored() -> None:
    state = RoomState()
    state.apply(Tempo(90.0, 2))
    assert state.tempo is None


def test_mute_snapshot_and_leave_track_who_is_muted() -> None:
    state = joined_state()
    assert state.muted == set()
    state.apply(Mute(1, True))
    state.apply(Mute(2, True))
    assert state.muted == {1, 2}
    state.apply(Mute(2, False))
    assert state.muted == {1}
    state.apply(Mute(2, False))  # unmuting a player who is heard changes nothing
    assert state.muted == {1}
    state.apply(Leave(1, host=2))
    assert state.muted == set()
    tempo = TempoMap.start(10.0).segments
    state.apply(Snapshot("ROOM", 2, (ANN, BOB), (), tempo, 20.0, muted=(1, 2)))
    assert state.muted == {1, 2}
    state.apply(Snapshot("ROOM", 2, (ANN, BOB), (), tempo, 21.0))  # a fresh picture
    assert state.muted == set()
