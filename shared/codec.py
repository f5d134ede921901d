"""The msgpack codec: the only place that knows PoseJam's wire format.

A frame is a msgpack map ``{"type": kind, field: value, ...}``. Patterns and
landmarks travel as packed bytes (288 and 198 bytes) rather than nested arrays.
``decode`` validates everything at the edge (types, ranges, lengths, finite
floats, unknown kinds and fields) and raises one exception type,
:class:`ProtocolError`, whose message names the field and the rule it broke.
"""

from __future__ import annotations

import enum
import math
import re
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

import msgpack

from shared.drums import (
    DRUM_COUNT,
    GRID_STEPS,
    MAX_VELOCITY,
    PATTERN_BYTES,
    Pattern,
    pattern_from_bytes,
    pattern_to_bytes,
)
from shared.messages import (
    KIND_OF,
    KINDS,
    ErrorCode,
    Kind,
    Layer,
    Message,
    PlayerInfo,
    Role,
    Seed,
    SeedSource,
    Snapshot,
)
from shared.tempo import MAX_BPM, MIN_BPM, TempoError, TempoMap, TempoSegment

MAX_FRAME_BYTES = 64 * 1024
MAX_NAME_CHARS = 24
MAX_PASSWORD_CHARS = 64
MAX_FEATURES = 32
LANDMARK_COUNT = 33
LANDMARK_VALUES = LANDMARK_COUNT * 3  # x, y, visibility
MAX_ID = 2**31 - 1
MAX_SEQ = 2**32 - 1
MAX_TIME = 1e12  # seconds; any real clock reading is far below this
MAX_FEATURE = 1000.0
MAX_MESSAGE_CHARS = 500
MAX_PLAYERS_IN_SNAPSHOT = 1024
MAX_LAYERS_IN_SNAPSHOT = 4096
MAX_TEMPO_SEGMENTS = 64
ROOM_CODE = re.compile(r"[A-Z]{4}")
ROOM_RULE = "4 letters A-Z"
TOKEN = re.compile(r"[0-9a-f]{32}")
TOKEN_RULE = "32 hex digits"

LANDMARK_BYTES = LANDMARK_VALUES * 2


class ProtocolError(ValueError):
    """A frame that is not a valid PoseJam message. The message says exactly why."""


E = TypeVar("E", bound=enum.Enum)
Decoder = Callable[[Any, str], Any]
Encoder = Callable[[Any], Any]


# -- field decoders: each takes the raw value and its path, returns the Python value


# Shows a hostile value without walking all of it: a 1 KB frame can nest 1000 deep.
_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 20


def _show(value: Any) -> str:
    """A hostile value as at most 40 characters: error messages end up in close reasons
    and the server's log, and a 64 KiB string must not be copied into either."""
    if isinstance(value, str | bytes):
        shown = repr(value[:60])
    elif isinstance(value, list | dict):
        shown = _SHORT.repr(value)
    else:
        shown = repr(value)
    return shown[:37] + "..." if len(shown) > 40 else shown


def _fail(path: str, rule: str, value: Any) -> ProtocolError:
    return ProtocolError(f"{path} must be {rule}, got {_show(value)}")


def _int(lo: int, hi: int) -> Decoder:
    def decode(value: Any, path: str) -> int:
        if type(value) is not int:
            raise _fail(path, "an integer", value)
        if not lo <= value <= hi:
            raise _fail(path, f"in range {lo}..{hi}", value)
        return value

    return decode


def _float(lo: float, hi: float) -> Decoder:
    def decode(value: Any, path: str) -> float:
        if type(value) not in (int, float):
            raise _fail(path, "a number", value)
        if not math.isfinite(value):
            raise _fail(path, "a finite number", value)
        if not lo <= value <= hi:
            raise _fail(path, f"in range {lo:g}..{hi:g}", value)
        return float(value)

    return decode


