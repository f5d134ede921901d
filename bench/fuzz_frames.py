"""Hostile frames, seeded: everything wrong a client can send a PoseJam server.

:class:`FrameFuzzer` makes frames of every kind of wrong: valid msgpack with wrong
types, out-of-range and huge numbers, NaN and infinities, missing, unknown and
non-string fields, unknown kinds, extension types, nesting thousands deep, huge
strings and arrays, lengths that lie, truncated frames, flipped bits, random bytes,
text frames, frames over the size limit -- and valid messages a client may not
send (a welcome, a layer, a snapshot, someone else's seed). The same seed gives the
same frames. The pure fuzz (``tests/shared/test_codec_fuzz.py``) and the live one
(``python -m bench.fuzz``) both draw from here.

It writes msgpack itself: the codec is the only place that speaks the wire format
for honest traffic; a fuzzer's job is to speak it wrongly.
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgpack

from shared.codec import (
    LANDMARK_VALUES,
    MAX_FEATURES,
    MAX_FRAME_BYTES,
    MAX_ID,
    MAX_SEQ,
    encode,
)
from shared.drums import DRUM_COUNT, GRID_STEPS, MAX_VELOCITY, PATTERN_BYTES, pattern_from_bytes
from shared.messages import (
    PROTOCOL_VERSION,
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
from shared.tempo import MAX_BPM, MIN_BPM, TempoSegment

# How each frame is made; the weights are how often, out of their sum.
MUTATIONS: dict[str, int] = {
    "valid": 6,  # a message a client may send, with values anywhere in their ranges
    "server_kind": 3,  # a welcome, layer, snapshot, join, pong, error from a client
    "forbidden": 3,  # someone else's seed, a mute or removal by a non-host, a far tempo
    "wrong_value": 8,  # one field's value replaced by any msgpack value
    "missing_field": 3,
    "unknown_field": 3,
    "bad_key": 2,  # a map key that is not a string: an int, nil, an array
    "unknown_kind": 3,
    "truncated": 5,
    "bit_flip": 6,
    "byte_edit": 4,  # bytes inserted, deleted or overwritten
    "garbage": 3,  # random bytes
    "random_value": 3,  # any msgpack value as the whole frame
    "nested": 3,  # arrays or maps nested up to 30,000 deep, alone or in a field
    "ext": 3,  # extension types, timestamps of every length
    "lying_length": 2,  # a string, bytes, array or map header claiming 4 GB
    "text": 2,  # a text frame
    "huge": 1,  # over the 64 KiB frame limit
}
# The mutations whose frames the codec would accept (a bit flip may happen to, too).
WELL_FORMED = ("valid", "server_kind", "forbidden")

# Numbers at and across the edges of every range the codec checks.
EDGE_INTS = (
    0, 1, -1, 2, 15, 16, 127, 128, 255, 256, 511, 512, 65535, 65536,
    0xFFFFFF, 0x1000000, 2**31 - 1, 2**31, -(2**31), 2**32 - 1, 2**32,
    2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1,
)  # fmt: skip
EDGE_FLOATS = (
    math.nan, -math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, -5e-324, 1e-300,
    1.7976931348623157e308, -1.7976931348623157e308, 1e12, 1e12 + 1, -1e12 - 1,
    39.999999, 40.0, 240.0, 240.00001, 1000.0, 1000.0001, -1000.0001, 0.5, 1.0000001,
)  # fmt: skip
# Text that is valid UTF-8 and still wrong somewhere: controls, bidi overrides,
# zero-widths, combining marks, emoji, the kind names in other cases.
ODD_TEXT = (
    "", " ", "\x00", "\n", "\x1b[2J", "\u202eevil", "\u200b", "e\u0301", "🥁" * 30,
    "hello", "HELLO", "hello ", "player", "spectator", "ai", "grid", "dice", "ABCD",
    "abcd", "0" * 32, "f" * 31, "G" * 32, "__proto__", "type", "null",
)  # fmt: skip
KINDS_AS_TEXT = (
    "hello", "welcome", "ping", "pong", "pose", "seed", "layer", "tempo", "snapshot",
    "join", "leave", "error", "mute", "remove",
)  # fmt: skip
HUGE_LIMIT = 2 * MAX_FRAME_BYTES  # the largest frame "huge" makes
# Random bytes to velocities: about one step in five sounds, at any velocity.
_SOME_HITS = bytes(b & MAX_VELOCITY if b < 52 else 0 for b in range(256))


@dataclass(frozen=True, slots=True)
class Fuzzed:
    data: bytes | str
    how: str  # the mutation that made it (a key of MUTATIONS)


def _map_header(n: int) -> bytes:
    return bytes([0x80 | n]) if n < 16 else b"\xde" + n.to_bytes(2, "big")


def pack_map(items: Sequence[tuple[bytes, bytes]]) -> bytes:
    """A msgpack map from already packed keys and values (which may be anything)."""
    return _map_header(len(items)) + b"".join(k + v for k, v in items)


def _pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


class FrameFuzzer:
    """Seeded hostile frames. ``players`` are the ids forbidden frames aim at (someone
    else's layer, a mute or a removal); ``huge`` allows frames over the size limit."""

    def __init__(
        self,
        seed: int | str,
        players: Sequence[int] = (),
        huge: bool = True,
        weights: dict[str, int] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.players = list(players)
        self.huge = huge
        weights = dict(weights or MUTATIONS)
        if not huge:
            weights.pop("huge", None)
        self._makers: dict[str, Callable[[], bytes | str]] = {
            "valid": self._valid,
            "server_kind": self._server_kind,
            "forbidden": self._forbidden,
            "wrong_value": self._wrong_value,
            "missing_field": self._missing_field,
            "unknown_field": self._unknown_field,
            "bad_key": self._bad_key,
            "unknown_kind": self._unknown_kind,
            "truncated": self._truncated,
            "bit_flip": self._bit_flip,
            "byte_edit": self._byte_edit,
            "garbage": self._garbage,
            "random_value": self._random_value,
            "nested": self._nested,
            "ext": self._ext,
            "lying_length": self._lying_length,
            "text": self._text_frame,
            "huge": self._huge,
        }
        assert set(self._makers) == set(MUTATIONS)
        self._names = list(weights)
        # The first draws make every mutation once, in a seeded order, then the weights
        # decide: a short run (a CI test's 2,000 frames over 16 sessions) must not leave
        # a rare one (a huge frame) to luck.
        self._unmade = self.rng.sample(self._names, len(self._names))
        self._cumulative: list[int] = []
        total = 0
        for name in self._names:
            total += weights[name]
            self._cumulative.append(total)

    # -- frames -------------------------------------------------------------------

    def frame(self, how: str | None = None) -> Fuzzed:
        """One frame, made by ``how`` (a key of :data:`MUTATIONS`) or by a draw: each
        mutation once, then by their weights."""
        if how is None and self._unmade:
            how = self._unmade.pop()
        elif how is None:
            how = self.rng.choices(self._names, cum_weights=self._cumulative)[0]
        return Fuzzed(self._makers[how](), how)

    def frames(self, count: int) -> list[Fuzzed]:
        return [self.frame() for _ in range(count)]

    def first_frame(self) -> Fuzzed:
        """A connection's first frame: a hello mutated or whole half the time, else any."""
        r = self.rng
        if r.random() < 0.5:
            return self.frame()
        hello = self.hello()
        pick = r.randrange(6)
        if pick == 0:
            return Fuzzed(encode(hello), "valid")
        body = msgpack.unpackb(encode(hello), raw=False)
        if pick == 1:
            body[r.choice(list(body))] = self.value()
            return Fuzzed(_pack(body), "wrong_value")
        if pick == 2:
            body[r.choice(("protocol", "room", "role", "password", "token"))] = r.choice(
                (PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1, 0, 65535, "ZZZZ", "ai", "x" * 65)
            )
            return Fuzzed(_pack(body), "wrong_value")
        data = _pack(body)
        if pick == 3:
            return Fuzzed(data[: r.randrange(len(data))], "truncated")
        if pick == 4:
            return Fuzzed(self._flip(data), "bit_flip")
        return Fuzzed(_pack({**body, self._text(): self.value()}), "unknown_field")

    # -- messages ---------------------------------------------------------------------

    def _id(self) -> int:
        r = self.rng
        if self.players and r.random() < 0.7:
            return r.choice(self.players)
        return r.choice((1, 2, 3, r.randrange(1, 64), r.randrange(1, MAX_ID + 1), MAX_ID))

    def _time(self) -> float:
        r = self.rng
        return r.choice((0.0, -1e12, 1e12, r.uniform(-1e6, 1e6), r.uniform(0, 1e4)))

    def hello(self) -> Hello:
        r = self.rng
        name = "".join(chr(r.randrange(0x20, 0x7F)) for _ in range(r.randint(1, 24)))
        role = r.choice((Role.PLAYER, Role.SPECTATOR))
        token = r.choice(("", "".join(r.choice("0123456789abcdef") for _ in range(32))))
        return Hello(name, role, token=token)

    def valid_message(self) -> Message:
        """A message a client may send, its values anywhere in their ranges."""
        r = self.rng
        pick = r.randrange(7)
        if pick == 0:
            return Ping(r.choice((0, MAX_SEQ, r.randrange(MAX_SEQ + 1))), self._time())
        if pick in (1, 2):  # poses are most of what clients send
            features = tuple(
                r.choice((r.uniform(-1000, 1000), r.uniform(0, 2), -1000.0, 1000.0, 0.0))
                for _ in range(r.choice((0, 1, 12, r.randint(0, MAX_FEATURES), MAX_FEATURES)))
            )
            landmarks: tuple[int, ...] = ()
            if r.random() < 0.7:
                landmarks = struct.unpack(f">{LANDMARK_VALUES}H", r.randbytes(2 * LANDMARK_VALUES))
            return Pose(self._time(), features, landmarks)
        if pick == 3:
            if r.random() < 0.5:
                grid = tuple(r.randrange(2**DRUM_COUNT) for _ in range(GRID_STEPS))
                return Seed(SeedSource.GRID, grid=grid)
            return Seed(SeedSource.DICE, dice=r.randrange(MAX_ID + 1), density=r.random())
        if pick == 4:
            return Tempo(r.uniform(MIN_BPM, MAX_BPM), r.choice((0, 0, r.randrange(64))))
        if pick == 5:
            return r.choice((Mute(self._id(), r.random() < 0.5), Remove(self._id())))
        return self.hello()

    def server_message(self) -> Message:
        """A message only the server sends, well formed."""
        r = self.rng
        info = PlayerInfo(self._id(), "Mallory", r.choice(list(Role)), r.randrange(0x1000000))
        pattern = pattern_from_bytes(r.randbytes(PATTERN_BYTES).translate(_SOME_HITS))
        layer = Layer(self._id(), pattern, r.randrange(1000), r.randrange(MAX_ID + 1))
        pick = r.randrange(8)
        if pick == 0:
            return Welcome(info, "ABCD", self._id())
        if pick == 1:
            return layer
        if pick == 2:
            segment = TempoSegment(0.0, 0.0, 120.0)
            return Snapshot("ABCD", self._id(), (info,), (layer,), (segment,), 1.0, (self._id(),))
        if pick == 3:
            return Join(info)
        if pick == 4:
            return Pong(r.randrange(MAX_SEQ + 1), self._time(), self._time())
        if pick == 5:
            return Error(r.choice(list(ErrorCode)), "you are the host now")
        if pick == 6:
            return Pose(0.0, (0.5,), (), self._id())  # a pose claiming to be someone's
        return Leave(self._id(), self._id())

    def forbidden_message(self) -> Message:
        """Well formed, allowed to some client, not to a stranger: someone else's
        layer, the host's moderation, a tempo change too far ahead, a second hello."""
        r = self.rng
        pick = r.randrange(5)
        if pick == 0:
            return Seed(SeedSource.DICE, dice=r.randrange(MAX_ID + 1), owner=self._id())
        if pick == 1:
            grid = tuple(r.randrange(2**DRUM_COUNT) for _ in range(GRID_STEPS))
            return Seed(SeedSource.GRID, grid=grid, owner=self._id())
        if pick == 2:
            return r.choice((Mute(self._id(), True), Remove(self._id())))
        if pick == 3:
            return Tempo(r.uniform(MIN_BPM, MAX_BPM), r.choice((1000, MAX_ID)))
        return self.hello()

    def _valid(self) -> bytes:
        return encode(self.valid_message())

    def _server_kind(self) -> bytes:
        return encode(self.server_message())

    def _forbidden(self) -> bytes:
        return encode(self.forbidden_message())

    def _body(self) -> dict[str, Any]:
        """A well-formed message's map, to break."""
        r = self.rng
        message = r.choice((self.valid_message, self.server_message, self.forbidden_message))()
        body: dict[str, Any] = msgpack.unpackb(encode(message), raw=False)
        return body

    def _encoded(self) -> bytes:
        return encode(self.rng.choice((self.valid_message, self.server_message))())

    # -- values -----------------------------------------------------------------------

    def _text(self) -> str:
        r = self.rng
        pick = r.randrange(5)
        if pick == 0:
            return r.choice(ODD_TEXT)
        if pick == 1:
            return "".join(chr(r.randrange(0x20, 0x7F)) for _ in range(r.randrange(40)))
        if pick == 2:  # anywhere in Unicode but the surrogates, which UTF-8 cannot carry
            return "".join(
                chr(c if not 0xD800 <= c <= 0xDFFF else 0xFFFD)
                for c in (r.randrange(0x110000) for _ in range(r.randrange(30)))
            )
        if pick == 3:
            return r.choice("aé🥁\x00") * r.choice((24, 25, 64, 65, 500, 501, 4000))
        return r.choice(KINDS_AS_TEXT)

    def value(self, depth: int = 0) -> Any:
        """Any msgpack value, most of them wrong wherever they land."""
        r = self.rng
        pick = r.randrange(14 if depth < 3 else 11)
        if pick == 0:
            return r.choice((None, True, False))
        if pick == 1:
            return r.choice(EDGE_INTS)
        if pick == 2:
            return r.randrange(-(2**63), 2**64)
        if pick == 3:
            return r.choice(EDGE_FLOATS)
        if pick == 4:
            return struct.unpack(">d", r.randbytes(8))[0]  # any bit pattern, NaNs included
        if pick in (5, 6):
            return self._text()
        if pick == 7:
            size = r.choice((0, 1, 2, 197, 198, 199, 287, 288, 289, r.randrange(2000)))
            return r.choice((bytes(size), b"\xff" * size, r.randbytes(size)))
        if pick == 8:
            return msgpack.Timestamp(r.randrange(2**34), r.randrange(10**9))
        if pick == 9:
            return msgpack.ExtType(r.randrange(128), r.randbytes(r.randrange(20)))
        if pick == 10:
            return [r.choice(EDGE_INTS)] * r.choice((15, 16, 17, 33, 1025, 4097))
        if pick == 11:
            return [self.value(depth + 1) for _ in range(r.randrange(6))]
        if pick == 12:
            return {self._text(): self.value(depth + 1) for _ in range(r.randrange(6))}
        return [r.choice(EDGE_FLOATS)] * r.choice((12, 32, 33, 1000))

    # -- mutations ------------------------------------------------------------------

    def _wrong_value(self) -> bytes:
        body = self._body()
        fields = [k for k in body if k != "type"] or ["type"]
        body[self.rng.choice(fields)] = self.value()
        return _pack(body)

    def _missing_field(self) -> bytes:
        body = self._body()
        del body[self.rng.choice(list(body))]
        return _pack(body)

    def _unknown_field(self) -> bytes:
        body = self._body()
        body[self._text()] = self.value()
        return _pack(body)

    def _bad_key(self) -> bytes:
        r = self.rng
        body = self._body()
        items = [(_pack(k), _pack(v)) for k, v in body.items()]
        key = r.choice((b"\x01", b"\xff", b"\xc0", b"\xc3", b"\x90", b"\x80", b"\xc4\x04type",
                        b"\xcb" + struct.pack(">d", 1.5), b"\xd4\x05\x00"))  # fmt: skip
        items.insert(r.randrange(len(items) + 1), (key, _pack(self.value())))
        return pack_map(items)

    def _unknown_kind(self) -> bytes:
        r = self.rng
        body = self._body()
        body["type"] = r.choice((self._text(), self.value(), r.choice(KINDS_AS_TEXT).upper()))
        return _pack(body)

    def _truncated(self) -> bytes:
        data = self._encoded()
        return data[: self.rng.randrange(len(data))]

    def _flip(self, data: bytes) -> bytes:
        out = bytearray(data)
        for _ in range(self.rng.randint(1, 8)):
            out[self.rng.randrange(len(out))] ^= 1 << self.rng.randrange(8)
        return bytes(out)

    def _bit_flip(self) -> bytes:
        return self._flip(self._encoded())

    def _byte_edit(self) -> bytes:
        r = self.rng
        out = bytearray(self._encoded())
        for _ in range(r.randint(1, 4)):
            at = r.randrange(len(out) + 1)
            pick = r.randrange(3)
            if pick == 0:
                out[at:at] = r.randbytes(r.randint(1, 4))
            elif pick == 1 and out:
                del out[at : at + r.randint(1, 4)]
            elif out:
                out[min(at, len(out) - 1)] = r.randrange(256)
        return bytes(out)

    def _garbage(self) -> bytes:
        r = self.rng
        data = r.randbytes(r.choice((0, 1, 2, r.randrange(300))))
        if data and r.random() < 0.5:  # look like a map, to get past the first byte
            data = bytes([0x80 | r.randrange(16)]) + data[1:]
        return data

    def _random_value(self) -> bytes:
        return _pack(self.value())

    def _nested(self) -> bytes:
        r = self.rng
        depth = r.choice((3, 100, 1000, 1023, 1024, 1025, 5000, 30000))
        opener = r.choice((b"\x91", b"\x81\xa0", b"\x92\x00", b"\xdc\x00\x01"))
        if self.huge and r.random() < 0.05:
            depth = 100_000  # past the frame limit: refused before msgpack sees it
        else:
            depth = min(depth, (MAX_FRAME_BYTES - 100) // len(opener))
        nest = opener * depth + r.choice((b"\xc0", b"\x00", b"\x80", b"\x90"))
        if r.random() < 0.3:
            return nest
        body = self._body()
        keys = [k for k in body if k != "type"] or ["type"]
        target = r.choice(keys)
        items = [(_pack(k), nest if k == target else _pack(v)) for k, v in body.items()]
        return pack_map(items)

    def _ext(self) -> bytes:
        r = self.rng
        code = r.randrange(-128, 128).to_bytes(1, "big", signed=True)
        size = r.choice((1, 2, 4, 8, 12, 16, 0, 3, 5, 100))
        data = r.randbytes(size)
        fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
        if size in fixed and r.random() < 0.5:
            ext = bytes([fixed[size]]) + code + data
        else:
            ext = b"\xc7" + bytes([size]) + code + data
        if r.random() < 0.3:
            return ext
        body = self._body()
        keys = [k for k in body if k != "type"] or ["type"]
        target = r.choice(keys)
        return pack_map([(_pack(k), ext if k == target else _pack(v)) for k, v in body.items()])

    def _lying_length(self) -> bytes:
        r = self.rng
        header = r.choice((b"\xdb", b"\xc6", b"\xdd", b"\xdf", b"\xc9")) + r.choice(
            (b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x01\x00\x00")
        )
        lie = header + r.randbytes(r.randrange(16))
        if r.random() < 0.3:
            return lie
        body = self._body()
        keys = [k for k in body if k != "type"] or ["type"]
        target = r.choice(keys)
        return pack_map([(_pack(k), lie if k == target else _pack(v)) for k, v in body.items()])

    def _text_frame(self) -> str:
        r = self.rng
        pick = r.randrange(3)
        if pick == 0:
            return '{"type": "hello", "name": "Mallory", "role": "player"}'
        if pick == 1:
            return self._text()
        return self._encoded().decode("latin-1")

    def _huge(self) -> bytes:
        r = self.rng
        size = r.randrange(MAX_FRAME_BYTES + 1, HUGE_LIMIT)
        pick = r.randrange(3)
        if pick == 0:
            return r.randbytes(size)
        if pick == 1:  # a pose whose landmarks go on and on
            body = msgpack.unpackb(encode(Pose(0.0, (0.5,))), raw=False)
            body["landmarks"] = bytes(size)
            return _pack(body)
        return _pack([0] * size)
