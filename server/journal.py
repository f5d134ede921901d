"""The jam journal: every room's jam written to SQLite as it happens, so it outlives the server.

One database file holds many jams. Each record is its own transaction, committed
before the server sends the message it records, in WAL mode with
``synchronous=NORMAL``: a commit is a write into the log file, which the kernel
keeps however the process ends, so a ``kill -9`` loses nothing already applied.
A power cut may roll back the last commits; ``synchronous=FULL`` would prevent
that with an fsync per record, on the server's event loop (measured: 0.24 ms a
layer against 0.09 ms, on this machine's disk; slower disks fsync slower). Readers
(``posejam jams``) can read while a server writes.

Times: ``wall_time`` arguments are Unix seconds, passed in; bars are the room's
tempo map's bars, whose bar 0 is where the room's first tempo segment starts.
A :class:`Jam` rebuilds its tempo map from time 0 at bar 0, and its loop stack by
scheduling the layers in the order they were applied, as the room did.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from shared.drums import (
    DRUM_COUNT,
    LAYER_BARS,
    LAYER_STEPS,
    MAX_VELOCITY,
    PATTERN_BYTES,
    Pattern,
    pattern_from_bytes,
)
from shared.loop_stack import LoopStack
from shared.messages import Layer, PlayerInfo
from shared.tempo import TempoError, TempoMap

SCHEMA_VERSION = 1
# How long a write waits for another writer of the same file (a second server):
# short, because the server writes on its event loop.
BUSY_TIMEOUT = 0.5

_SCHEMA = """
CREATE TABLE jams (
    id INTEGER PRIMARY KEY,
    room TEXT NOT NULL,
    started REAL NOT NULL,       -- wall clock, Unix seconds
    bpm REAL NOT NULL            -- the tempo at the room's bar 0
);
CREATE TABLE players (
    jam INTEGER NOT NULL REFERENCES jams (id),
    player INTEGER NOT NULL,
    name TEXT NOT NULL,
    colour INTEGER NOT NULL,     -- 0xRRGGBB
    first_seen REAL NOT NULL,    -- wall clock, Unix seconds
    PRIMARY KEY (jam, player)
);
CREATE TABLE layers (
    id INTEGER PRIMARY KEY,      -- the order they were applied in
    jam INTEGER NOT NULL REFERENCES jams (id),
    owner INTEGER NOT NULL,
    version INTEGER NOT NULL,
    starts_at_bar INTEGER NOT NULL,
    pattern BLOB NOT NULL        -- 32 steps x 9 drums, one velocity byte each, step-major
);
CREATE INDEX layers_by_jam ON layers (jam, id);
CREATE TABLE tempo_changes (
    id INTEGER PRIMARY KEY,      -- the order they were accepted in
    jam INTEGER NOT NULL REFERENCES jams (id),
    starts_at_bar INTEGER NOT NULL,
    bpm REAL NOT NULL
);
CREATE INDEX tempo_changes_by_jam ON tempo_changes (jam, id);
"""

_TABLES = {"jams", "players", "layers", "tempo_changes"}


class JournalError(Exception):
    """The journal cannot be opened, read or written; the message says why."""


@dataclass(frozen=True, slots=True)
class JamPlayer:
    id: int
    name: str
    colour: int
    first_seen: float  # wall clock, Unix seconds


@dataclass(frozen=True, slots=True)
class TempoChange:
    starts_at_bar: int
    bpm: float


@dataclass(frozen=True, slots=True)
class JamSummary:
    id: int
    room: str
    started: float  # wall clock, Unix seconds
    players: int
    layers: int
    bars: int  # from the first layer's bar to the end of the last layer


@dataclass(frozen=True, slots=True)
class Jam:
    id: int
    room: str
    started: float
    bpm: float  # at bar 0
    players: tuple[JamPlayer, ...]
    layers: tuple[Layer, ...]  # in the order they were applied
    tempo_changes: tuple[TempoChange, ...]  # in the order they were accepted

    @property
    def first_bar(self) -> int:
        """The bar the first layer starts on: where the music begins (0 with no layers)."""
        return min((lay.starts_at_bar for lay in self.layers), default=0)

    @property
    def end_bar(self) -> int:
        """The bar at which the last layer has played once through."""
        return max((lay.starts_at_bar + LAYER_BARS for lay in self.layers), default=0)

    @property
    def bars(self) -> int:
        return self.end_bar - self.first_bar

    def tempo_map(self) -> TempoMap:
        """The room's tempo map, its bar 0 at time 0, every accepted change applied in turn."""
        try:
            tempo = TempoMap.start(0.0, self.bpm)
            for change in self.tempo_changes:
                tempo = tempo.with_tempo(change.bpm, change.starts_at_bar)
        except TempoError as exc:
            raise JournalError(f"jam {self.id} has a broken tempo map: {exc}") from exc
        return tempo

    def loop_stack(self) -> LoopStack:
        """Every layer, scheduled in applied order (a later layer on the same bar replaces)."""
        stack = LoopStack()
        for layer in self.layers:
            stack.schedule(layer)
        return stack

    def player_names(self) -> dict[int, str]:
        return {p.id: p.name for p in self.players}


