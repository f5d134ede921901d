"""Fuzzing the codec, and the room behind it: hostile frames never raise anything else.

``decode`` either returns a message that round-trips through ``encode``, or raises
ProtocolError -- never another exception, whatever the bytes: wrong types, numbers out
of range, NaN, truncation, flipped bits, nesting 100,000 deep, extension types, map keys
that are not strings. A room fed every message that decodes (as the server shell feeds
it, answering RuleError with an error message) raises nothing else either, keeps its
members, host, mutes and loop stack consistent, and only ever says what its clients can
decode. Over 100,000 frames in all: a seeded loop (bench.fuzz_frames, which the live fuzz
``python -m bench.fuzz`` also draws from) and hypothesis.
"""

from __future__ import annotations

import collections
import random
from dataclasses import replace
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz_frames import MUTATIONS, WELL_FORMED, FrameFuzzer
from server.generator import SeedGenerator
from server.room import JoinRefused, Outgoing, Room, RoomLimits, RuleError
from shared.codec import (
    LANDMARK_VALUES,
    MAX_FEATURES,
    MAX_FRAME_BYTES,
    MAX_ID,
    MAX_SEQ,
    MAX_TEMPO_SEGMENTS,
    ProtocolError,
    decode,
    encode,
)
from shared.drums import DRUM_COUNT, GRID_STEPS, LAYER_STEPS, MAX_VELOCITY
from shared.messages import (
    Hello,
    Leave,
    Message,
    Mute,
    Ping,
    Pose,
    Remove,
    Role,
    Seed,
    SeedSource,
    Tempo,
    Welcome,
)
from shared.tempo import MAX_BPM, MIN_BPM

SEEDED_FRAMES = 100_000
ROOM_FRAMES = 20_000
ALWAYS_REFUSED = ("truncated", "nested", "ext", "lying_length", "bad_key", "text", "huge")


def decoded_or_refused(frame: bytes | str) -> Message | None:
    """The message, after checking it round-trips; None when the codec refused the frame."""
    try:
        message = decode(frame)
    except ProtocolError as exc:
        assert str(exc)  # a reason, always, and a short one: it becomes a close reason
        assert len(str(exc)) < 200, str(exc)
        return None
    again = encode(message)
    assert decode(again) == message
    assert encode(decode(again)) == again
    return message


# -- the seeded loop --------------------------------------------------------------------


def test_a_hundred_thousand_seeded_hostile_frames_decode_or_raise_protocol_error() -> None:
    fuzzer = FrameFuzzer("codec", players=(1, 2, 3))
    made: collections.Counter[str] = collections.Counter()
    accepted: collections.Counter[str] = collections.Counter()
    for _ in range(SEEDED_FRAMES):
        fuzzed = fuzzer.frame()
        made[fuzzed.how] += 1
        if decoded_or_refused(fuzzed.data) is not None:
            accepted[fuzzed.how] += 1
    assert sum(made.values()) == SEEDED_FRAMES
    assert set(made) == set(MUTATIONS)  # every mutation ran, a thousand times at least
    assert min(made.values()) > 1000
    for how in WELL_FORMED:  # the fuzzer's well-formed frames are well formed
        assert accepted[how] == made[how], how
    for how in ALWAYS_REFUSED:
        assert accepted[how] == 0, how
    # Mutations of good frames mostly break them, and now and then do not.
    for how in ("wrong_value", "bit_flip", "missing_field"):
        assert 0 < accepted[how] < made[how] / 2, how


def test_the_fuzzer_makes_every_mutation_once_before_it_draws_by_weight() -> None:
    sweep = [f.how for f in FrameFuzzer(7).frames(len(MUTATIONS))]
    assert sorted(sweep) == sorted(MUTATIONS)  # the rare ones too: a huge frame
    no_huge = [f.how for f in FrameFuzzer(7, huge=False).frames(len(MUTATIONS) - 1)]
    assert sorted(no_huge) == sorted(set(MUTATIONS) - {"huge"})


def test_the_fuzzer_is_deterministic_by_seed() -> None:
    first = [f.data for f in FrameFuzzer(7).frames(300)]
    assert first == [f.data for f in FrameFuzzer(7).frames(300)]
    assert first != [f.data for f in FrameFuzzer(8).frames(300)]


