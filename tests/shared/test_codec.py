"""The msgpack codec: every kind round-trips, and every malformed frame is refused exactly.

A refused frame must raise ProtocolError and nothing else, with a message that names
the field and the rule it broke, so each rejection below asserts the whole message.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.codec import (
    LANDMARK_BYTES,
    MAX_FRAME_BYTES,
    PATTERN_BYTES,
    ProtocolError,
    decode,
    encode,
)
from shared.drums import DRUM_COUNT, LAYER_STEPS, empty_pattern, make_pattern
from shared.messages import (
    KINDS,
    Error,
    ErrorCode,
    Hello,
    Join,
    Kind,
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
    kind_of,
)
from shared.tempo import TempoSegment

# 288 velocities stepping by 7 (coprime with 128): every value 0..127 occurs.
BUSY = make_pattern(
    [((step * DRUM_COUNT + drum) * 7) % 128 for drum in range(DRUM_COUNT)]
    for step in range(LAYER_STEPS)
)
SPARSE = make_pattern(
    [
        127 if (step % 4 == 0 and drum == 0) or (step % 8 == 4 and drum == 1) else 0
        for drum in range(9)
    ]
    for step in range(LAYER_STEPS)
)
LANDMARKS = (0, 65535, *range(1, 97 * 673, 673))  # 99 values, both ends of 0..65535
ANA = PlayerInfo(id=42, name="Ana Zoë", role=Role.AI, colour=0x12ABEF)
BO = PlayerInfo(id=2**31 - 1, name="b" * 24, role=Role.SPECTATOR, colour=0xFFFFFF)
GRID = (1, 0, 4, 0, 3, 0, 4, 0, 1, 0, 4, 0, 3, 0, 4, 511)

SAMPLES: list[Message] = [
    Hello(name="Zoë 🥁", role=Role.SPECTATOR, protocol=7, room="ABCD", password="s3cr3t pass"),
    Welcome(player=ANA, room="WXYZ", host=7, protocol=65535),
    Ping(seq=2**32 - 1, client_time=-12.25),
    Pong(seq=5, client_time=1.5, server_time=1e9 + 0.125),
    Pose(
        client_time=3.75,
        features=(0.5, -1000.0, 1000.0, 1e-9, *(i / 7 for i in range(28))),
        landmarks=LANDMARKS,
        player=9,
    ),
    Seed(source=SeedSource.GRID, grid=GRID, dice=0, density=0.25, owner=3),
    Seed(source=SeedSource.DICE, grid=(), dice=2**31 - 1, density=1.0, owner=0),
    Layer(owner=3, pattern=BUSY, starts_at_bar=12, version=4),
    Tempo(bpm=97.5, starts_at_bar=8),
    Snapshot(
        room="QRST",
        host=2,
        players=(ANA, BO),
        layers=(
            Layer(owner=42, pattern=BUSY, starts_at_bar=0, version=1),
            Layer(owner=42, pattern=SPARSE, starts_at_bar=4, version=2),
            Layer(owner=2**31 - 1, pattern=empty_pattern(), starts_at_bar=2, version=0),
        ),
        tempo=(
            TempoSegment(start_time=100.0, start_beat=0.0, bpm=120.0),
            TempoSegment(start_time=104.0, start_beat=8.0, bpm=90.5),
            TempoSegment(start_time=112.0, start_beat=20.0, bpm=240.0),
        ),
        server_time=123.456,
        muted=(1, 42, 2**31 - 1),
    ),
    Join(player=BO),
    Leave(player=4, host=2),
    Error(code=ErrorCode.TEMPO, message="bpm must be in range 40..240, got 300.0"),
    Mute(player=2**31 - 1, muted=True),
    Mute(player=1, muted=False),
    Remove(player=7),
]


def test_samples_cover_every_kind() -> None:
    assert {kind_of(m) for m in SAMPLES} == set(KINDS) == set(Kind)
    assert len(LANDMARKS) == 99
    assert {v for step in BUSY for v in step} == set(range(128))


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip(message: Message) -> None:
    frame = encode(message)
    assert isinstance(frame, bytes)
    decoded = decode(frame)
    assert type(decoded) is type(message)
    assert decoded == message
    assert encode(decoded) == frame  # the encoding is canonical


def test_wire_format_is_a_flat_map_with_packed_bytes() -> None:
    assert encode(Ping(seq=1, client_time=0.5)) == msgpack.packb(
        {"type": "ping", "seq": 1, "client_time": 0.5}, use_bin_type=True
    )
    layer = msgpack.unpackb(encode(SAMPLES[7]), raw=False)
    assert layer["type"] == "layer"
    assert layer["pattern"] == bytes(v for step in BUSY for v in step)
    assert len(layer["pattern"]) == PATTERN_BYTES == 288
    pose = msgpack.unpackb(encode(SAMPLES[4]), raw=False)
    assert len(pose["landmarks"]) == LANDMARK_BYTES == 198
    assert pose["landmarks"][:4] == b"\x00\x00\xff\xff"  # big-endian 16-bit values


def test_omitted_optional_fields_take_their_defaults() -> None:
    assert decode(pack({"type": "hello", "name": "a", "role": "player"})) == Hello(
        name="a", role=Role.PLAYER, protocol=3, room="", password="", token=""
    )
    # A snapshot from before anyone was muted need not say so.
    assert decode(pack(snapshot())).muted == ()  # type: ignore[union-attr]
    assert decode(pack({"type": "leave"})) == Leave(player=0, host=0)
    assert decode(pack({"type": "seed", "source": "dice"})) == Seed(SeedSource.DICE)


def test_ints_are_accepted_for_floats_and_become_floats() -> None:
    tempo = decode(pack({"type": "tempo", "bpm": 40}))
    assert tempo == Tempo(bpm=40.0)
    assert type(tempo.bpm) is float  # type: ignore[union-attr]


def test_boundary_values_are_accepted() -> None:
    assert decode(pack({"type": "tempo", "bpm": 240.0, "starts_at_bar": 2**31 - 1})) == Tempo(
        240.0, 2**31 - 1
    )
    assert decode(pack({"type": "ping", "seq": 0, "client_time": -1e12})) == Ping(0, -1e12)
    assert decode(pack({"type": "pose", "client_time": 0, "features": [0.0] * 32})) == Pose(
        0.0, (0.0,) * 32
    )


# -- rejections -------------------------------------------------------------------------


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def ping(**changes: Any) -> dict[str, Any]:
    return {"type": "ping", "seq": 1, "client_time": 0.0, **changes}


def hello(**changes: Any) -> dict[str, Any]:
    return {"type": "hello", "name": "Ana", "role": "player", **changes}


def pose(**changes: Any) -> dict[str, Any]:
    return {"type": "pose", "client_time": 1.0, "features": [0.5, 0.25], **changes}


def tempo(**changes: Any) -> dict[str, Any]:
    return {"type": "tempo", "bpm": 120.0, **changes}


def seed(**changes: Any) -> dict[str, Any]:
    return {"type": "seed", "source": "grid", "grid": list(GRID), **changes}


def layer(**changes: Any) -> dict[str, Any]:
    return {
        "type": "layer",
        "owner": 1,
        "pattern": bytes(PATTERN_BYTES),
        "starts_at_bar": 0,
        "version": 0,
        **changes,
    }


def player(**changes: Any) -> dict[str, Any]:
    return {"id": 1, "name": "Ana", "role": "player", "colour": 0, **changes}


def snapshot(**changes: Any) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "room": "ABCD",
        "host": 1,
        "players": [player()],
        "layers": [{k: v for k, v in layer().items() if k != "type"}],
        "tempo": [{"start_time": 0.0, "start_beat": 0.0, "bpm": 120.0}],
        "server_time": 5.0,
        **changes,
    }


def refused(frame: bytes | str) -> str:
    with pytest.raises(ProtocolError) as exc:
        decode(frame)
    return str(exc.value)


def test_the_base_frames_are_valid() -> None:
    # So that each rejection below fails for the one change it makes.
    for frame in (ping(), hello(), pose(), tempo(), seed(), layer(), snapshot()):
        assert kind_of(decode(pack(frame))).value == frame["type"]


def test_text_frame() -> None:
    assert refused('{"type": "ping"}') == "frames must be binary msgpack, not text"


def test_oversize_frame() -> None:
    assert refused(bytes(MAX_FRAME_BYTES + 1)) == "frame must be at most 65536 bytes, got 65537"


def test_frame_of_exactly_the_size_limit_is_parsed() -> None:
    overhead = len(pack(ping(pad=b"")))
    frame = pack(ping(pad=bytes(MAX_FRAME_BYTES - overhead - 1)))  # bin16 length: 1 more
    assert len(frame) == MAX_FRAME_BYTES
    assert refused(frame) == "ping has unknown field 'pad'"


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (b"", "ValueError"),  # incomplete input
        (pack(ping())[:-1], "ValueError"),  # truncated
        (pack(ping())[:5], "ValueError"),
        (b"\xc1", "FormatError"),  # the one byte msgpack never uses
        (pack(ping()) + b"\x00", "ExtraData"),
        (b"\xa3\xff\xfe\xfd", "UnicodeDecodeError"),
        (pack({1: "one"}), "ValueError"),  # non-string map key
        (b"\x91" * 1025 + b"\xc0", "StackError"),  # deeper than msgpack's stack
        (b"\xd4\xff\x00", "ValueError"),  # a timestamp extension of a wrong length
    ],
    ids=["empty", "truncated", "cut", "c1", "extra", "utf8", "int-key", "stack", "timestamp"],
)
def test_not_msgpack(frame: bytes, error: str) -> None:
    assert refused(frame) == f"frame is not valid msgpack ({error})"


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1, 2], "frame must be a map, got [1, 2]"),
        (7, "frame must be a map, got 7"),
        (None, "frame must be a map, got None"),
        # Long values are cut to 40 characters: 37 and an ellipsis.
        ("x" * 100, "frame must be a map, got '" + "x" * 36 + "..."),
    ],
)
def test_top_level_not_a_map(obj: Any, message: str) -> None:
    assert refused(pack(obj)) == message


@pytest.mark.parametrize(
    ("kind", "shown"),
    [("bogus", "'bogus'"), ("HELLO", "'HELLO'"), (b"hello", "b'hello'"), (3, "3")],
)
def test_unknown_kind(kind: Any, shown: str) -> None:
    assert refused(pack({"type": kind})) == f"frame.type must be a known message kind, got {shown}"


def test_missing_type() -> None:
    frame = pack({"seq": 1, "client_time": 0.0})
    assert refused(frame) == "frame.type must be a known message kind, got None"


def test_unknown_field() -> None:
    assert refused(pack(ping(extra=1))) == "ping has unknown field 'extra'"
    assert refused(pack({**ping(), b"seq": 1})) == "ping has unknown field b'seq'"


def test_missing_required_field() -> None:
    assert refused(pack({"type": "ping", "client_time": 0.0})) == "ping is missing field 'seq'"
    assert refused(pack({"type": "join"})) == "join is missing field 'player'"
    assert refused(pack({"type": "tempo"})) == "tempo is missing field 'bpm'"
    assert refused(pack({"type": "mute", "player": 2})) == "mute is missing field 'muted'"
    assert refused(pack({"type": "remove"})) == "remove is missing field 'player'"


def test_mute_and_remove_on_the_wire() -> None:
    assert encode(Mute(3, True)) == pack({"type": "mute", "player": 3, "muted": True})
    assert encode(Remove(3)) == pack({"type": "remove", "player": 3})


REJECTIONS: list[tuple[dict[str, Any], str]] = [
    # wrong types
    (ping(seq="1"), "ping.seq must be an integer, got '1'"),
    (ping(seq=True), "ping.seq must be an integer, got True"),
    (ping(seq=1.0), "ping.seq must be an integer, got 1.0"),
    (ping(seq=None), "ping.seq must be an integer, got None"),
    (ping(client_time="0"), "ping.client_time must be a number, got '0'"),
    (ping(client_time=True), "ping.client_time must be a number, got True"),
    (ping(client_time=[0.0]), "ping.client_time must be a number, got [0.0]"),
    (hello(name=b"Ana"), "hello.name must be a string, got b'Ana'"),
    (hello(name=5), "hello.name must be a string, got 5"),
    (pose(features=1.0), "pose.features must be an array, got 1.0"),
    (pose(features=b"\x00"), "pose.features must be an array, got b'\\x00'"),
    (pose(features=[0.5, "1"]), "pose.features[1] must be a number, got '1'"),
    # ints out of range
    (ping(seq=-1), "ping.seq must be in range 0..4294967295, got -1"),
    (ping(seq=2**32), "ping.seq must be in range 0..4294967295, got 4294967296"),
    (ping(seq=2**64 - 1), f"ping.seq must be in range 0..4294967295, got {2**64 - 1}"),
    (hello(protocol=65536), "hello.protocol must be in range 0..65535, got 65536"),
    (tempo(starts_at_bar=-1), "tempo.starts_at_bar must be in range 0..2147483647, got -1"),
    (
        {"type": "join", "player": player(colour=0x1000000)},
        "join.player.colour must be in range 0..16777215, got 16777216",
    ),
    (
        {"type": "leave", "host": 2**31},
        "leave.host must be in range 0..2147483647, got 2147483648",
    ),
    (seed(grid=[0, 0, 0, 512, *[0] * 12]), "seed.grid[3] must be in range 0..511, got 512"),
    (seed(grid=[-1, *[0] * 15]), "seed.grid[0] must be in range 0..511, got -1"),
    # floats that are not finite
    (tempo(bpm=math.nan), "tempo.bpm must be a finite number, got nan"),
    (tempo(bpm=math.inf), "tempo.bpm must be a finite number, got inf"),
    (tempo(bpm=-math.inf), "tempo.bpm must be a finite number, got -inf"),
    (ping(client_time=math.nan), "ping.client_time must be a finite number, got nan"),
    (pose(features=[0.0, math.inf]), "pose.features[1] must be a finite number, got inf"),
    # floats out of range
    (tempo(bpm=39.9), "tempo.bpm must be in range 40..240, got 39.9"),
    (tempo(bpm=240.1), "tempo.bpm must be in range 40..240, got 240.1"),
    (tempo(bpm=0), "tempo.bpm must be in range 40..240, got 0"),
    (
        ping(client_time=1e12 + 1),
        "ping.client_time must be in range -1e+12..1e+12, got 1000000000001.0",
    ),
    (seed(density=1.5), "seed.density must be in range 0..1, got 1.5"),
    (seed(density=-0.0001), "seed.density must be in range 0..1, got -0.0001"),
    (pose(features=[0.0, 1000.5]), "pose.features[1] must be in range -1000..1000, got 1000.5"),
    # text
    (hello(name="a" * 25), f"hello.name must be 1..24 characters long, got '{'a' * 25}'"),
    (hello(name=""), "hello.name must be 1..24 characters long, got ''"),
    (hello(name="a\nb"), "hello.name must be printable text, got 'a\\nb'"),
    (hello(name="\x00"), "hello.name must be printable text, got '\\x00'"),
    (hello(name="a\x1b[2J"), "hello.name must be printable text, got 'a\\x1b[2J'"),
    (hello(name="\u202eevil"), "hello.name must be printable text, got '\\u202eevil'"),
    (hello(password="p" * 65), f"hello.password must be 0..64 characters long, got '{'p' * 36}..."),
    (
        {"type": "error", "code": "tempo", "message": "m" * 501},
        f"error.message must be 0..500 characters long, got '{'m' * 36}...",
    ),
    # room codes
    (hello(room="abcd"), "hello.room must be empty or 4 letters A-Z, got 'abcd'"),
    (hello(room="ABC"), "hello.room must be empty or 4 letters A-Z, got 'ABC'"),
    (hello(room="AB1D"), "hello.room must be empty or 4 letters A-Z, got 'AB1D'"),
    (hello(room="ABCDE"), "hello.room must be 0..4 characters long, got 'ABCDE'"),
    (hello(token="0" * 31), f"hello.token must be empty or 32 hex digits, got '{'0' * 31}'"),
    (hello(token="G" * 32), f"hello.token must be empty or 32 hex digits, got '{'G' * 32}'"),
    (hello(token="0" * 33), f"hello.token must be 0..32 characters long, got '{'0' * 33}'"),
    (
        {"type": "welcome", "player": player(), "room": "", "host": 1},
        "welcome.room must be 4..4 characters long, got ''",
    ),
    # enums
    (hello(role="ai"), "hello.role must be one of player|spectator, got 'ai'"),
    (hello(role="PLAYER"), "hello.role must be one of player|spectator, got 'PLAYER'"),
    (hello(role=b"player"), "hello.role must be one of player|spectator, got b'player'"),
    (
        {"type": "join", "player": player(role="admin")},
        "join.player.role must be one of player|spectator|ai, got 'admin'",
    ),
    (seed(source="random"), "seed.source must be one of grid|dice, got 'random'"),
    (
        {"type": "error", "code": 1, "message": ""},
        "error.code must be one of forbidden|bad_request|tempo, got 1",
    ),
    # lengths of arrays and byte strings
    (pose(features=[0.0] * 33), "pose.features must have at most 32 items, got 33"),
    (pose(landmarks=bytes(197)), "pose.landmarks must be 0 or 198 bytes, got 197"),
    (pose(landmarks=bytes(200)), "pose.landmarks must be 0 or 198 bytes, got 200"),
    (pose(landmarks=[0] * 99), "pose.landmarks must be bytes, got [" + "0, " * 12 + "..."),
    (pose(landmarks="ab"), "pose.landmarks must be bytes, got 'ab'"),
    (layer(pattern=bytes(287)), "layer.pattern must be 288 bytes, got 287"),
    (layer(pattern=bytes(289)), "layer.pattern must be 288 bytes, got 289"),
    (layer(pattern=[0, 0]), "layer.pattern must be 288 bytes, got [0, 0]"),
    (
        layer(pattern=bytes(287) + b"\x80"),
        "layer.pattern velocities must be in range 0..127, got 128",
    ),
    (
        layer(pattern=b"\xff" + bytes(287)),
        "layer.pattern velocities must be in range 0..127, got 255",
    ),
    # seeds
    (seed(grid=[0] * 15), "seed.grid must have 0 or 16 items, got 15"),
    (seed(grid=[0] * 17), "seed.grid must have 0 or 16 items, got 17"),
    (seed(grid=[]), "seed.grid must have 16 steps for a grid seed"),
    ({"type": "seed", "source": "grid"}, "seed.grid must have 16 steps for a grid seed"),
    (seed(source="dice"), "seed.grid must be empty for a dice seed"),
    # nested snapshot fields
    (
        snapshot(players=[player(), player(name="")]),
        "snapshot.players[1].name must be 1..24 characters long, got ''",
    ),
    (
        snapshot(players=[player(name="a\tb")]),
        "snapshot.players[0].name must be printable text, got 'a\\tb'",
    ),
    (snapshot(players=[player(), 3]), "snapshot.players[1] must be a map, got 3"),
    (snapshot(players=[player(type="x")]), "snapshot.players[0] has unknown field 'type'"),
    (
        snapshot(players={"0": player()}),
        "snapshot.players must be an array, got {'0': {'colour': 0, 'id': 1, 'name': ...",
    ),
    (
        snapshot(layers=[{"owner": 1, "pattern": bytes(288), "starts_at_bar": 0}]),
        "snapshot.layers[0] is missing field 'version'",
    ),
    (
        snapshot(layers=[{"owner": 1, "pattern": b"\x80" * 288, "starts_at_bar": 0, "version": 0}]),
        "snapshot.layers[0].pattern velocities must be in range 0..127, got 128",
    ),
    (
        snapshot(tempo=[{"start_time": 0.0, "start_beat": 0.0, "bpm": 300}]),
        "snapshot.tempo[0].bpm must be in range 40..240, got 300",
    ),
    (
        snapshot(tempo=[{"start_time": 0.0, "start_beat": -4.0, "bpm": 120.0}]),
        "snapshot.tempo[0].start_beat must be in range 0..8.58993e+09, got -4.0",
    ),
    (
        snapshot(tempo=[{"start_time": math.nan, "start_beat": 0.0, "bpm": 120.0}]),
        "snapshot.tempo[0].start_time must be a finite number, got nan",
    ),
    (
        snapshot(tempo=[{"start_time": 0.0, "start_beat": 0.0, "bpm": 120.0, "x": 1}]),
        "snapshot.tempo[0] has unknown field 'x'",
    ),
    (snapshot(room="abcd"), "snapshot.room must be 4 letters A-Z, got 'abcd'"),
    (
        snapshot(players=[player()] * 1025),
        "snapshot.players must have at most 1024 items, got 1025",
    ),
    (snapshot(layers=[0] * 4097), "snapshot.layers must have at most 4096 items, got 4097"),
    (
        snapshot(tempo=[{"start_time": 0.0, "start_beat": 0.0, "bpm": 120.0}] * 65),
        "snapshot.tempo must have at most 64 items, got 65",
    ),
    (
        {"type": "welcome", "player": "Ana", "room": "ABCD", "host": 1},
        "welcome.player must be a map, got 'Ana'",
    ),
    # mute, remove and the muted players of a snapshot
    ({"type": "mute", "player": 2, "muted": 1}, "mute.muted must be true or false, got 1"),
    ({"type": "mute", "player": 2, "muted": "no"}, "mute.muted must be true or false, got 'no'"),
    (
        {"type": "mute", "player": 0, "muted": True},
        "mute.player must be in range 1..2147483647, got 0",
    ),
    ({"type": "mute", "player": "2", "muted": True}, "mute.player must be an integer, got '2'"),
    ({"type": "mute", "player": 2, "muted": True, "x": 1}, "mute has unknown field 'x'"),
    ({"type": "remove", "player": -1}, "remove.player must be in range 1..2147483647, got -1"),
    (
        {"type": "remove", "player": 2**31},
        "remove.player must be in range 1..2147483647, got 2147483648",
    ),
    ({"type": "remove", "player": True}, "remove.player must be an integer, got True"),
    (snapshot(muted=3), "snapshot.muted must be an array, got 3"),
    (snapshot(muted=[2, 0]), "snapshot.muted[1] must be in range 1..2147483647, got 0"),
    (snapshot(muted=[2] * 1025), "snapshot.muted must have at most 1024 items, got 1025"),
]


@pytest.mark.parametrize(("obj", "message"), REJECTIONS, ids=[m for _, m in REJECTIONS])
def test_rejection(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError, match=f"^{re.escape(message)}$"):
        decode(pack(obj))


@pytest.mark.parametrize("code", [0, 5, 127, -2, -128])
def test_extension_types_are_refused(code: int) -> None:
    message = f"msgpack extension types are not allowed (type {code})"
    ext = bytes([0xD4, code & 0xFF, 0])  # fixext 1: msgpack.ExtType refuses negative codes
    assert refused(ext) == message
    assert refused(b"\x83\xa4type\xa4ping\xa3seq" + ext + b"\xabclient_time\x00") == message
    if code >= 0:
        assert refused(pack(ping(seq=msgpack.ExtType(code, b"ab")))) == message


def test_timestamp_extension_is_refused_by_the_field_checks() -> None:
    # msgpack turns ext type -1 into a Timestamp itself, without calling ext_hook; the
    # field decoders must still refuse it (had it become a float, it would pass as a time).
    stamp = msgpack.Timestamp(1, 0)
    assert (
        refused(pack(ping(client_time=stamp)))
        == "ping.client_time must be a number, got Timestamp(seconds=1, nanoseconds=0)"
    )
    assert refused(pack(stamp)) == "frame must be a map, got Timestamp(seconds=1, nanoseconds=0)"


def test_nested_arrays_within_the_stack_limit() -> None:
    # Nested values are shown three levels deep, never walked whole.
    assert refused(b"\x91" * 100 + b"\xc0") == "frame must be a map, got [[[[...]]]]"
    nested = b"\x83\xa4type\xa4pose\xabclient_time\x00\xa8features\x91" + b"\x91" * 100 + b"\xc0"
    assert refused(nested) == "pose.features[0] must be a number, got [[[[...]]]]"


# Regression: arrays nested ~1000 deep (a 1 KB frame) once made decode raise
# RecursionError while showing the value in the error message.
@pytest.mark.parametrize(
    "frame",
    [
        b"\x91" * 1000 + b"\xc0",
        b"\x91" * 1024 + b"\xc0",
        b"\x81\xa4type" + b"\x91" * 1000 + b"\xc0",
        b"\x83\xa4type\xa4pose\xabclient_time\x00\xa8features\x91" + b"\x91" * 1000 + b"\xc0",
    ],
    ids=["top-level", "stack-limit", "type", "features"],
)
def test_deeply_nested_arrays_are_a_protocol_error(frame: bytes) -> None:
    assert len(frame) < MAX_FRAME_BYTES
    with pytest.raises(ProtocolError):
        decode(frame)


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_decode_or_raise_protocol_error(frame: bytes) -> None:
    try:
        message = decode(frame)
    except ProtocolError:
        return
    assert type(message) in KINDS.values()


# Any msgpack value, to put where a field's value belongs.
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=30)
    | st.binary(max_size=300),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=1000, deadline=None)
@given(
    base=st.sampled_from(
        [
            ping(),
            hello(),
            pose(),
            tempo(),
            seed(),
            layer(),
            snapshot(),
            {"type": "mute", "player": 2, "muted": True},
            {"type": "remove", "player": 2},
        ]
    ),
    field=st.sampled_from(
        [
            "seq",
            "name",
            "role",
            "room",
            "features",
            "landmarks",
            "bpm",
            "grid",
            "source",
            "pattern",
            "players",
            "layers",
            "tempo",
            "type",
            "client_time",
            "density",
            "player",
            "muted",
            "zzz",
        ]
    ),
    value=_values,
)
def test_arbitrary_field_values_decode_or_raise_protocol_error(
    base: dict[str, Any], field: str, value: Any
) -> None:
    try:
        message = decode(pack({**base, field: value}))
    except ProtocolError:
        return
    assert type(message) in KINDS.values()


_times = st.floats(-1e12, 1e12, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    client_time=_times,
    features=st.lists(st.floats(-1000.0, 1000.0, allow_nan=False), max_size=32),
    landmarks=st.one_of(st.just(()), st.tuples(*[st.integers(0, 65535)] * 99)),
    player_id=st.integers(0, 2**31 - 1),
)
def test_pose_round_trip(
    client_time: float, features: list[float], landmarks: tuple[int, ...], player_id: int
) -> None:
    message = Pose(client_time, tuple(features), landmarks, player_id)
    assert decode(encode(message)) == message


@settings(max_examples=300, deadline=None)
@given(bpm=st.floats(40.0, 240.0), bar=st.integers(0, 2**31 - 1))
def test_tempo_round_trip(bpm: float, bar: int) -> None:
    assert decode(encode(Tempo(bpm, bar))) == Tempo(bpm, bar)