def encode_pattern(pattern: Pattern) -> bytes:
    """A layer's pattern as its blob; the inverse of :func:`decode_pattern`."""
    if len(pattern) != LAYER_STEPS or any(len(step) != DRUM_COUNT for step in pattern):
        raise JournalError(f"a layer pattern is {LAYER_STEPS} steps of {DRUM_COUNT} velocities")
    flat = [v for step in pattern for v in step]
    if not all(type(v) is int and 0 <= v <= MAX_VELOCITY for v in flat):
        raise JournalError(f"layer velocities must be integers in range 0..{MAX_VELOCITY}")
    return bytes(flat)


def decode_pattern(blob: bytes) -> Pattern:
    """A pattern from its blob; the inverse of :func:`encode_pattern`."""
    if len(blob) != PATTERN_BYTES:
        raise JournalError(f"a layer pattern must be {PATTERN_BYTES} bytes, got {len(blob)}")
    loud = max(blob)
    if loud > MAX_VELOCITY:
        raise JournalError(f"layer velocities must be in range 0..{MAX_VELOCITY}, got {loud}")
    return pattern_from_bytes(blob)


class Journal:
    """A journal file. Writes go straight to disk, each its own transaction."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: Path | str, create: bool = True) -> Journal:
        """Open the journal at ``path``; with ``create``, make it (and its folder) if missing.

        Raises :class:`JournalError` when the file is missing (without ``create``), is
        not a PoseJam journal, or was written by a newer PoseJam.
        """
        path = Path(path)
        if not path.exists():
            if not create:
                raise JournalError(f"no journal at {path}")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise JournalError(f"cannot create {path.parent}: {exc.strerror or exc}") from exc
        elif not path.is_file():
            raise JournalError(f"{path} is not a file")
        try:
            # Autocommit: every statement outside BEGIN is its own committed transaction.
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open {path}: {exc}") from exc
        journal = cls(path, db)
        try:
            journal._prepare(create)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise JournalError(f"cannot read {path}: not a PoseJam journal ({exc})") from exc
        except JournalError:
            db.close()
            raise
        return journal

    def _prepare(self, create: bool) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"{self.path} is a journal of schema version {version}; this PoseJam reads "
                f"version {SCHEMA_VERSION} and older: upgrade PoseJam to read it"
            )
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0:
            if tables:
                raise JournalError(f"{self.path} is an SQLite database, not a PoseJam journal")
            if not create:
                raise JournalError(f"{self.path} is an empty file, not a PoseJam journal")
            self._create()
        elif _TABLES - tables:
            missing = ", ".join(sorted(_TABLES - tables))
            raise JournalError(f"{self.path} is a damaged journal: no table {missing}")
        db.execute("PRAGMA foreign_keys = ON")  # a record of no jam is refused
        if create:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")

    def _create(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")  # another server may be making the same file
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------

    def _write(self, sql: str, params: tuple[object, ...], jam: int | None = None) -> int:
        try:
            cursor = self._db.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise JournalError(f"cannot write to {self.path}: no jam {jam} there") from exc
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write to {self.path}: {exc}") from exc
        return cursor.lastrowid or 0

    def start_jam(self, room_code: str, bpm: float, wall_time: float) -> int:
        """Record a jam starting; its id."""
        return self._write(
            "INSERT INTO jams (room, started, bpm) VALUES (?, ?, ?)",
            (room_code, float(wall_time), float(bpm)),
        )

    def player(self, jam: int, info: PlayerInfo, wall_time: float) -> None:
        """Record a player of ``jam``; a player already recorded keeps its first record."""
        self._write(
            "INSERT OR IGNORE INTO players (jam, player, name, colour, first_seen) "
            "VALUES (?, ?, ?, ?, ?)",
            (jam, info.id, info.name, info.colour, float(wall_time)),
            jam,
        )

    def layer(self, jam: int, layer: Layer) -> None:
        """Record a layer the room applied."""
        self._write(
            "INSERT INTO layers (jam, owner, version, starts_at_bar, pattern) "
            "VALUES (?, ?, ?, ?, ?)",
            (jam, layer.owner, layer.version, layer.starts_at_bar, encode_pattern(layer.pattern)),
            jam,
        )

    def tempo(self, jam: int, bpm: float, starts_at_bar: int) -> None:
        """Record a tempo change the room accepted."""
        self._write(
            "INSERT INTO tempo_changes (jam, starts_at_bar, bpm) VALUES (?, ?, ?)",
            (jam, starts_at_bar, float(bpm)),
            jam,
        )

    # -- reading -----------------------------------------------------------------

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self._db.execute(sql, params))
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read {self.path}: {exc}") from exc

    def jams(self) -> list[JamSummary]:
        """Every jam recorded, oldest first."""
        rows = self._read(
            f"""
            SELECT j.id, j.room, j.started,
                (SELECT count(*) FROM players p WHERE p.jam = j.id),
                (SELECT count(*) FROM layers l WHERE l.jam = j.id),
                (SELECT coalesce(max(l.starts_at_bar) + {LAYER_BARS} - min(l.starts_at_bar), 0)
                 FROM layers l WHERE l.jam = j.id)
            FROM jams j ORDER BY j.id
            """
        )
        try:
            return [
                JamSummary(int(i), str(room), float(started), int(p), int(n), int(bars))
                for i, room, started, p, n, bars in rows
            ]
        except (TypeError, ValueError) as exc:
            raise JournalError(f"{self.path} has a damaged jam record: {exc}") from exc

    def latest(self) -> int:
        """The id of the newest jam."""
        newest = self._read("SELECT max(id) FROM jams")[0][0]
        if newest is None:
            raise JournalError(f"no jams recorded in {self.path}")
        return int(newest)

    def load(self, jam: int) -> Jam:
        """Everything recorded of ``jam``."""
        found = self._read("SELECT room, started, bpm FROM jams WHERE id = ?", (jam,))
        if not found:
            raise JournalError(f"no jam {jam} in {self.path}")
        players = self._read(
            "SELECT player, name, colour, first_seen FROM players WHERE jam = ? ORDER BY player",
            (jam,),
        )
        layers = self._read(
            "SELECT owner, version, starts_at_bar, pattern FROM layers WHERE jam = ? ORDER BY id",
            (jam,),
        )
        changes = self._read(
            "SELECT starts_at_bar, bpm FROM tempo_changes WHERE jam = ? ORDER BY id", (jam,)
        )
        room, started, bpm = found[0]
        try:
            return Jam(
                jam,
                str(room),
                float(started),
                float(bpm),
                tuple(
                    JamPlayer(int(i), str(name), int(colour), float(seen))
                    for i, name, colour, seen in players
                ),
                tuple(
                    Layer(int(owner), decode_pattern(bytes(blob)), int(bar), int(version))
                    for owner, version, bar, blob in layers
                ),
                tuple(TempoChange(int(bar), float(b)) for bar, b in changes),
            )
        except (TypeError, ValueError, JournalError) as exc:
            raise JournalError(f"jam {jam} in {self.path} has a damaged record: {exc}") from exc