@pytest.mark.parametrize("opener", [b"\x91", b"\x81\xa0", b"\xdc\x00\x01", b"\x92\x00"])
@pytest.mark.parametrize("depth", [1023, 1024, 1025, 5000, 30_000, 100_000])
def test_deep_nesting_at_any_depth_is_a_protocol_error(opener: bytes, depth: int) -> None:
    """msgpack's C unpacker refuses more than 1024 levels with its own StackError; a
    frame of 100,000 levels is past the size limit before it gets there."""
    for frame in (
        opener * depth + b"\xc0",
        b"\x83\xa4type\xa4ping\xa3seq\x00\xabclient_time" + opener * depth + b"\x00",
    ):
        with pytest.raises(ProtocolError) as refused:
            decode(frame)
        if len(frame) > MAX_FRAME_BYTES:
            assert str(refused.value) == (
                f"frame must be at most {MAX_FRAME_BYTES} bytes, got {len(frame)}"
            )


def test_an_unknown_field_of_any_size_is_shown_short() -> None:
    frame = msgpack.packb({"type": "ping", "seq": 1, "client_time": 0.0, "x" * 60000: 1})
    with pytest.raises(ProtocolError) as refused:
        decode(frame)
    assert str(refused.value) == f"ping has unknown field '{'x' * 36}..."


# -- hypothesis: any msgpack value, and mutations of valid frames ---------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**64 - 1, -(2**63)])
    | st.floats()  # NaN and infinities included
    | st.floats(width=32)
    | st.text(max_size=40)
    | st.sampled_from(["hello", "ping", "pose", "seed", "tempo", "player", "spectator", "grid"])
    | st.binary(max_size=400)
    | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=20))
    | st.builds(msgpack.Timestamp, st.integers(0, 2**34 - 1), st.integers(0, 10**9 - 1))
)
# Any msgpack value, maps with keys of every packable type among them (the codec's
# unpacker refuses any key that is not a string or bytes).
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(max_size=10), inner, max_size=6)
        | st.dictionaries(
            st.integers(-5, 5) | st.none() | st.booleans() | st.binary(max_size=4),
            inner,
            max_size=3,
        )
    ),
    max_leaves=25,
)

_features = st.floats(-1000.0, 1000.0, allow_nan=False)
# Printable text: letters, marks of every script, digits, punctuation, symbols, spaces.
_names = st.text(
    st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S"], include_characters=" "),
    min_size=1,
    max_size=24,
)
_ids = st.integers(0, MAX_ID)
# Every message a client may send, anywhere in its ranges.
_client_messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(
        Hello,
        _names,
        st.sampled_from([Role.PLAYER, Role.SPECTATOR]),
        st.integers(0, 65535),
        st.sampled_from(["", "ABCD", "ZZZZ"]),
        st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=64),
        st.sampled_from(["", "0123456789abcdef" * 2]),
    ),
    st.builds(Ping, st.integers(0, MAX_SEQ), st.floats(-1e12, 1e12)),
    st.builds(
        Pose,
        st.floats(-1e12, 1e12),
        st.lists(_features, max_size=MAX_FEATURES).map(tuple),
        st.one_of(
            st.just(()),
            st.lists(st.integers(0, 65535), min_size=LANDMARK_VALUES, max_size=LANDMARK_VALUES).map(
                tuple
            ),
        ),
    ),
    st.builds(
        Seed,
        st.just(SeedSource.GRID),
        st.lists(st.integers(0, 2**DRUM_COUNT - 1), min_size=GRID_STEPS, max_size=GRID_STEPS).map(
            tuple
        ),
        owner=_ids,
    ),
    st.builds(Seed, st.just(SeedSource.DICE), dice=_ids, density=st.floats(0.0, 1.0), owner=_ids),
    st.builds(Tempo, st.floats(MIN_BPM, MAX_BPM), st.integers(0, MAX_ID)),
    st.builds(Mute, st.integers(1, MAX_ID), st.booleans()),
    st.builds(Remove, st.integers(1, MAX_ID)),
    st.builds(Leave),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_any_msgpack_value_decodes_or_raises_protocol_error(value: Any) -> None:
    decoded_or_refused(msgpack.packb(value, use_bin_type=True))


@settings(max_examples=800, deadline=None)
@given(_client_messages)
def test_every_valid_client_message_round_trips_exactly(message: Message) -> None:
    assert decoded_or_refused(encode(message)) == message


