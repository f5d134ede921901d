"""A room: who is in it, the tempo map, the loop stack, and the rules. Time is passed in.

``Room`` does no I/O. The server shell feeds it what arrives, with the time it
arrived, and sends the :class:`Outgoing` messages it returns. A request that
breaks a rule raises :class:`RuleError`; the shell answers it with an ``error``
message and keeps the connection.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from server import ai_band
from server.generator import GenerationRequest
from shared.drums import BEATS_PER_BAR, Pattern
from shared.loop_stack import LoopStack
from shared.messages import (
    RECONNECT_GRACE,
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
from shared.pose_mapping import groove_controls
from shared.tempo import DEFAULT_BPM, TempoError, TempoMap

# Distinct, readable on dark and light screens; one per player seat.
PALETTE = (0xFF5A5F, 0x3EC1D3, 0xFFC145, 0x7BD389, 0xB084F5, 0xFF8C42, 0x4D9DE0, 0xF25F9C)
SPECTATOR_COLOUR = 0x9AA0A6
AI_COLOUR = 0xE0E0E0
AI_COLOURS = (AI_COLOUR, 0xA8B8D0, 0xD0B8A0)  # the band's members: pale, told apart

# A change must reach every client at least this many beats before its bar sounds.
MIN_LEAD_BEATS = 1.0
# The batch for a bar is written from this many beats before that bar's lead.
GENERATE_AHEAD_BEATS = 1.0
# How far a player's asked groove must move (the largest change among the drum model's
# four controls) before their layer is rewritten under it: a body never holds exactly
# still, and a new layer every bar for each twitch would make the groove restless.
CONTROLS_MOVED = 0.1
# Why a removed player's connection is closed (with CloseCode.REMOVED).
REMOVED_REASON = "removed by the host"
# A tempo change may be booked at most this many bars after the next one, which
# also bounds how many changes can wait at once (a snapshot carries them all).
MAX_TEMPO_AHEAD_BARS = 16


class RuleError(Exception):
    """A request the room's rules refuse; the connection stays."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_message(self) -> Error:
        return Error(self.code, self.message)


class JoinRefused(Exception):
    """A hello the room will not accept; the connection is closed with ``code``."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message for one member (``to``), or everyone except ``exclude``.

    With ``close``, the shell then closes ``to``'s connection with that code and
    ``reason`` (the host removed them): the message goes first, as far as it can.
    """

    message: Message
    to: int | None = None
    exclude: int | None = None
    close: CloseCode | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RoomLimits:
    max_players: int = 8
    max_spectators: int = 256


@dataclass(frozen=True, slots=True)
class GenerationBatch:
    bar: int
    requests: tuple[GenerationRequest, ...]


@dataclass(slots=True)
class Member:
    info: PlayerInfo
    joined_at: float
    features: tuple[float, ...] = ()
    last_pose_at: float | None = None
    asked: tuple[float, ...] | None = None  # the controls their newest layer was asked for
    band: ai_band.Member | None = None  # an AI band member plays this (role AI)
    band_seed: int = 0
    token: str = ""  # a player's secret for taking their seat back after a drop
    away_since: float | None = None  # when their connection dropped (None: connected)

    def controls(self, bar: int) -> tuple[float, ...] | None:
        """The drum model's controls this member asks for during ``bar``: an AI's style
        there, a player's body as it last moved (None before any pose)."""
        if self.band is not None:
            return ai_band.controls_at(self.band, bar, self.band_seed)
        return groove_controls(self.features).model_controls() if self.features else None

    def moved(self, bar: int) -> bool:
        """Whether the member asks for a groove clearly unlike the one last written."""
        now = self.controls(bar)
        if now is None:
            return False
        if self.asked is None:
            return True
        return max(abs(a - b) for a, b in zip(now, self.asked, strict=True)) >= CONTROLS_MOVED


def new_token() -> str:
    """128 random bits as hex: what the codec accepts as a token."""
    return secrets.token_hex(16)


def clean_name(name: str) -> str:
    """A display name with control and format characters removed and spaces squeezed.

    Any Unicode space (no-break, ideographic, ...) counts as a space.
    """
    kept = "".join(
        " " if unicodedata.category(ch)[0] == "Z" else ch
        for ch in name
        if unicodedata.category(ch)[0] != "C"
    )
    return " ".join(kept.split())