def _text(
    max_chars: int,
    min_chars: int = 0,
    pattern: re.Pattern[str] | None = None,
    pattern_rule: str = "",
) -> Decoder:
    def decode(value: Any, path: str) -> str:
        if type(value) is not str:
            raise _fail(path, "a string", value)
        if not min_chars <= len(value) <= max_chars:
            raise _fail(path, f"{min_chars}..{max_chars} characters long", value)
        if any(not ch.isprintable() for ch in value):
            raise _fail(path, "printable text", value)
        if pattern is not None and value and not pattern.fullmatch(value):
            rule = pattern_rule if min_chars else f"empty or {pattern_rule}"
            raise _fail(path, rule, value)
        return value

    return decode


def _bool(value: Any, path: str) -> bool:
    if type(value) is not bool:
        raise _fail(path, "true or false", value)
    return value


def _enum(cls: type[E], allowed: tuple[E, ...] | None = None) -> Decoder:
    members = allowed or tuple(cls)
    names = "|".join(str(m.value) for m in members)

    def decode(value: Any, path: str) -> E:
        for member in members:
            if value == member.value and type(value) is type(member.value):
                return member
        raise _fail(path, f"one of {names}", value)

    return decode


def _array(item: Decoder, max_len: int, lengths: tuple[int, ...] | None = None) -> Decoder:
    def decode(value: Any, path: str) -> tuple[Any, ...]:
        if type(value) is not list:
            raise _fail(path, "an array", value)
        if lengths is not None and len(value) not in lengths:
            want = " or ".join(str(n) for n in lengths)
            raise ProtocolError(f"{path} must have {want} items, got {len(value)}")
        if len(value) > max_len:
            raise ProtocolError(f"{path} must have at most {max_len} items, got {len(value)}")
        return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

    return decode


def _pattern(value: Any, path: str) -> Pattern:
    if type(value) is not bytes:
        raise _fail(path, f"{PATTERN_BYTES} bytes", value)
    if len(value) != PATTERN_BYTES:
        raise ProtocolError(f"{path} must be {PATTERN_BYTES} bytes, got {len(value)}")
    loud = max(value)
    if loud > MAX_VELOCITY:
        raise ProtocolError(f"{path} velocities must be in range 0..{MAX_VELOCITY}, got {loud}")
    return pattern_from_bytes(value)


def _encode_pattern(pattern: Pattern) -> bytes:
    return pattern_to_bytes(pattern)


def _landmarks(value: Any, path: str) -> tuple[int, ...]:
    if type(value) is not bytes:
        raise _fail(path, "bytes", value)
    if len(value) not in (0, LANDMARK_BYTES):
        raise ProtocolError(f"{path} must be 0 or {LANDMARK_BYTES} bytes, got {len(value)}")
    return tuple(int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value), 2))


def _encode_landmarks(values: tuple[int, ...]) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def _identity(value: Any) -> Any:
    return value


def _encode_enum(value: enum.Enum) -> Any:
    return value.value


# -- per-kind field specs: name -> (decoder, encoder)

_TIME = _float(-MAX_TIME, MAX_TIME)
_ID = _int(0, MAX_ID)
_PLAYER_ID = _int(1, MAX_ID)  # a mute or a removal names a real player: ids start at 1
_BAR = _int(0, MAX_ID)
_COLOUR = _int(0, 0xFFFFFF)


def _nested(cls: type[Any], spec: Mapping[str, tuple[Decoder, Encoder]]) -> Decoder:
    def decode(value: Any, path: str) -> Any:
        return _decode_fields(cls, spec, value, path)

    return decode


def _encode_nested(spec: Mapping[str, tuple[Decoder, Encoder]]) -> Encoder:
    def encode(value: Any) -> dict[str, Any]:
        return {name: enc(getattr(value, name)) for name, (_, enc) in spec.items()}

    return encode