@settings(max_examples=1500, deadline=None)
@given(_client_messages, st.data())
def test_mutated_valid_frames_decode_or_raise_protocol_error(
    message: Message, data: st.DataObject
) -> None:
    frame = bytearray(encode(message))
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        at = data.draw(st.integers(0, max(0, len(frame) - 1)), label="at")
        how = data.draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]), label="how")
        if how == "flip" and frame:
            frame[at] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "set" and frame:
            frame[at] = data.draw(st.integers(0, 255))
        elif how == "insert":
            frame[at:at] = data.draw(st.binary(min_size=1, max_size=9))
        elif how == "delete":
            del frame[at : at + data.draw(st.integers(1, 9))]
        else:
            del frame[at:]
    decoded_or_refused(bytes(frame))


def _replace_somewhere(raw: Any, data: st.DataObject, value: Any) -> Any:
    """``raw`` with one value anywhere inside it (a field, a nested field, an item)
    replaced by ``value``; or a new field or item added."""
    if isinstance(raw, dict) and raw and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(raw, key=str)))
        return {**raw, key: _replace_somewhere(raw[key], data, value)}
    if isinstance(raw, list) and raw and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(raw) - 1))
        return [*raw[:i], _replace_somewhere(raw[i], data, value), *raw[i + 1 :]]
    if isinstance(raw, dict) and data.draw(st.booleans()):
        return {**raw, data.draw(st.text(max_size=10)): value}
    return value


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([f"server-{i}" for i in range(20)]), _values, st.data())
def test_any_value_anywhere_in_any_message_decodes_or_raises_protocol_error(
    seed: str, value: Any, data: st.DataObject
) -> None:
    """Clients' and the server's messages alike (a snapshot nests players, layers and
    tempo segments), with any value put anywhere in them."""
    fuzzer = FrameFuzzer(seed + str(data.draw(st.integers(0, 10**6))))
    message = data.draw(
        st.sampled_from(
            [fuzzer.valid_message(), fuzzer.server_message(), fuzzer.forbidden_message()]
        )
    )
    raw = msgpack.unpackb(encode(message), raw=False)
    decoded_or_refused(msgpack.packb(_replace_somewhere(raw, data, value), use_bin_type=True))


# -- the room behind the codec ------------------------------------------------------


def check_room(room: Room, now: float, snapshot: bool = True) -> None:
    """What must hold of a room whatever its members sent."""
    players = {i for i, m in room.members.items() if m.info.role is Role.PLAYER}
    spectators = {i for i, m in room.members.items() if m.info.role is Role.SPECTATOR}
    assert all(i == m.info.id for i, m in room.members.items())
    assert len(players) <= room.limits.max_players
    assert len(spectators) <= room.limits.max_spectators
    # The host is a player in the room, and there is one whenever a player is.
    assert room.host in players if players else room.host == 0
    # Only players' layers are stacked and muted; a member gone takes theirs along.
    assert set(room.loops.owners) <= players
    assert room.muted <= players
    for owner in room.loops.owners:
        versions = [layer.version for layer in room.loops.all() if layer.owner == owner]
        assert versions == sorted(set(versions))
    for member in room.members.values():
        assert len(member.features) <= MAX_FEATURES
        # Only a player with a token keeps a seat while away, and never past the grace.
        if member.away_since is not None:
            assert member.info.role is Role.PLAYER and member.token
            assert now - member.away_since < room.reconnect_grace
    tokens = [m.token for m in room.members.values() if m.token]
    assert len(tokens) == len(set(tokens)) == len(players)  # one secret per player seat
    assert len(room.tempo.segments) <= MAX_TEMPO_SEGMENTS
    if snapshot:  # what a joining client gets: it must decode it
        said = room.snapshot(now)
        assert decode(encode(said)) == said


def check_outgoing(
    room: Room, sender: int, outgoing: list[Outgoing], said: collections.Counter[str]
) -> None:
    for out in outgoing:
        said[type(out.message).__name__] += 1
        assert decode(encode(out.message)) == out.message
        if isinstance(out.message, Pose):
            assert out.message.player == sender and out.exclude == sender