@dataclass(eq=False)  # a room is an identity, not a value
class Room:
    code: str
    created_at: float
    password: str = ""
    bpm: float = DEFAULT_BPM
    limits: RoomLimits = field(default_factory=RoomLimits)
    members: dict[int, Member] = field(default_factory=dict, init=False)
    host: int = field(default=0, init=False)
    loops: LoopStack = field(default_factory=LoopStack, init=False)
    tempo: TempoMap = field(init=False)
    _next_id: int = field(default=1, init=False)
    _seeds: dict[int, Seed] = field(default_factory=dict, init=False)
    _steered_bar: int = field(default=-1, init=False)  # the last bar bodies were heard for
    _pruned_bar: int = field(default=-1, init=False)  # the last bar the stack was pruned at
    muted: set[int] = field(default_factory=set, init=False)  # whose layers nobody hears
    make_token: Callable[[], str] = new_token  # injectable: tests use known tokens
    reconnect_grace: float = RECONNECT_GRACE

    def __post_init__(self) -> None:
        self.tempo = TempoMap.start(self.created_at, self.bpm)

    # -- membership ------------------------------------------------------------

    def count(self, role: Role) -> int:
        return sum(1 for m in self.members.values() if m.info.role is role)

    def join(self, hello: Hello, now: float) -> tuple[PlayerInfo, list[Outgoing]]:
        """Seat a new member, or give a returning player (by token) their own seat back.

        A token the room does not know (the seat has expired, or the server was
        restarted) is no error: the player simply joins anew.
        """
        if self.password and hello.password != self.password:
            raise JoinRefused(CloseCode.WRONG_PASSWORD, "wrong room password")
        returning = self._by_token(hello)
        if returning is not None:
            return self._rejoin(returning, now)
        if hello.role is Role.PLAYER and self.count(Role.PLAYER) >= self.limits.max_players:
            raise JoinRefused(
                CloseCode.ROOM_FULL, f"room is full ({self.limits.max_players} players)"
            )
        if (
            hello.role is Role.SPECTATOR
            and self.count(Role.SPECTATOR) >= self.limits.max_spectators
        ):
            raise JoinRefused(
                CloseCode.ROOM_FULL, f"room is full ({self.limits.max_spectators} spectators)"
            )
        name = clean_name(hello.name) or f"Player {self._next_id}"
        info = PlayerInfo(self._next_id, name, hello.role, self._colour_for(hello.role))
        self._next_id += 1
        token = self.make_token() if hello.role is Role.PLAYER else ""
        self.members[info.id] = Member(info, now, token=token)
        if hello.role is Role.PLAYER and not self._host_is_player():
            self.host = info.id
        self.tempo = self.tempo.trimmed(now)
        self.loops.prune(int(self.tempo.bar_at(now)))
        return info, [
            Outgoing(Welcome(info, self.code, self.host, token=token), to=info.id),
            Outgoing(self.snapshot(now), to=info.id),
            Outgoing(Join(info), exclude=info.id),
        ]

    def _by_token(self, hello: Hello) -> Member | None:
        if not hello.token or hello.role is not Role.PLAYER:
            return None
        for member in self.members.values():
            # Compared in constant time: a token is a password for one seat.
            if member.token and secrets.compare_digest(member.token, hello.token):
                return member
        return None

    def _rejoin(self, member: Member, now: float) -> tuple[PlayerInfo, list[Outgoing]]:
        """The same seat, colour and layer. Nobody else was told the player had gone,
        so nobody is told they are back. If the old connection still seems open (the
        server has not noticed the drop yet), the shell closes it."""
        member.away_since = None
        info = member.info
        self.tempo = self.tempo.trimmed(now)
        self.loops.prune(int(self.tempo.bar_at(now)))
        return info, [
            Outgoing(Welcome(info, self.code, self.host, token=member.token), to=info.id),
            Outgoing(self.snapshot(now), to=info.id),
        ]

    def drop(self, player: int, now: float) -> list[Outgoing]:
        """A connection lost without a leave. A player keeps their seat (and their layer
        keeps playing) for ``reconnect_grace`` seconds; anyone else leaves now."""
        member = self.members.get(player)
        if member is None:
            return []
        if member.token:
            member.away_since = now
            return []
        return self.leave(player, now)

    def expire(self, now: float) -> list[Outgoing]:
        """Let go of every seat whose player has been away for the whole grace period."""
        gone = [
            p
            for p, m in self.members.items()
            if m.away_since is not None and now - m.away_since >= self.reconnect_grace
        ]
        return [out for p in gone for out in self.leave(p, now)]

    def away(self) -> tuple[int, ...]:
        """Players whose connection dropped and whose seat is waiting for them."""
        return tuple(p for p, m in self.members.items() if m.away_since is not None)

    def add_band(self, size: int, seed: int, now: float) -> list[Outgoing]:
        """An AI band of ``size`` members who play along (solo practice): each starts
        from a dice roll in its first style and follows its round of styles after."""
        out = []
        for i, member in enumerate(ai_band.band(size)):
            info = PlayerInfo(self._next_id, member.name, Role.AI, AI_COLOURS[i % len(AI_COLOURS)])
            self._next_id += 1
            self.members[info.id] = Member(info, now, band=member, band_seed=seed)
            density = ai_band.STYLES[ai_band.style_at(member, 0)][0]
            self._seeds[info.id] = Seed(SeedSource.DICE, dice=seed * 31 + i, density=density)
            out.append(Outgoing(Join(info)))
        return out

    def leave(self, player: int, now: float) -> list[Outgoing]:
        if self.members.pop(player, None) is None:
            return []
        self.loops.remove(player)
        self._seeds.pop(player, None)
        self.muted.discard(player)  # a new player with a new id starts heard
        if player == self.host:
            players = [m for m in self.members.values() if m.info.role is Role.PLAYER]
            self.host = min(players, key=lambda m: m.joined_at).info.id if players else 0
        return [Outgoing(Leave(player, self.host))]

    def _host_is_player(self) -> bool:
        return self.host in self.members

    def _colour_for(self, role: Role) -> int:
        if role is Role.SPECTATOR:
            return SPECTATOR_COLOUR
        if role is Role.AI:
            return AI_COLOUR
        taken = {m.info.colour for m in self.members.values()}
        return next((c for c in PALETTE if c not in taken), PALETTE[self._next_id % len(PALETTE)])

    def snapshot(self, now: float) -> Snapshot:
        return Snapshot(
            room=self.code,
            host=self.host,
            players=tuple(m.info for m in self.members.values()),
            layers=self.loops.all(),
            tempo=self.tempo.segments,
            server_time=now,
            muted=tuple(sorted(self.muted)),
        )

    # -- messages --------------------------------------------------------------

    def handle(self, sender: int, message: Message, now: float) -> list[Outgoing]:
        """Apply one message from a member; raise :class:`RuleError` if a rule forbids it."""
        member = self.members.get(sender)
        if member is None:
            raise RuleError(ErrorCode.BAD_REQUEST, "join the room first")
        if isinstance(message, Ping):
            return [Outgoing(Pong(message.seq, message.client_time, now), to=sender)]
        if isinstance(message, Pose):
            return self._pose(member, message, now)
        if isinstance(message, Seed):
            self._seed(member, message)
            return []
        if isinstance(message, Tempo):
            return self._tempo(member, message, now)
        if isinstance(message, Mute):
            return self._mute(member, message)
        if isinstance(message, Remove):
            return self._remove(member, message, now)
        if isinstance(message, Hello):
            raise RuleError(ErrorCode.BAD_REQUEST, "already joined: hello is sent once")
        kind = type(message).__name__.lower()
        raise RuleError(ErrorCode.BAD_REQUEST, f"clients do not send {kind} messages")

    def _require_player(self, member: Member, what: str) -> None:
        if member.info.role is not Role.PLAYER:
            raise RuleError(ErrorCode.FORBIDDEN, f"spectators cannot {what}")

    def _pose(self, member: Member, pose: Pose, now: float) -> list[Outgoing]:
        self._require_player(member, "send poses")
        member.features = pose.features
        member.last_pose_at = now
        relayed = Pose(pose.client_time, pose.features, pose.landmarks, member.info.id)
        return [Outgoing(relayed, exclude=member.info.id)]

    def _seed(self, member: Member, seed: Seed) -> None:
        self._require_player(member, "change layers")
        owner = seed.owner or member.info.id
        if member.info.id not in (owner, self.host):
            raise RuleError(ErrorCode.FORBIDDEN, "only a layer's owner or the host can change it")
        target = self.members.get(owner)
        if target is None or target.info.role is Role.SPECTATOR:
            raise RuleError(ErrorCode.BAD_REQUEST, f"there is no player {owner} in this room")
        self._seeds[owner] = seed  # a newer seed before the bar replaces the older one

    def _other_member(self, member: Member, player: int, what: str) -> Member:
        """The member the host acts on: never the host, always someone in the room."""
        if member.info.id != self.host:
            raise RuleError(ErrorCode.FORBIDDEN, f"only the host can {what} players")
        if player == member.info.id:
            raise RuleError(ErrorCode.BAD_REQUEST, f"the host cannot {what} themselves")
        target = self.members.get(player)
        if target is None:
            raise RuleError(ErrorCode.BAD_REQUEST, f"there is no player {player} in this room")
        return target

    def _mute(self, member: Member, mute: Mute) -> list[Outgoing]:
        target = self._other_member(member, mute.player, "mute" if mute.muted else "unmute")
        if target.info.role is Role.SPECTATOR:
            raise RuleError(ErrorCode.BAD_REQUEST, "spectators have no layer to mute")
        if mute.muted:
            self.muted.add(mute.player)
        else:
            self.muted.discard(mute.player)
        return [Outgoing(Mute(mute.player, mute.muted))]

    def _remove(self, member: Member, remove: Remove, now: float) -> list[Outgoing]:
        self._other_member(member, remove.player, "remove")
        out = self.leave(remove.player, now)
        leave = out[0].message
        return [
            Outgoing(leave, exclude=remove.player),
            Outgoing(leave, to=remove.player, close=CloseCode.REMOVED, reason=REMOVED_REASON),
        ]

    def _tempo(self, member: Member, tempo: Tempo, now: float) -> list[Outgoing]:
        self._require_player(member, "change the tempo")
        earliest = self.tempo.next_bar(now, MIN_LEAD_BEATS)
        if tempo.starts_at_bar > earliest + MAX_TEMPO_AHEAD_BARS:
            raise RuleError(
                ErrorCode.TEMPO,
                f"a tempo change can start at most {MAX_TEMPO_AHEAD_BARS} bars after bar "
                f"{earliest}, not at bar {tempo.starts_at_bar}",
            )
        bar = max(tempo.starts_at_bar, earliest)
        try:
            self.tempo = self.tempo.trimmed(now).with_tempo(tempo.bpm, bar)
        except TempoError as exc:
            raise RuleError(ErrorCode.TEMPO, str(exc)) from exc
        return [Outgoing(Tempo(tempo.bpm, bar))]

    # -- layers ------------------------------------------------------------------

    def generation_due(self, now: float) -> GenerationBatch | None:
        """The layers to write now, for the next bar they can still reach: every new
        seed, and every player whose body has moved the groove it asks for (a layer
        playing is then continued under the new controls).

        A batch is cut once a bar, during the beat before that bar's lead, so a
        model gets every player's request in one call and time to write them. (A seed
        that comes in later in that beat makes a second batch for the bar.)
        """
        playing = int(self.tempo.bar_at(now))
        if playing != self._pruned_bar:  # once a bar, or a long jam's stack grows for ever
            self._pruned_bar = playing
            self.loops.prune(playing)
        bar = self.tempo.next_bar(now, MIN_LEAD_BEATS)
        if self.tempo.beat_at(now) < bar * BEATS_PER_BAR - MIN_LEAD_BEATS - GENERATE_AHEAD_BEATS:
            return None
        steered = []
        if bar != self._steered_bar:
            self._steered_bar = bar
            steered = [
                owner
                for owner, member in self.members.items()
                if member.moved(bar) and self._current_pattern(owner, bar) is not None
            ]
        owners = sorted({*self._seeds, *steered})
        if not owners:
            return None
        requests = []
        for owner in owners:
            member = self.members[owner]
            controls = member.asked = member.controls(bar)
            seed = self._seeds.pop(owner, None)
            requests.append(
                GenerationRequest(owner, seed, self._current_pattern(owner, bar), controls)
            )
        return GenerationBatch(bar, tuple(requests))

    def _current_pattern(self, owner: int, bar: int) -> Pattern | None:
        layer = self.loops.layer_at(owner, bar)
        return layer.pattern if layer else None

    def apply_generated(
        self, batch: GenerationBatch, patterns: list[Pattern], now: float
    ) -> list[Outgoing]:
        """Schedule generated layers on the batch's bar, or the next one if that came too close."""
        bar = max(batch.bar, self.tempo.next_bar(now, MIN_LEAD_BEATS))
        out = []
        for request, pattern in zip(batch.requests, patterns, strict=True):
            if request.owner not in self.members:
                continue  # left while the layer was being written
            latest = self.loops.latest(request.owner)
            version = latest.version + 1 if latest else 1
            layer = Layer(request.owner, pattern, bar, version)
            self.loops.schedule(layer)
            out.append(Outgoing(layer))
        return out