_PLAYER_SPEC: dict[str, tuple[Decoder, Encoder]] = {
    "id": (_ID, _identity),
    "name": (_text(MAX_NAME_CHARS, 1), _identity),
    "role": (_enum(Role), _encode_enum),
    "colour": (_COLOUR, _identity),
}
_LAYER_SPEC: dict[str, tuple[Decoder, Encoder]] = {
    "owner": (_ID, _identity),
    "pattern": (_pattern, _encode_pattern),
    "starts_at_bar": (_BAR, _identity),
    "version": (_int(0, MAX_ID), _identity),
}
_SEGMENT_SPEC: dict[str, tuple[Decoder, Encoder]] = {
    "start_time": (_TIME, _identity),
    "start_beat": (_float(0, 4.0 * MAX_ID), _identity),
    "bpm": (_float(MIN_BPM, MAX_BPM), _identity),
}
_PLAYER = (_nested(PlayerInfo, _PLAYER_SPEC), _encode_nested(_PLAYER_SPEC))


def _many(item: tuple[Decoder, Encoder], max_len: int) -> tuple[Decoder, Encoder]:
    decode_item, encode_item = item
    return _array(decode_item, max_len), lambda values: [encode_item(v) for v in values]


SPECS: dict[Kind, dict[str, tuple[Decoder, Encoder]]] = {
    Kind.HELLO: {
        "name": (_text(MAX_NAME_CHARS, 1), _identity),
        "role": (_enum(Role, (Role.PLAYER, Role.SPECTATOR)), _encode_enum),
        "protocol": (_int(0, 65535), _identity),
        "room": (_text(4, 0, ROOM_CODE, ROOM_RULE), _identity),
        "password": (_text(MAX_PASSWORD_CHARS), _identity),
        "token": (_text(32, 0, TOKEN, TOKEN_RULE), _identity),
    },
    Kind.WELCOME: {
        "player": _PLAYER,
        "room": (_text(4, 4, ROOM_CODE, ROOM_RULE), _identity),
        "host": (_ID, _identity),
        "protocol": (_int(0, 65535), _identity),
        "token": (_text(32, 0, TOKEN, TOKEN_RULE), _identity),
    },
    Kind.PING: {"seq": (_int(0, MAX_SEQ), _identity), "client_time": (_TIME, _identity)},
    Kind.PONG: {
        "seq": (_int(0, MAX_SEQ), _identity),
        "client_time": (_TIME, _identity),
        "server_time": (_TIME, _identity),
    },
    Kind.POSE: {
        "client_time": (_TIME, _identity),
        "features": (_array(_float(-MAX_FEATURE, MAX_FEATURE), MAX_FEATURES), list),
        "landmarks": (_landmarks, _encode_landmarks),
        "player": (_ID, _identity),
    },
    Kind.SEED: {
        "source": (_enum(SeedSource), _encode_enum),
        "grid": (_array(_int(0, 2**DRUM_COUNT - 1), GRID_STEPS, (0, GRID_STEPS)), list),
        "dice": (_int(0, MAX_ID), _identity),
        "density": (_float(0.0, 1.0), _identity),
        "owner": (_ID, _identity),
    },
    Kind.LAYER: _LAYER_SPEC,
    Kind.TEMPO: {
        "bpm": (_float(MIN_BPM, MAX_BPM), _identity),
        "starts_at_bar": (_BAR, _identity),
    },
    Kind.SNAPSHOT: {
        "room": (_text(4, 4, ROOM_CODE, ROOM_RULE), _identity),
        "host": (_ID, _identity),
        "players": _many(_PLAYER, MAX_PLAYERS_IN_SNAPSHOT),
        "layers": _many(
            (_nested(Layer, _LAYER_SPEC), _encode_nested(_LAYER_SPEC)), MAX_LAYERS_IN_SNAPSHOT
        ),
        "tempo": _many(
            (_nested(TempoSegment, _SEGMENT_SPEC), _encode_nested(_SEGMENT_SPEC)),
            MAX_TEMPO_SEGMENTS,
        ),
        "server_time": (_TIME, _identity),
        "muted": (_array(_PLAYER_ID, MAX_PLAYERS_IN_SNAPSHOT), list),
    },
    Kind.JOIN: {"player": _PLAYER},
    Kind.LEAVE: {"player": (_ID, _identity), "host": (_ID, _identity)},
    Kind.ERROR: {
        "code": (_enum(ErrorCode), _encode_enum),
        "message": (_text(MAX_MESSAGE_CHARS), _identity),
    },
    Kind.MUTE: {"player": (_PLAYER_ID, _identity), "muted": (_bool, _identity)},
    Kind.REMOVE: {"player": (_PLAYER_ID, _identity)},
}