class RoomFuzz:
    """A room fed decoded frames from random members, the way the server shell feeds
    it: a hello is a new connection (now and then with a token the room gave out), a
    leave closes one; connections drop and seats expire; layers are generated when due."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)
        self.now = 1000.0
        self.room = Room("FUZZ", self.now, limits=RoomLimits(max_players=6, max_spectators=4))
        self.generator = SeedGenerator()
        self.fuzzer = FrameFuzzer(seed, huge=False)
        self.errors = 0
        self.handled = 0
        self.said: collections.Counter[str] = collections.Counter()  # what the room sent
        self.tokens: list[str] = []  # every token a welcome gave out
        self.rejoined = 0
        self.steps = 0
        for i in range(4):
            self.join(Hello(f"member {i}", Role.PLAYER if i < 3 else Role.SPECTATOR))

    def join(self, hello: Hello) -> None:
        try:
            info, out = self.room.join(hello, self.now)
        except JoinRefused:
            return
        check_outgoing(self.room, info.id, out, self.said)
        for welcome in (o.message for o in out if isinstance(o.message, Welcome)):
            if welcome.token in self.tokens:
                self.rejoined += 1
            elif welcome.token:
                self.tokens.append(welcome.token)

    def step(self, frame: bytes | str) -> None:
        rng, room = self.rng, self.room
        self.now += rng.choice((0.0, 0.001, 0.02, 0.3, 3.0))
        self.fuzzer.players = sorted(room.members)
        message = decoded_or_refused(frame)
        senders = sorted(room.members) or [1]
        sender = rng.choice([*senders, *senders, 999])  # now and then, a stranger
        if isinstance(message, Hello) and rng.random() < 0.5:  # a new connection's hello
            if self.tokens and rng.random() < 0.5:  # back with a seat's token
                message = replace(message, role=Role.PLAYER, token=rng.choice(self.tokens))
            self.join(replace(message, room="", password=""))
        elif message is not None:
            if isinstance(message, Leave):  # the shell closes the connection
                out = room.leave(sender, self.now)
            else:
                try:
                    out = room.handle(sender, message, self.now)
                    self.handled += 1
                except RuleError as exc:
                    self.errors += 1
                    out = [Outgoing(exc.to_message(), to=sender)]
            check_outgoing(room, sender, out, self.said)
        if rng.random() < 0.02:  # a connection lost without a leave
            check_outgoing(room, sender, room.drop(rng.choice(senders), self.now), self.said)
        check_outgoing(room, 0, room.expire(self.now), self.said)
        # Removals and leaves empty a room: new members keep coming, as they would.
        if len(room.members) < 4 or rng.random() < 0.02:
            role = rng.choice((Role.PLAYER, Role.PLAYER, Role.SPECTATOR))
            self.join(Hello(f"member {rng.randrange(99)}", role))
        batch = room.generation_due(self.now)
        if batch is not None:
            patterns = self.generator.generate(batch.requests)
            assert all(len(p) == LAYER_STEPS for p in patterns)
            applied = room.apply_generated(batch, patterns, self.now)
            check_outgoing(room, 0, applied, self.said)
            for out in applied:
                assert all(max(step) <= MAX_VELOCITY for step in out.message.pattern)  # type: ignore[union-attr]
        self.steps += 1
        check_room(room, self.now, snapshot=self.steps % 10 == 0)


def test_a_room_fed_twenty_thousand_hostile_frames_keeps_its_invariants() -> None:
    fuzz = RoomFuzz("room")
    kinds: collections.Counter[str] = collections.Counter()
    for _ in range(ROOM_FRAMES):
        # Mostly frames that decode: the room only ever sees those.
        how = fuzz.rng.choice(("valid", "valid", "valid", "forbidden", "server_kind", None))
        fuzzed = fuzz.fuzzer.frame(how)
        kinds[fuzzed.how] += 1
        fuzz.step(fuzzed.data)
    assert sum(kinds.values()) == ROOM_FRAMES
    # The rules were exercised both ways: requests applied and requests refused.
    assert fuzz.handled > 4000 and fuzz.errors > 4000
    # Every kind of answer a room gives came up: joins, relayed poses, pongs, layers
    # written, tempo changes, mutes, removals and leaves, and errors.
    for kind in ("Welcome", "Join", "Pose", "Pong", "Layer", "Tempo", "Mute", "Leave", "Error"):
        assert fuzz.said[kind] > 10, kind
    assert fuzz.rejoined > 10  # players came back to their seats with their tokens


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.lists(_client_messages, min_size=1, max_size=30))
def test_a_room_fed_any_valid_client_messages_keeps_its_invariants(
    seed: int, messages: list[Message]
) -> None:
    fuzz = RoomFuzz(seed)
    for message in messages:
        fuzz.step(encode(message))
