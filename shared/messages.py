"""Every message PoseJam sends, as frozen dataclasses, and one registry of their kinds.

These types know nothing of msgpack: :mod:`shared.codec` is the only place that
knows the wire format and validates it. Times are seconds; a message's sender
is never trusted to say who it is: the server fills in ``player`` fields itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shared.drums import Pattern
from shared.tempo import TempoSegment

# 2: mute and remove, and the snapshot's muted players (a 1 client would refuse them).
# 3: the welcome's reconnect token, and the hello that brings it back.
PROTOCOL_VERSION = 3
# How long a player who dropped without saying leave keeps their seat, colour and
# layer, which plays on meanwhile: a phone's Wi-Fi hiccup or a laptop waking up is
# back well within it. Their client keeps trying (with its token) as long.
RECONNECT_GRACE = 30.0


class Kind(enum.StrEnum):
    HELLO = "hello"
    WELCOME = "welcome"
    PING = "ping"
    PONG = "pong"
    POSE = "pose"
    SEED = "seed"
    LAYER = "layer"
    TEMPO = "tempo"
    SNAPSHOT = "snapshot"
    JOIN = "join"
    LEAVE = "leave"
    ERROR = "error"
    MUTE = "mute"
    REMOVE = "remove"


class Role(enum.StrEnum):
    PLAYER = "player"
    SPECTATOR = "spectator"
    AI = "ai"  # an AI band member; only the server creates these


class SeedSource(enum.StrEnum):
    GRID = "grid"  # a hand-edited 16-step grid, as in PoseLoops
    DICE = "dice"  # a random seed, as PoseLoops' dice button


class ErrorCode(enum.StrEnum):
    """Why a request was refused. The connection stays open after an error message."""

    FORBIDDEN = "forbidden"  # a rule of the room forbids it (another's layer, a spectator)
    BAD_REQUEST = "bad_request"  # well-formed, but makes no sense now (hello twice, ...)
    TEMPO = "tempo"  # a tempo change the tempo map refuses


class CloseCode(enum.IntEnum):
    """Websocket close codes. 1000-1011 are RFC 6455's; 4000-4999 are ours."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down
    POLICY = 1008  # too fast (rate limit) or too slow (send buffer overflow)
    TOO_BIG = 1009
    INTERNAL = 1011  # also: stopped answering pings (the keepalive timeout)
    TRY_AGAIN_LATER = 1013  # the server holds as many connections as it takes
    MALFORMED = 4000  # a frame the codec rejected
    PROTOCOL_VERSION = 4001
    HELLO_FIRST = 4002  # the first message was not a hello, or it came too late
    WRONG_PASSWORD = 4003
    NO_SUCH_ROOM = 4004
    ROOM_FULL = 4005
    LEFT = 4006  # the client said leave
    REMOVED = 4007  # the host removed this player from the room
    REPLACED = 4008  # the same player reconnected (with its token) on a new connection


@dataclass(frozen=True, slots=True)
class PlayerInfo:
    id: int
    name: str
    role: Role
    colour: int  # 0xRRGGBB


@dataclass(frozen=True, slots=True)
class Hello:
    name: str
    role: Role
    protocol: int = PROTOCOL_VERSION
    room: str = ""  # "" asks for the server's default room
    password: str = ""
    # The welcome's token, to take back one's seat, colour and layer after a drop.
    token: str = ""


@dataclass(frozen=True, slots=True)
class Welcome:
    player: PlayerInfo
    room: str
    host: int  # the host's player id
    protocol: int = PROTOCOL_VERSION
    # A player's secret for coming back within the room's grace period ("" for spectators).
    token: str = ""


@dataclass(frozen=True, slots=True)
class Ping:
    seq: int
    client_time: float


@dataclass(frozen=True, slots=True)
class Pong:
    seq: int
    client_time: float
    server_time: float


@dataclass(frozen=True, slots=True)
class Pose:
    client_time: float
    features: tuple[float, ...]
    # Empty, or 33 landmarks as (x, y, visibility) each quantized to 0..65535.
    landmarks: tuple[int, ...] = ()
    player: int = 0  # set by the server when it relays the pose


@dataclass(frozen=True, slots=True)
class Seed:
    source: SeedSource
    grid: tuple[int, ...] = ()  # one 9-bit drum mask per step (GRID)
    dice: int = 0  # random seed (DICE)
    density: float = 0.5  # share of steps with hits, for DICE
    owner: int = 0  # whose layer; 0 is the sender's own


@dataclass(frozen=True, slots=True)
class Layer:
    owner: int
    pattern: Pattern
    starts_at_bar: int
    version: int


@dataclass(frozen=True, slots=True)
class Tempo:
    bpm: float
    starts_at_bar: int = 0  # from a client: the earliest bar it wants; the server decides


@dataclass(frozen=True, slots=True)
class Snapshot:
    room: str
    host: int
    players: tuple[PlayerInfo, ...]
    layers: tuple[Layer, ...]  # current and pending layers, in bar order per owner
    tempo: tuple[TempoSegment, ...]
    server_time: float
    muted: tuple[int, ...] = ()  # the players the host has muted, in id order


@dataclass(frozen=True, slots=True)
class Join:
    player: PlayerInfo


@dataclass(frozen=True, slots=True)
class Leave:
    player: int = 0  # from a client: 0, "I am leaving"
    host: int = 0  # from the server: who hosts the room now


@dataclass(frozen=True, slots=True)
class Error:
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class Mute:
    """From the host: mute (or unmute) a player's layer; from the server: it is so."""

    player: int
    muted: bool


@dataclass(frozen=True, slots=True)
class Remove:
    """From the host: take a player out of the room (everyone then hears a leave)."""

    player: int


Message = (
    Hello
    | Welcome
    | Ping
    | Pong
    | Pose
    | Seed
    | Layer
    | Tempo
    | Snapshot
    | Join
    | Leave
    | Error
    | Mute
    | Remove
)

# The one registry of kinds: the codec and the server both dispatch on it.
KINDS: dict[Kind, type[Message]] = {
    Kind.HELLO: Hello,
    Kind.WELCOME: Welcome,
    Kind.PING: Ping,
    Kind.PONG: Pong,
    Kind.POSE: Pose,
    Kind.SEED: Seed,
    Kind.LAYER: Layer,
    Kind.TEMPO: Tempo,
    Kind.SNAPSHOT: Snapshot,
    Kind.JOIN: Join,
    Kind.LEAVE: Leave,
    Kind.ERROR: Error,
    Kind.MUTE: Mute,
    Kind.REMOVE: Remove,
}
KIND_OF: dict[type[Message], Kind] = {cls: kind for kind, cls in KINDS.items()}


def kind_of(message: Message) -> Kind:
    return KIND_OF[type(message)]