# Every dataclass field has a spec, and nothing else does.
for _kind, _cls in KINDS.items():
    assert [f.name for f in fields(_cls)] == list(SPECS[_kind]), _kind


def _decode_fields(
    cls: type[Any], spec: Mapping[str, tuple[Decoder, Encoder]], raw: Any, path: str
) -> Any:
    if type(raw) is not dict:
        raise _fail(path, "a map", raw)
    unknown = [k for k in raw if k not in spec]
    if unknown:
        raise ProtocolError(f"{path} has unknown field {_show(unknown[0])}")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in raw:
            decode_field, _ = spec[f.name]
            values[f.name] = decode_field(raw[f.name], f"{path}.{f.name}")
        elif f.default is f.default_factory:  # both MISSING: the field is required
            raise ProtocolError(f"{path} is missing field {f.name!r}")
    return cls(**values)


def _check_seed(seed: Seed) -> None:
    if seed.source is SeedSource.GRID and len(seed.grid) != GRID_STEPS:
        raise ProtocolError(f"seed.grid must have {GRID_STEPS} steps for a grid seed")
    if seed.source is SeedSource.DICE and seed.grid:
        raise ProtocolError("seed.grid must be empty for a dice seed")


def _reject_ext(code: int, data: bytes) -> Any:
    raise ProtocolError(f"msgpack extension types are not allowed (type {code})")


def encode(message: Message) -> bytes:
    """Serialize a message to one binary frame."""
    kind = KIND_OF[type(message)]
    body: dict[str, Any] = {"type": kind.value}
    for name, (_, encode_field) in SPECS[kind].items():
        body[name] = encode_field(getattr(message, name))
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def decode(frame: bytes | str) -> Message:
    """Parse and validate one frame; raise :class:`ProtocolError` if it is not a message."""
    if isinstance(frame, str):
        raise ProtocolError("frames must be binary msgpack, not text")
    if len(frame) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame must be at most {MAX_FRAME_BYTES} bytes, got {len(frame)}")
    try:
        raw = msgpack.unpackb(
            frame,
            raw=False,
            strict_map_key=True,
            ext_hook=_reject_ext,
        )
    except ProtocolError:
        raise
    except Exception as exc:  # msgpack raises several unrelated types for bad bytes
        raise ProtocolError(f"frame is not valid msgpack ({type(exc).__name__})") from exc
    if type(raw) is not dict:
        raise _fail("frame", "a map", raw)
    kind_name = raw.get("type")
    if type(kind_name) is not str or kind_name not in Kind.__members__.values():
        raise _fail("frame.type", "a known message kind", kind_name)
    kind = Kind(kind_name)
    body = {k: v for k, v in raw.items() if k != "type"}
    message: Message = _decode_fields(KINDS[kind], SPECS[kind], body, kind.value)
    if isinstance(message, Seed):
        _check_seed(message)
    elif isinstance(message, Snapshot):
        try:
            TempoMap(message.tempo)
        except TempoError as exc:
            raise ProtocolError(f"snapshot.tempo is not a tempo map: {exc}") from exc
    return message
