"""Room: membership, rules, tempo changes and layer generation, with time passed in.

Every room here is created at T0 = 100.0 s at 120 bpm, so a beat is 0.5 s and a
bar (4 beats) is 2.0 s: bar 1 starts at 102.0, bar 2 at 104.0, and so on.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.generator import GenerationRequest, SeedGenerator
from server.room import (
    CONTROLS_MOVED,
    PALETTE,
    REMOVED_REASON,
    SPECTATOR_COLOUR,
    GenerationBatch,
    JoinRefused,
    Outgoing,
    Room,
    RoomLimits,
    RuleError,
    clean_name,
)
from shared.codec import MAX_TEMPO_SEGMENTS, decode, encode
from shared.drums import Pattern
from shared.messages import (
    CloseCode,
    Error,
    ErrorCode,
    Hello,
    Join,
    Layer,
    Leave,
    Message,
    Mute,
    Ping,
    PlayerInfo,
    Pong,
    Pose,
    Remove,
    Role,
    Seed,
    SeedSource,
    Snapshot,
    Tempo,
    Welcome,
)
from shared.pose_mapping import FEATURE_INDEX, FEATURE_REST, groove_controls
from shared.tempo import TempoSegment

T0 = 100.0
CODE = "ABCD"
START = TempoSegment(T0, 0.0, 120.0)

GRID_A = (1, 0, 4, 0, 2, 0, 4, 0) * 2  # kick, hat, snare, hat on the eighths
GRID_B = (1, 0, 0, 0) * 4  # four on the floor


def grid_seed(grid: tuple[int, ...] = GRID_A, owner: int = 0) -> Seed:
    return Seed(SeedSource.GRID, grid=grid, owner=owner)


def dice_seed(dice: int, density: float = 0.5, owner: int = 0) -> Seed:
    return Seed(SeedSource.DICE, dice=dice, density=density, owner=owner)


def token(n: int) -> str:
    """The n-th token a test room hands out."""
    return f"{n:032x}"


def make_room(password: str = "", limits: RoomLimits | None = None) -> Room:
    count = itertools.count(1)
    return Room(
        CODE, T0, password, limits=limits or RoomLimits(), make_token=lambda: token(next(count))
    )


def join(room: Room, name: str, role: Role = Role.PLAYER, now: float = T0) -> PlayerInfo:
    info, _ = room.join(Hello(name, role), now)
    return info


def generate(room: Room, now: float) -> list[Outgoing]:
    """Cut the batch due at ``now``, write it with the real generator and apply it."""
    batch = room.generation_due(now)
    assert batch is not None
    return room.apply_generated(batch, SeedGenerator().generate(batch.requests), now)


def patterns_for(*seeds: Seed) -> list[Pattern]:
    requests = [GenerationRequest(i + 1, seed, None) for i, seed in enumerate(seeds)]
    return SeedGenerator().generate(requests)


def refused(room: Room, sender: int, message: Message, now: float = T0) -> RuleError:
    with pytest.raises(RuleError) as caught:
        room.handle(sender, message, now)
    return caught.value


# -- join --------------------------------------------------------------------


def test_first_join_sends_welcome_and_snapshot_to_the_newcomer_and_join_to_the_rest() -> None:
    room = make_room()
    info, out = room.join(Hello("Ann", Role.PLAYER), 100.5)
    assert info == PlayerInfo(1, "Ann", Role.PLAYER, PALETTE[0])
    assert out == [
        Outgoing(Welcome(info, CODE, 1, token=token(1)), to=1),
        Outgoing(Snapshot(CODE, 1, (info,), (), (START,), 100.5), to=1),
        Outgoing(Join(info), exclude=1),
    ]


def test_second_join_snapshot_lists_everyone_and_welcome_names_the_existing_host() -> None:
    room = make_room()
    ann = join(room, "Ann")
    bob, out = room.join(Hello("Bob", Role.PLAYER), 101.0)
    assert bob == PlayerInfo(2, "Bob", Role.PLAYER, PALETTE[1])
    assert out == [
        Outgoing(Welcome(bob, CODE, 1, token=token(2)), to=2),
        Outgoing(Snapshot(CODE, 1, (ann, bob), (), (START,), 101.0), to=2),
        Outgoing(Join(bob), exclude=2),
    ]


def test_ids_count_up_from_one_across_roles() -> None:
    room = make_room()
    ids = [join(room, f"P{i}", role).id for i, role in enumerate([Role.PLAYER, Role.SPECTATOR] * 3)]
    assert ids == [1, 2, 3, 4, 5, 6]


def test_first_player_becomes_host_and_later_players_do_not() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    assert room.host == 1


def test_spectators_never_become_host() -> None:
    room = make_room()
    sam, out = room.join(Hello("Sam", Role.SPECTATOR), T0)
    assert room.host == 0
    assert out[0] == Outgoing(Welcome(sam, CODE, 0), to=sam.id)
    ann = join(room, "Ann")
    assert room.host == ann.id == 2
    join(room, "Sue", Role.SPECTATOR)
    assert room.host == 2


def test_players_get_palette_colours_in_order_and_spectators_the_spectator_colour() -> None:
    room = make_room()
    roles = [Role.PLAYER, Role.SPECTATOR, Role.PLAYER, Role.PLAYER, Role.SPECTATOR]
    colours = [join(room, f"P{i}", role).colour for i, role in enumerate(roles)]
    assert colours == [PALETTE[0], SPECTATOR_COLOUR, PALETTE[1], PALETTE[2], SPECTATOR_COLOUR]


def test_eight_players_get_eight_different_palette_colours() -> None:
    room = make_room()
    assert [join(room, f"P{i}").colour for i in range(8)] == list(PALETTE)


def test_a_colour_freed_by_a_leaver_goes_to_the_next_player() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.leave(1, 101.0)
    assert join(room, "Cat").colour == PALETTE[0]
    assert join(room, "Dan").colour == PALETTE[2]


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Ann", "Ann"),
        ("  Ann   Lee  ", "Ann Lee"),
        ("Ann\x00\x07Lee", "AnnLee"),  # control characters
        ("\u202eAnn", "Ann"),  # right-to-left override (format)
        ("Ann\u200bLee", "AnnLee"),  # zero-width space (format)
        ("Ann \u2003 Lee", "Ann Lee"),  # an em space between spaces
        ("Zoë 🎧", "Zoë 🎧"),  # letters and symbols stay
    ],
)
def test_names_are_cleaned(raw: str, cleaned: str) -> None:
    assert clean_name(raw) == cleaned
    room = make_room()
    assert join(room, raw).name == cleaned


# Unicode spaces (no-break, ideographic: what a Japanese IME types between names)
# become one space, not nothing.
@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("Ann\u00a0Lee", "Ann Lee"), ("山田\u3000太郎", "山田 太郎")],
)
def test_unicode_spaces_in_names_are_squeezed_not_deleted(raw: str, cleaned: str) -> None:
    assert clean_name(raw) == cleaned


@pytest.mark.parametrize("raw", ["   ", "\x00\x1f", "\u200b\u200e", "\t"])
def test_a_name_that_cleans_to_nothing_becomes_player_and_the_id(raw: str) -> None:
    room = make_room()
    assert join(room, raw).name == "Player 1"
    assert join(room, raw, Role.SPECTATOR).name == "Player 2"


def test_wrong_password_is_refused_and_adds_no_one() -> None:
    room = make_room(password="sesame")
    with pytest.raises(JoinRefused) as caught:
        room.join(Hello("Ann", Role.PLAYER, password="Sesame"), T0)
    assert (caught.value.code, caught.value.reason) == (
        CloseCode.WRONG_PASSWORD,
        "wrong room password",
    )
    assert room.members == {}
    info, _ = room.join(Hello("Ann", Role.PLAYER, password="sesame"), T0)
    assert info.id == 1


def test_missing_password_is_refused() -> None:
    room = make_room(password="sesame")
    with pytest.raises(JoinRefused) as caught:
        room.join(Hello("Sam", Role.SPECTATOR), T0)
    assert caught.value.code is CloseCode.WRONG_PASSWORD


def test_a_room_without_password_ignores_the_one_sent() -> None:
    room = make_room()
    info, _ = room.join(Hello("Ann", Role.PLAYER, password="anything"), T0)
    assert info.id == 1


def test_ninth_player_is_refused_with_room_full_but_spectators_still_fit() -> None:
    room = make_room()
    for i in range(8):
        join(room, f"P{i}")
    with pytest.raises(JoinRefused) as caught:
        room.join(Hello("Ninth", Role.PLAYER), T0)
    assert (caught.value.code, caught.value.reason) == (
        CloseCode.ROOM_FULL,
        "room is full (8 players)",
    )
    assert room.count(Role.PLAYER) == 8
    sam = join(room, "Sam", Role.SPECTATOR)
    assert sam.id == 9  # a refused hello uses up no id


def test_a_leaver_frees_a_player_seat() -> None:
    room = make_room(limits=RoomLimits(max_players=2))
    join(room, "Ann")
    join(room, "Bob")
    with pytest.raises(JoinRefused):
        room.join(Hello("Cat", Role.PLAYER), T0)
    room.leave(2, 101.0)
    assert join(room, "Cat", now=101.0).id == 3


def test_spectator_limit() -> None:
    room = make_room(limits=RoomLimits(max_players=8, max_spectators=2))
    join(room, "S1", Role.SPECTATOR)
    join(room, "S2", Role.SPECTATOR)
    with pytest.raises(JoinRefused) as caught:
        room.join(Hello("S3", Role.SPECTATOR), T0)
    assert (caught.value.code, caught.value.reason) == (
        CloseCode.ROOM_FULL,
        "room is full (2 spectators)",
    )
    assert join(room, "Ann").id == 3  # players are counted apart


# -- leave -------------------------------------------------------------------


def test_leave_tells_everyone_who_left_and_who_hosts_now() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    join(room, "Cat")
    assert room.leave(3, 101.0) == [Outgoing(Leave(3, 1))]
    assert room.leave(1, 101.0) == [Outgoing(Leave(1, 2))]
    assert room.host == 2
    assert list(room.members) == [2]


def test_host_passes_to_the_oldest_remaining_player_not_to_a_spectator() -> None:
    room = make_room()
    join(room, "Sam", Role.SPECTATOR, now=100.0)  # 1: oldest of all, but a spectator
    join(room, "Ann", now=101.0)  # 2: host
    join(room, "Bob", now=102.0)  # 3
    join(room, "Cat", now=103.0)  # 4
    assert room.leave(2, 104.0) == [Outgoing(Leave(2, 3))]
    assert room.leave(3, 105.0) == [Outgoing(Leave(3, 4))]
    assert room.leave(4, 106.0) == [Outgoing(Leave(4, 0))]  # only a spectator is left
    assert room.host == 0


def test_host_passes_by_join_time() -> None:
    # Join times are what rank players; give the later id the earlier time to tell them apart.
    room = make_room()
    join(room, "Ann", now=100.0)
    join(room, "Bob", now=103.0)
    join(room, "Cat", now=102.0)
    assert room.leave(1, 104.0) == [Outgoing(Leave(1, 3))]


def test_a_new_player_hosts_a_room_left_without_players() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Sam", Role.SPECTATOR)
    room.leave(1, 101.0)
    join(room, "Bob", now=102.0)
    assert room.host == 3


def test_leaving_twice_or_never_having_joined_returns_nothing() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    assert room.leave(2, 101.0) == [Outgoing(Leave(2, 1))]
    assert room.leave(2, 101.5) == []
    assert room.leave(42, 101.5) == []
    assert room.host == 1


def test_a_leaver_layers_leave_the_loop_stack_and_pending_seed_is_dropped() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, grid_seed(), 100.5)
    room.handle(2, dice_seed(3), 100.5)
    generate(room, 101.0)
    assert room.loops.owners == (1, 2)
    room.handle(1, dice_seed(4), 101.2)
    room.leave(1, 101.2)
    assert room.loops.owners == (2,)
    assert [layer.owner for layer in room.loops.all()] == [2]
    assert room.generation_due(103.0) is None  # Ann's seed went with her


# -- drop and come back ----------------------------------------------------------


def test_a_dropped_player_keeps_their_seat_and_layer_and_nobody_is_told() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(2, grid_seed(), 100.5)
    generate(room, 101.0)
    assert room.drop(2, 101.5) == []
    assert list(room.members) == [1, 2]
    assert room.away() == (2,)
    assert room.loops.owners == (2,)  # it plays on


def test_a_returning_player_gets_the_same_seat_colour_and_layer_back() -> None:
    room = make_room()
    join(room, "Ann")
    bob = join(room, "Bob")
    room.handle(2, grid_seed(), 100.5)
    generate(room, 101.0)
    room.drop(2, 101.5)
    back, out = room.join(Hello("Robert", Role.PLAYER, token=token(2)), 110.0)
    assert back == bob == PlayerInfo(2, "Bob", Role.PLAYER, PALETTE[1])
    assert out == [
        Outgoing(Welcome(bob, CODE, 1, token=token(2)), to=2),
        Outgoing(room.snapshot(110.0), to=2),
    ]  # no join for the others: for them Bob never left
    assert room.away() == ()
    assert [layer.owner for layer in room.loops.all()] == [2]


def test_a_seat_is_let_go_when_the_grace_period_is_over() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.drop(1, 101.0)  # the host
    assert room.expire(130.999) == []
    assert room.host == 1  # still, while away
    assert room.expire(131.0) == [Outgoing(Leave(1, 2))]
    assert room.host == 2
    assert list(room.members) == [2]
    ann, _ = room.join(Hello("Ann", Role.PLAYER, token=token(1)), 132.0)
    assert ann.id == 3  # too late: the token is forgotten and Ann joins anew


def test_the_grace_period_is_the_rooms() -> None:
    room = make_room()
    room.reconnect_grace = 2.0
    join(room, "Ann")
    room.drop(1, 101.0)
    assert room.expire(102.5) == []
    assert room.expire(103.0) == [Outgoing(Leave(1, 0))]


def test_a_spectator_who_drops_leaves_at_once() -> None:
    room = make_room()
    join(room, "Ann")
    sam = join(room, "Sam", Role.SPECTATOR)
    assert room.drop(sam.id, 101.0) == [Outgoing(Leave(2, 1))]
    assert room.drop(sam.id, 101.0) == []
    assert room.drop(42, 101.0) == []


def test_a_token_brings_back_only_a_player_and_only_its_own_seat() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.drop(1, 101.0)
    # A spectator's hello with Ann's token is just a spectator.
    sam, _ = room.join(Hello("Sam", Role.SPECTATOR, token=token(1)), 102.0)
    assert (sam.id, sam.role) == (3, Role.SPECTATOR)
    # An unknown token joins anew.
    cat, _ = room.join(Hello("Cat", Role.PLAYER, token="f" * 32), 102.0)
    assert (cat.id, cat.colour) == (4, PALETTE[2])
    assert room.away() == (1,)


def test_a_player_who_said_leave_cannot_come_back_with_the_token() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.leave(2, 101.0)
    bob, _ = room.join(Hello("Bob", Role.PLAYER, token=token(2)), 102.0)
    assert bob.id == 3


def test_a_token_takes_the_seat_back_even_before_the_drop_is_noticed() -> None:
    # Wi-Fi fails; the client reconnects while the server still holds its old socket.
    room = make_room()
    ann = join(room, "Ann")
    back, out = room.join(Hello("Ann", Role.PLAYER, token=token(1)), 101.0)
    assert back == ann
    assert [o.to for o in out] == [1, 1]


def test_an_away_player_still_holds_a_seat_in_a_full_room() -> None:
    room = make_room(limits=RoomLimits(max_players=2))
    join(room, "Ann")
    join(room, "Bob")
    room.drop(2, 101.0)
    with pytest.raises(JoinRefused) as refused_join:
        room.join(Hello("Cat", Role.PLAYER), 102.0)
    assert refused_join.value.code is CloseCode.ROOM_FULL
    assert room.join(Hello("Bob", Role.PLAYER, token=token(2)), 103.0)[0].id == 2


def test_the_password_is_asked_of_a_returning_player_too() -> None:
    room = make_room(password="disco")
    room.join(Hello("Ann", Role.PLAYER, password="disco"), 100.0)
    room.drop(1, 101.0)
    with pytest.raises(JoinRefused):
        room.join(Hello("Ann", Role.PLAYER, token=token(1)), 102.0)


# -- handle: pings, poses, rules --------------------------------------------


def test_ping_gets_a_pong_with_the_server_time_to_the_sender_only() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Sam", Role.SPECTATOR)
    assert room.handle(1, Ping(7, 12.5), 101.25) == [Outgoing(Pong(7, 12.5, 101.25), to=1)]
    assert room.handle(2, Ping(8, 3.0), 101.5) == [Outgoing(Pong(8, 3.0, 101.5), to=2)]


def test_pose_is_relayed_to_everyone_else_stamped_with_the_sender() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    landmarks = tuple(range(99))
    sent = Pose(12.0, (0.25, -0.5), landmarks, player=42)  # the client lies about who it is
    out = room.handle(2, sent, 101.0)
    assert out == [Outgoing(Pose(12.0, (0.25, -0.5), landmarks, 2), exclude=2)]
    assert room.members[2].features == (0.25, -0.5)
    assert room.members[2].last_pose_at == 101.0
    assert room.members[1].features == ()
    assert room.members[1].last_pose_at is None


def test_spectator_cannot_send_poses() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Sam", Role.SPECTATOR)
    err = refused(room, 2, Pose(1.0, (0.5,)))
    assert (err.code, err.message) == (ErrorCode.FORBIDDEN, "spectators cannot send poses")
    assert err.to_message() == Error(ErrorCode.FORBIDDEN, "spectators cannot send poses")
    assert room.members[2].features == ()


def test_spectator_cannot_seed() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Sam", Role.SPECTATOR)
    for seed in (grid_seed(), grid_seed(owner=1)):
        err = refused(room, 2, seed)
        assert (err.code, err.message) == (ErrorCode.FORBIDDEN, "spectators cannot change layers")
    assert room.generation_due(101.0) is None


def test_seed_for_another_players_layer_from_a_non_host_is_forbidden() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    err = refused(room, 2, grid_seed(owner=1))
    assert (err.code, err.message) == (
        ErrorCode.FORBIDDEN,
        "only a layer's owner or the host can change it",
    )
    assert room.generation_due(101.0) is None


def test_seed_from_the_host_for_another_players_layer_is_accepted() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    seed = grid_seed(owner=2)
    assert room.handle(1, seed, 100.5) == []
    assert room.generation_due(101.0) == GenerationBatch(1, (GenerationRequest(2, seed, None),))


def test_seed_naming_oneself_as_owner_is_the_same_as_owner_zero() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    seed = dice_seed(5, owner=2)
    assert room.handle(2, seed, 100.5) == []
    assert room.generation_due(101.0) == GenerationBatch(1, (GenerationRequest(2, seed, None),))


@pytest.mark.parametrize("owner", [9, 2])  # nobody, and a spectator
def test_host_seed_for_a_player_who_is_not_there_is_a_bad_request(owner: int) -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Sam", Role.SPECTATOR)
    err = refused(room, 1, grid_seed(owner=owner))
    assert (err.code, err.message) == (
        ErrorCode.BAD_REQUEST,
        f"there is no player {owner} in this room",
    )


def test_second_hello_is_a_bad_request() -> None:
    room = make_room()
    join(room, "Ann")
    err = refused(room, 1, Hello("Ann again", Role.PLAYER))
    assert (err.code, err.message) == (ErrorCode.BAD_REQUEST, "already joined: hello is sent once")
    assert list(room.members) == [1]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (Welcome(PlayerInfo(1, "Ann", Role.PLAYER, PALETTE[0]), CODE, 1), "welcome"),
        (Pong(1, 2.0, 3.0), "pong"),
        (Layer(1, (), 1, 1), "layer"),
        (Snapshot(CODE, 1, (), (), (START,), T0), "snapshot"),
        (Join(PlayerInfo(5, "Eve", Role.PLAYER, PALETTE[1])), "join"),
        (Error(ErrorCode.FORBIDDEN, "no"), "error"),
    ],
)
def test_server_only_kinds_from_a_client_are_bad_requests(message: Message, kind: str) -> None:
    room = make_room()
    join(room, "Ann")
    err = refused(room, 1, message)
    assert (err.code, err.message) == (
        ErrorCode.BAD_REQUEST,
        f"clients do not send {kind} messages",
    )
    assert room.loops.all() == ()
    assert list(room.members) == [1]


def test_a_message_from_someone_not_in_the_room_is_a_bad_request() -> None:
    room = make_room()
    join(room, "Ann")
    err = refused(room, 2, Ping(1, 0.0))
    assert (err.code, err.message) == (ErrorCode.BAD_REQUEST, "join the room first")
    room.leave(1, 101.0)
    assert refused(room, 1, Ping(1, 0.0)).code is ErrorCode.BAD_REQUEST


# -- tempo -------------------------------------------------------------------


def test_tempo_change_lands_on_the_first_bar_at_least_one_beat_away() -> None:
    # 101.6 s is beat 3.2: bar 1 (beat 4) is only 0.8 beat away, so bar 2 (beat 8, 104.0 s).
    room = make_room()
    join(room, "Ann")
    assert room.handle(1, Tempo(90.0), 101.6) == [Outgoing(Tempo(90.0, 2))]
    assert room.tempo.segments == (START, TempoSegment(104.0, 8.0, 90.0))


def test_tempo_change_a_full_beat_before_a_bar_lands_on_that_bar() -> None:
    # 101.0 s is beat 2: bar 1 (beat 4, 102.0 s) is two beats away.
    room = make_room()
    join(room, "Ann")
    assert room.handle(1, Tempo(90.0), 101.0) == [Outgoing(Tempo(90.0, 1))]
    assert room.tempo.segments == (START, TempoSegment(102.0, 4.0, 90.0))


def test_tempo_change_exactly_one_beat_before_a_bar_lands_on_that_bar() -> None:
    room = make_room()
    join(room, "Ann")
    assert room.handle(1, Tempo(90.0), 101.5) == [Outgoing(Tempo(90.0, 1))]


def test_tempo_map_changes_from_that_bar_exactly() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, Tempo(90.0), 101.6)
    assert room.tempo.bpm_at(103.999) == 120.0
    assert room.tempo.bpm_at(104.0) == 90.0
    assert room.tempo.beat_at(104.0) == 8.0
    assert room.tempo.beat_at(106.0) == 11.0  # 2 s at 90 bpm is 3 beats
    assert room.tempo.time_at_bar(1) == 102.0


def test_a_later_bar_asked_by_the_client_is_honoured() -> None:
    room = make_room()
    join(room, "Ann")
    assert room.handle(1, Tempo(150.0, starts_at_bar=5), 101.0) == [Outgoing(Tempo(150.0, 5))]
    assert room.tempo.segments == (START, TempoSegment(110.0, 20.0, 150.0))


def test_an_earlier_bar_asked_by_the_client_is_moved_to_the_first_reachable_bar() -> None:
    room = make_room()
    join(room, "Ann")
    assert room.handle(1, Tempo(90.0, starts_at_bar=1), 101.6) == [Outgoing(Tempo(90.0, 2))]


def test_a_second_change_on_the_same_bar_replaces_the_first() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, Tempo(90.0), 101.6)
    assert room.handle(2, Tempo(100.0), 101.7) == [Outgoing(Tempo(100.0, 2))]
    assert room.tempo.segments == (START, TempoSegment(104.0, 8.0, 100.0))


def test_a_change_after_a_change_has_landed_measures_beats_in_the_new_tempo() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, Tempo(90.0), 101.0)  # from bar 1 at 102.0
    # 103.0 s is beat 4 + 1.5 = 5.5; plus one beat is 6.5, so bar 2 (beat 8).
    assert room.handle(1, Tempo(60.0), 103.0) == [Outgoing(Tempo(60.0, 2))]
    # The first segment ended before 103.0 and is trimmed.
    assert room.tempo.segments == (
        TempoSegment(102.0, 4.0, 90.0),
        TempoSegment(102.0 + 4 * 60.0 / 90.0, 8.0, 60.0),
    )


def test_spectator_cannot_change_tempo() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Sam", Role.SPECTATOR)
    err = refused(room, 2, Tempo(90.0), 101.0)
    assert (err.code, err.message) == (ErrorCode.FORBIDDEN, "spectators cannot change the tempo")
    assert room.tempo.segments == (START,)


def test_out_of_range_bpm_is_a_tempo_error() -> None:
    room = make_room()
    join(room, "Ann")
    err = refused(room, 1, Tempo(300.0), 101.0)
    assert (err.code, err.message) == (ErrorCode.TEMPO, "bpm must be in range 40..240, got 300.0")
    assert room.tempo.segments == (START,)


def test_a_change_before_a_pending_change_is_a_tempo_error() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, Tempo(150.0, starts_at_bar=5), 101.0)
    err = refused(room, 1, Tempo(90.0), 101.0)
    assert (err.code, err.message) == (
        ErrorCode.TEMPO,
        "tempo change at bar 1 is before the last change at bar 5",
    )
    assert room.tempo.segments == (START, TempoSegment(110.0, 20.0, 150.0))


# One player must not grow the tempo map without bound (STYLE 7): a snapshot
# carries at most 64 segments, so changes are booked at most 16 bars ahead.
def test_pending_tempo_changes_cannot_outgrow_what_a_snapshot_may_carry() -> None:
    room = make_room()
    join(room, "Ann")
    for bar in range(10, 80):
        try:
            room.handle(1, Tempo(100.0 + bar, starts_at_bar=bar), 101.0)
        except RuleError as exc:
            assert exc.code is ErrorCode.TEMPO
    snapshot = room.snapshot(101.0)
    assert len(snapshot.tempo) <= MAX_TEMPO_SEGMENTS
    assert decode(encode(snapshot)) == snapshot


@given(st.integers(min_value=0, max_value=40_000))
def test_tempo_bar_is_the_first_whole_bar_at_least_one_beat_ahead(ms: int) -> None:
    now = T0 + ms / 1000
    beat = (now - T0) * 2  # 120 bpm
    room = make_room()
    join(room, "Ann")
    [out] = room.handle(1, Tempo(90.0), now)
    assert isinstance(out.message, Tempo)
    bar = out.message.starts_at_bar
    assert bar * 4 - beat >= 1 - 1e-6
    assert (bar - 1) * 4 - beat < 1


# -- generation ----------------------------------------------------------------


def test_no_seeds_no_batch() -> None:
    room = make_room()
    join(room, "Ann")
    for now in (100.0, 101.0, 101.25, 101.5, 103.0):
        assert room.generation_due(now) is None


def test_batch_is_due_only_in_the_beat_before_the_bars_lead() -> None:
    # For bar 1 (beat 4) the lead starts at beat 3 and the batch from beat 2:
    # due from 101.0 s to 101.5 s; past that, bar 2's window opens at beat 6 (103.0 s).
    room = make_room()
    join(room, "Ann")
    seed = grid_seed()
    room.handle(1, seed, 100.0)
    for early in (100.0, 100.5, 100.99):
        assert room.generation_due(early) is None
    batch = room.generation_due(101.0)
    assert batch == GenerationBatch(1, (GenerationRequest(1, seed, None),))
    assert room.generation_due(101.0) is None  # the seeds were taken


def test_batch_at_the_end_of_the_window() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, grid_seed(), 100.0)
    assert room.generation_due(101.5) == GenerationBatch(
        1, (GenerationRequest(1, grid_seed(), None),)
    )


def test_a_seed_past_the_window_waits_for_the_next_bars_window() -> None:
    room = make_room()
    join(room, "Ann")
    seed = dice_seed(7)
    room.handle(1, seed, 101.6)
    for now in (101.6, 102.0, 102.99):
        assert room.generation_due(now) is None
    assert room.generation_due(103.0) == GenerationBatch(2, (GenerationRequest(1, seed, None),))


def test_batch_holds_every_owner_sorted_and_the_newest_seed_of_each() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    join(room, "Cat")
    room.handle(3, dice_seed(1), 100.1)
    room.handle(1, dice_seed(2), 100.2)
    room.handle(3, dice_seed(3), 100.3)  # replaces Cat's first seed
    room.handle(1, grid_seed(owner=3), 100.4)  # the host replaces it again
    room.handle(2, grid_seed(GRID_B), 100.5)
    assert room.generation_due(101.0) == GenerationBatch(
        1,
        (
            GenerationRequest(1, dice_seed(2), None),
            GenerationRequest(2, grid_seed(GRID_B), None),
            GenerationRequest(3, grid_seed(owner=3), None),
        ),
    )


# A standing body, hands down (the pose mapping's rest), and the same body dancing hard
# with both hands up: two clearly different grooves.
STANDING = FEATURE_REST
DANCING = FEATURE_REST.copy()
DANCING[[FEATURE_INDEX["present"], FEATURE_INDEX["energy"]]] = (1.0, 2.5)
DANCING[[FEATURE_INDEX["left_hand"], FEATURE_INDEX["right_hand"]]] = (1.0, 1.0)


def pose(features: np.ndarray) -> Pose:
    return Pose(0.0, tuple(features.tolist()))


def asked(features: np.ndarray) -> tuple[float, ...]:
    return groove_controls(features).model_controls()


def test_seeds_carry_the_controls_the_body_asks_for() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, pose(DANCING), 100.2)
    room.handle(1, dice_seed(5), 100.5)
    room.handle(2, dice_seed(6), 100.5)  # Bob has sent no pose: the model's own choice
    assert room.generation_due(101.0) == GenerationBatch(
        1,
        (
            GenerationRequest(1, dice_seed(5), None, asked(DANCING)),
            GenerationRequest(2, dice_seed(6), None, None),
        ),
    )
    assert asked(DANCING) == pytest.approx((0.4625, 0.0, 1.0, 0.86))  # arms not spread


def test_a_body_that_moves_the_groove_gets_its_layer_continued_under_it() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, pose(STANDING), 100.1)
    room.handle(1, grid_seed(), 100.5)
    [layer_out] = generate(room, 101.0)
    assert isinstance(layer_out.message, Layer)
    playing = layer_out.message.pattern
    room.handle(2, pose(DANCING), 101.2)  # Bob dances, but has no layer to steer yet
    assert room.generation_due(103.0) is None  # and Ann's body asks for what it asked
    room.handle(1, pose(DANCING), 104.2)
    batch = room.generation_due(105.0)
    assert batch == GenerationBatch(3, (GenerationRequest(1, None, playing, asked(DANCING)),))
    room.handle(1, pose(STANDING), 105.2)  # moved back, but bar 3 was already cut
    assert room.generation_due(105.4) is None
    assert room.generation_due(107.0) == GenerationBatch(
        4, (GenerationRequest(1, None, playing, asked(STANDING)),)
    )


def test_a_small_change_in_what_the_body_asks_leaves_the_layer_alone() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, pose(STANDING), 100.1)
    room.handle(1, grid_seed(), 100.5)
    generate(room, 101.0)
    nudged = STANDING.copy()
    nudged[FEATURE_INDEX["left_hand"]] = -0.9  # a hand lifted a little
    change = max(abs(a - b) for a, b in zip(asked(nudged), asked(STANDING), strict=True))
    assert 0 < change < CONTROLS_MOVED
    room.handle(1, pose(nudged), 102.5)
    assert room.generation_due(103.0) is None


def test_apply_generated_schedules_and_broadcasts_layers_versioned_per_owner() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, grid_seed(), 100.5)
    room.handle(2, dice_seed(9), 100.5)
    batch = room.generation_due(101.0)
    assert batch is not None
    patterns = SeedGenerator().generate(batch.requests)
    assert patterns == patterns_for(grid_seed(), dice_seed(9))
    first = room.apply_generated(batch, patterns, 101.2)
    assert first == [
        Outgoing(Layer(1, patterns[0], 1, 1)),
        Outgoing(Layer(2, patterns[1], 1, 1)),
    ]
    room.handle(1, grid_seed(GRID_B), 101.6)
    second = generate(room, 103.0)
    assert second == [Outgoing(Layer(1, patterns_for(grid_seed(GRID_B))[0], 2, 2))]
    room.handle(1, dice_seed(4), 103.6)
    [third] = generate(room, 105.0)
    assert third.message == Layer(1, patterns_for(dice_seed(4))[0], 3, 3)
    # At 105 s bar 2 plays: Ann's first layer is over and was let go.
    assert [(layer.owner, layer.starts_at_bar, layer.version) for layer in room.loops.all()] == [
        (1, 2, 2),
        (1, 3, 3),
        (2, 1, 1),
    ]


def test_a_long_jam_keeps_only_the_layers_playing_and_pending() -> None:
    room = make_room()
    join(room, "Ann")
    for bar in range(1, 200):
        room.handle(1, dice_seed(bar), 100.0 + 2 * bar - 1.5)
        generate(room, 100.0 + 2 * bar - 1.0)  # the layer for bar `bar`
    # 199 layers were written; at 497 s bar 198 plays and bar 199's waits.
    assert [(layer.starts_at_bar, layer.version) for layer in room.loops.all()] == [
        (198, 198),
        (199, 199),
    ]


def test_requests_carry_the_owners_current_pattern_as_previous() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, grid_seed(), 100.5)
    [layer_out] = generate(room, 101.0)
    assert isinstance(layer_out.message, Layer)
    ann_pattern = layer_out.message.pattern
    room.handle(1, dice_seed(1), 102.5)
    room.handle(2, dice_seed(2), 102.5)
    assert room.generation_due(103.0) == GenerationBatch(
        2,
        (
            GenerationRequest(1, dice_seed(1), ann_pattern),
            GenerationRequest(2, dice_seed(2), None),
        ),
    )


def test_previous_is_the_pattern_playing_on_the_batch_bar() -> None:
    # Ann's layer for bar 1 is still pending when her next seed is cut for bar 2:
    # previous is the layer that will be playing on bar 2, that is the pending one.
    room = make_room()
    join(room, "Ann")
    room.handle(1, grid_seed(GRID_B), 100.5)
    generate(room, 101.0)
    room.handle(1, dice_seed(3), 101.6)
    batch = room.generation_due(103.0)
    assert batch is not None
    assert batch.requests[0].previous == patterns_for(grid_seed(GRID_B))[0]


def test_applied_exactly_one_beat_before_the_bar_keeps_the_bar() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, grid_seed(), 100.5)
    batch = room.generation_due(101.0)
    assert batch is not None
    out = room.apply_generated(batch, patterns_for(grid_seed()), 101.5)
    assert out == [Outgoing(Layer(1, patterns_for(grid_seed())[0], 1, 1))]


def test_applied_too_late_moves_to_the_next_reachable_bar() -> None:
    # 101.6 s is beat 3.2, less than a beat before bar 1: the layer starts on bar 2.
    room = make_room()
    join(room, "Ann")
    room.handle(1, grid_seed(), 100.5)
    batch = room.generation_due(101.0)
    assert batch is not None
    out = room.apply_generated(batch, patterns_for(grid_seed()), 101.6)
    assert out == [Outgoing(Layer(1, patterns_for(grid_seed())[0], 2, 1))]
    assert room.loops.layer_at(1, 1) is None


def test_applied_much_too_late_moves_further() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, grid_seed(), 100.5)
    batch = room.generation_due(101.0)
    assert batch is not None
    # 107.6 s is beat 15.2: bar 4 (beat 16) is 0.8 beat away, so bar 5.
    out = room.apply_generated(batch, patterns_for(grid_seed()), 107.6)
    assert [o.message for o in out] == [Layer(1, patterns_for(grid_seed())[0], 5, 1)]


def test_an_owner_who_left_while_generating_gets_no_layer() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, grid_seed(), 100.5)
    room.handle(2, dice_seed(2), 100.5)
    batch = room.generation_due(101.0)
    assert batch is not None
    patterns = SeedGenerator().generate(batch.requests)
    room.leave(1, 101.1)
    assert room.apply_generated(batch, patterns, 101.2) == [Outgoing(Layer(2, patterns[1], 1, 1))]
    assert room.loops.owners == (2,)


def test_apply_generated_needs_one_pattern_per_request() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, grid_seed(), 100.5)
    batch = room.generation_due(101.0)
    assert batch is not None
    with pytest.raises(ValueError):
        room.apply_generated(batch, [], 101.2)


# -- snapshot ------------------------------------------------------------------


def test_late_joiner_snapshot_holds_players_current_and_pending_layers_and_tempo() -> None:
    room = make_room()
    ann = join(room, "Ann")
    bob = join(room, "Bob")
    sam = join(room, "Sam", Role.SPECTATOR)
    room.handle(1, grid_seed(), 100.5)
    generate(room, 101.0)  # Ann v1 on bar 1
    room.handle(1, dice_seed(1), 101.2)
    room.handle(2, dice_seed(2), 101.2)
    generate(room, 103.0)  # Ann v2, Bob v1 on bar 2
    room.handle(1, grid_seed(GRID_B), 104.0)
    generate(room, 105.0)  # Ann v3 on bar 3 (beat 12, 106.0 s)
    room.handle(2, Tempo(90.0, starts_at_bar=4), 105.0)  # from 108.0 s

    # 105.5 s is bar 2.75: Ann's v1 no longer plays, v2 plays, v3 is pending.
    cat, out = room.join(Hello("Cat", Role.PLAYER), 105.5)
    grid_a, dice_1, dice_2, grid_b = patterns_for(
        grid_seed(), dice_seed(1), dice_seed(2), grid_seed(GRID_B)
    )
    snapshot = Snapshot(
        room=CODE,
        host=1,
        players=(ann, bob, sam, cat),
        layers=(Layer(1, dice_1, 2, 2), Layer(1, grid_b, 3, 3), Layer(2, dice_2, 2, 1)),
        tempo=(START, TempoSegment(108.0, 16.0, 90.0)),
        server_time=105.5,
    )
    assert cat == PlayerInfo(4, "Cat", Role.PLAYER, PALETTE[2])
    assert out == [
        Outgoing(Welcome(cat, CODE, 1, token=token(3)), to=4),  # Sam watches: no token
        Outgoing(snapshot, to=4),
        Outgoing(Join(cat), exclude=4),
    ]
    assert grid_a != dice_1  # the dropped layer really was a different one


def test_snapshot_tempo_drops_segments_that_ended_before_the_join() -> None:
    room = make_room()
    join(room, "Ann")
    room.handle(1, Tempo(90.0), 101.0)  # from bar 1 at 102.0
    _, out = room.join(Hello("Bob", Role.PLAYER), 103.0)
    snapshot = out[1].message
    assert isinstance(snapshot, Snapshot)
    assert snapshot.tempo == (TempoSegment(102.0, 4.0, 90.0),)


def test_a_tempo_change_too_far_ahead_is_refused_with_its_limit() -> None:
    room = make_room()
    join(room, "Ann")
    with pytest.raises(RuleError) as refused:
        room.handle(1, Tempo(100.0, starts_at_bar=18), 101.0)  # earliest bar is 1
    assert (refused.value.code, refused.value.message) == (
        ErrorCode.TEMPO,
        "a tempo change can start at most 16 bars after bar 1, not at bar 18",
    )
    [out] = room.handle(1, Tempo(100.0, starts_at_bar=17), 101.0)
    assert out.message == Tempo(100.0, 17)


# -- the host mutes and removes players -----------------------------------------


def test_the_host_mutes_and_unmutes_a_player_and_everyone_hears_of_it() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    join(room, "Cat")
    assert room.handle(1, Mute(2, True), 101.0) == [Outgoing(Mute(2, True))]
    assert room.handle(1, Mute(3, True), 101.0) == [Outgoing(Mute(3, True))]
    assert room.muted == {2, 3}
    assert room.handle(1, Mute(2, False), 101.5) == [Outgoing(Mute(2, False))]
    assert room.muted == {3}
    assert room.handle(1, Mute(2, False), 101.5) == [Outgoing(Mute(2, False))]  # idempotent
    assert room.muted == {3}


def test_a_late_joiner_learns_who_is_muted_from_the_snapshot() -> None:
    room = make_room()
    ann, bob, cat = join(room, "Ann"), join(room, "Bob"), join(room, "Cat")
    room.handle(1, Mute(3, True), 101.0)
    room.handle(1, Mute(2, True), 101.0)
    dan, out = room.join(Hello("Dan", Role.PLAYER), 102.0)
    snapshot = Snapshot(CODE, 1, (ann, bob, cat, dan), (), (START,), 102.0, muted=(2, 3))
    assert out[1] == Outgoing(snapshot, to=4)
    assert decode(encode(snapshot)) == snapshot


def test_a_muted_player_who_leaves_is_no_longer_muted() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    room.handle(1, Mute(2, True), 101.0)
    room.leave(2, 101.5)
    assert room.muted == set()
    assert room.snapshot(102.0).muted == ()


def test_the_host_may_mute_an_ai_band_member() -> None:
    room = make_room()
    join(room, "Ann")
    room.add_band(1, 5, T0)
    assert room.handle(1, Mute(2, True), 101.0) == [Outgoing(Mute(2, True))]


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (Mute(1, True), "only the host can mute players"),
        (Mute(3, False), "only the host can unmute players"),
        (Remove(3), "only the host can remove players"),
    ],
)
def test_only_the_host_may_mute_or_remove(message: Message, text: str) -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    join(room, "Cat")
    join(room, "Sam", Role.SPECTATOR)
    for sender in (2, 4):  # a player and a spectator
        err = refused(room, sender, message)
        assert (err.code, err.message) == (ErrorCode.FORBIDDEN, text)
        assert err.to_message() == Error(ErrorCode.FORBIDDEN, text)
    assert room.muted == set()
    assert list(room.members) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (Mute(1, True), "the host cannot mute themselves"),
        (Remove(1), "the host cannot remove themselves"),
        (Mute(9, True), "there is no player 9 in this room"),
        (Remove(9), "there is no player 9 in this room"),
        (Mute(3, True), "spectators have no layer to mute"),
    ],
)
def test_muting_or_removing_oneself_or_no_one_is_a_bad_request(message: Message, text: str) -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    join(room, "Sam", Role.SPECTATOR)
    err = refused(room, 1, message)
    assert (err.code, err.message) == (ErrorCode.BAD_REQUEST, text)
    assert room.muted == set()
    assert list(room.members) == [1, 2, 3]


def test_the_host_removes_a_player_who_is_closed_and_everyone_hears_a_leave() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Bob")
    join(room, "Cat")
    room.handle(2, grid_seed(), 100.5)
    room.handle(1, Mute(2, True), 100.5)
    assert room.handle(1, Remove(2), 101.0) == [
        Outgoing(Leave(2, 1), exclude=2),
        Outgoing(Leave(2, 1), to=2, close=CloseCode.REMOVED, reason="removed by the host"),
    ]
    assert REMOVED_REASON == "removed by the host"
    assert CloseCode.REMOVED == 4007
    assert list(room.members) == [1, 3]
    assert room.muted == set()
    assert room.generation_due(101.0) is None  # Bob's seed went with him
    assert room.leave(2, 101.5) == []  # the shell's leave, when the socket closes, is a no-op
    err = refused(room, 2, Ping(1, 0.0))
    assert (err.code, err.message) == (ErrorCode.BAD_REQUEST, "join the room first")


def test_the_host_may_remove_a_spectator() -> None:
    room = make_room()
    join(room, "Ann")
    join(room, "Sam", Role.SPECTATOR)
    out = room.handle(1, Remove(2), 101.0)
    assert [(o.message, o.close) for o in out] == [
        (Leave(2, 1), None),
        (Leave(2, 1), CloseCode.REMOVED),
    ]
    assert list(room.members) == [1]
