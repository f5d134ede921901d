"""The jam journal: round trips, a kill -9 mid-jam, broken files, and the server recording."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from client.net import NetClient
from server import main as server_main
from server.app import PoseJamServer
from server.journal import (
    PATTERN_BYTES,
    SCHEMA_VERSION,
    Jam,
    JamPlayer,
    JamSummary,
    Journal,
    JournalError,
    TempoChange,
    decode_pattern,
    encode_pattern,
)
from server.lobby import Lobby
from shared.drums import DRUM_COUNT, LAYER_STEPS, grid_to_pattern, make_pattern, pattern_to_grid
from shared.messages import Hello, Layer, PlayerInfo, Pong, Role, Seed, SeedSource, Tempo
from shared.tempo import TempoMap, TempoSegment
from tests.loopback import server_process

ROOT = Path(__file__).resolve().parents[2]
WALL = 1_700_000_000.0
ANN = PlayerInfo(1, "Ann", Role.PLAYER, 0xFF5A5F)
BOB = PlayerInfo(2, "Bob", Role.PLAYER, 0x3EC1D3)
GRID = (1, 0, 4, 0, 2, 0, 4, 0, 1, 0, 4, 0, 2, 0, 4, 5)


def pattern(seed: int) -> tuple[tuple[int, ...], ...]:
    """A 32-step pattern with every velocity 0..127 somewhere, distinct per seed."""
    return make_pattern(
        [(seed + 7 * s + 3 * d) % 128 for d in range(DRUM_COUNT)] for s in range(LAYER_STEPS)
    )


def test_a_pattern_blob_round_trips_and_is_compact() -> None:
    for seed in range(5):
        blob = encode_pattern(pattern(seed))
        assert len(blob) == PATTERN_BYTES == 288
        assert decode_pattern(blob) == pattern(seed)
    assert encode_pattern(grid_to_pattern([1, 2]))[:18] == bytes(
        [100] + [0] * 8 + [0, 100] + [0] * 7
    )


def test_a_bad_pattern_is_refused_either_way() -> None:
    with pytest.raises(JournalError, match=r"^a layer pattern is 32 steps of 9 velocities$"):
        encode_pattern(pattern(0)[:16])
    with pytest.raises(
        JournalError, match=r"^layer velocities must be integers in range 0\.\.127$"
    ):
        encode_pattern(((128,) * 9,) * 32)
    with pytest.raises(JournalError, match=r"^a layer pattern must be 288 bytes, got 287$"):
        decode_pattern(bytes(287))
    with pytest.raises(
        JournalError, match=r"^layer velocities must be in range 0\.\.127, got 200$"
    ):
        decode_pattern(bytes([200]) + bytes(287))


def test_a_jam_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "jams.sqlite"  # folders are made too
    with Journal.open(path) as journal:
        first = journal.start_jam("ABCD", 120.0, WALL)
        journal.player(first, ANN, WALL + 1.5)
        journal.player(first, BOB, WALL + 2.0)
        journal.player(first, PlayerInfo(1, "Ann again", Role.PLAYER, 0), WALL + 9.0)  # kept first
        layers = [
            Layer(1, pattern(1), 3, 1),
            Layer(2, pattern(2), 4, 1),
            Layer(1, pattern(3), 5, 2),
            Layer(1, pattern(4), 5, 3),  # a second batch for the same bar replaces it
        ]
        for layer in layers:
            journal.layer(first, layer)
        journal.tempo(first, 150.0, 4)
        journal.tempo(first, 90.5, 6)
        second = journal.start_jam("WXYZ", 200.0, WALL + 3600.0)
        journal.player(second, BOB, WALL + 3601.0)
    assert (first, second) == (1, 2)

    with Journal.open(path, create=False) as journal:
        jam = journal.load(first)
        assert jam == Jam(
            1,
            "ABCD",
            WALL,
            120.0,
            (JamPlayer(1, "Ann", 0xFF5A5F, WALL + 1.5), JamPlayer(2, "Bob", 0x3EC1D3, WALL + 2.0)),
            tuple(layers),
            (TempoChange(4, 150.0), TempoChange(6, 90.5)),
        )
        assert journal.jams() == [
            JamSummary(1, "ABCD", WALL, 2, 4, 4),  # bars 3..6: from bar 3 to the end of bar 6
            JamSummary(2, "WXYZ", WALL + 3600.0, 1, 0, 0),
        ]
        assert journal.latest() == 2
        assert (jam.first_bar, jam.end_bar, jam.bars) == (3, 7, 4)
        assert journal.load(second).layers == ()


def test_a_jam_rebuilds_the_rooms_tempo_map_and_loop_stack() -> None:
    layers = (
        Layer(1, pattern(1), 3, 1),
        Layer(1, pattern(3), 5, 2),
        Layer(1, pattern(4), 5, 3),
        Layer(2, pattern(2), 4, 1),
    )
    changes = (TempoChange(4, 150.0), TempoChange(6, 100.0), TempoChange(6, 90.0))
    jam = Jam(1, "ABCD", WALL, 120.0, (), layers, changes)
    # Bar 4 starts at 8 s (4 bars of 2 s); bar 6 at 8 + 2 * 1.6 s; the second change
    # on bar 6 replaces the first, as the room's map did.
    assert jam.tempo_map() == TempoMap(
        (
            TempoSegment(0.0, 0.0, 120.0),
            TempoSegment(8.0, 16.0, 150.0),
            TempoSegment(11.2, 24.0, 90.0),
        )
    )
    stack = jam.loop_stack()
    assert stack.layer_at(1, 4) == layers[0]
    assert stack.layer_at(1, 5) == layers[2]
    assert stack.layer_at(2, 3) is None
    assert stack.all() == (layers[0], layers[2], layers[3])
    broken = Jam(1, "ABCD", WALL, 120.0, (), layers, (TempoChange(6, 100.0), TempoChange(2, 90.0)))
    with pytest.raises(JournalError, match=r"^jam 1 has a broken tempo map: tempo change at bar 2"):
        broken.tempo_map()


def test_an_unknown_jam_and_an_empty_journal_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "jams.sqlite"
    with Journal.open(path) as journal:
        assert journal.jams() == []
        with pytest.raises(JournalError, match=rf"^no jams recorded in {path}$"):
            journal.latest()
        with pytest.raises(JournalError, match=rf"^no jam 7 in {path}$"):
            journal.load(7)
        with pytest.raises(JournalError, match=rf"^cannot write to {path}: no jam 7 there$"):
            journal.layer(7, Layer(1, pattern(0), 0, 1))


def test_every_layer_committed_before_a_kill_9_is_there(tmp_path: Path) -> None:
    """A child journals layers as fast as it can, saying each one after its write returns;
    it is killed with SIGKILL mid-stream, and every layer it said is in the file."""
    path = tmp_path / "jams.sqlite"
    script = textwrap.dedent(
        f"""
        from server.journal import Journal
        from shared.messages import Layer, PlayerInfo, Role
        from tests.server.test_journal import pattern

        journal = Journal.open({str(path)!r})
        jam = journal.start_jam("KILL", 120.0, 1.0)
        journal.player(jam, PlayerInfo(1, "Ann", Role.PLAYER, 0), 2.0)
        version = 0
        while True:
            version += 1
            journal.layer(jam, Layer(1, pattern(version), 2 * version, version))
            print(version, flush=True)  # once the pipe is full, it waits here, mid-jam
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        said = 0
        for line in child.stdout:
            said = int(line)
            if said >= 200:
                break
        child.send_signal(signal.SIGKILL)  # while it writes the next layers
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
    assert said == 200
    with Journal.open(path, create=False) as journal:
        jam = journal.load(1)
    versions = [layer.version for layer in jam.layers]
    assert versions == list(range(1, len(versions) + 1))  # nothing torn, nothing skipped
    assert len(versions) >= said
    assert all(layer == Layer(1, pattern(v), 2 * v, v) for v, layer in enumerate(jam.layers, 1))
    assert jam.players == (JamPlayer(1, "Ann", 0, 2.0),)


def test_a_file_that_is_not_a_journal_is_a_clear_error(tmp_path: Path) -> None:
    noise = tmp_path / "noise.sqlite"
    noise.write_bytes(bytes(range(256)) * 16)
    for create in (True, False):
        with pytest.raises(
            JournalError,
            match=rf"^cannot read {noise}: not a PoseJam journal \(file is not a database\)$",
        ):
            Journal.open(noise, create=create)
    assert noise.read_bytes() == bytes(range(256)) * 16  # left as it was

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(JournalError, match=rf"^{other} is an SQLite database, not a PoseJam jour"):
        Journal.open(other)

    with pytest.raises(JournalError, match=rf"^no journal at {tmp_path / 'missing.sqlite'}$"):
        Journal.open(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(JournalError, match=rf"^{tmp_path} is not a file$"):
        Journal.open(tmp_path)


def test_a_journal_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jams.sqlite"
    Journal.open(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
        db.execute("PRAGMA user_version = 2")
    for create in (True, False):
        with pytest.raises(
            JournalError,
            match=rf"^{path} is a journal of schema version 2; this PoseJam reads version 1 "
            "and older: upgrade PoseJam to read it$",
        ):
            Journal.open(path, create=create)


def test_a_damaged_record_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "jams.sqlite"
    with Journal.open(path) as journal:
        jam = journal.start_jam("ABCD", 120.0, WALL)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO layers (jam, owner, version, starts_at_bar, pattern) "
            "VALUES (?, 1, 1, 0, ?)",
            (jam, b"\x01\x02"),
        )
    with (
        Journal.open(path, create=False) as journal,
        pytest.raises(
            JournalError,
            match=rf"^jam 1 in {path} has a damaged record: a layer pattern must be 288 bytes, "
            "got 2$",
        ),
    ):
        journal.load(jam)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE tempo_changes")
    with pytest.raises(
        JournalError, match=rf"^{path} is a damaged journal: no table tempo_changes$"
    ):
        Journal.open(path, create=False)


def test_writes_take_well_under_a_millisecond(tmp_path: Path) -> None:
    """The server writes on its event loop: a layer must not hold the pongs back."""
    with Journal.open(tmp_path / "jams.sqlite") as journal:
        jam = journal.start_jam("ABCD", 120.0, WALL)
        count = 200
        started = time.perf_counter()
        for v in range(1, count + 1):
            journal.layer(jam, Layer(1, pattern(v), 2 * v, v))
        per_layer = (time.perf_counter() - started) / count
    assert per_layer < 0.002, f"{per_layer * 1e3:.3f} ms per layer"


# -- the server records its rooms ------------------------------------------------------


async def joined(url: str, name: str, role: Role = Role.PLAYER) -> NetClient:
    client = NetClient(url, Hello(name, role, room="JAMS"), keep_inbox=True)
    await client.connect()
    return client


def test_the_server_journals_players_layers_and_tempo_changes(tmp_path: Path) -> None:
    path = tmp_path / "jams.sqlite"

    async def scenario() -> None:
        lobby = Lobby()
        lobby.create(time.monotonic(), "JAMS", bpm=240.0)
        with Journal.open(path) as journal:
            server = PoseJamServer(lobby, journal=journal, wall_clock=lambda: WALL)
            port = await server.start("127.0.0.1", 0)
            url = f"ws://127.0.0.1:{port}"
            try:
                tv = await joined(url, "TV", Role.SPECTATOR)  # spectators are not recorded
                ann = await joined(url, "Ann")
                for _ in range(3):
                    await ann.next(Pong)
                await ann.send(Seed(SeedSource.GRID, grid=GRID))
                layer = await ann.next(Layer)
                # Written before it was sent: another reader sees it the moment it arrives.
                with Journal.open(path, create=False) as reader:
                    assert reader.load(1).layers == (layer,)
                await ann.send(Tempo(150.0))
                tempo = await ann.next(Tempo)
                await ann.close()
                await tv.close()
            finally:
                await server.stop()
            jam = journal.load(1)
        assert jam.room == "JAMS" and jam.started == WALL and jam.bpm == 240.0
        assert ann.state.me == PlayerInfo(2, "Ann", Role.PLAYER, 0xFF5A5F)
        assert jam.players == (JamPlayer(2, "Ann", 0xFF5A5F, WALL),)
        assert jam.layers == (layer,)
        assert pattern_to_grid(jam.layers[0].pattern) == GRID * 2  # the seed, as played
        assert jam.tempo_changes == (TempoChange(tempo.starts_at_bar, 150.0),)

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_failing_journal_is_logged_and_the_groove_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "jams.sqlite"

    async def scenario() -> None:
        lobby = Lobby()
        lobby.create(time.monotonic(), "JAMS", bpm=240.0)
        journal = Journal.open(path)
        server = PoseJamServer(lobby, journal=journal, wall_clock=lambda: WALL)
        port = await server.start("127.0.0.1", 0)
        url = f"ws://127.0.0.1:{port}"
        try:
            ann = await joined(url, "Ann")
            journal.close()  # every write from now on fails
            bob = await joined(url, "Bob")
            await ann.send(Seed(SeedSource.DICE, dice=3))
            layer = await bob.next(Layer)
            assert layer.owner == ann.player_id
            await ann.send(Tempo(150.0))
            assert (await bob.next(Tempo)).bpm == 150.0
            await ann.close()
            await bob.close()
        finally:
            await server.stop()

    with caplog.at_level(logging.ERROR, logger="server.app"):
        asyncio.run(asyncio.wait_for(scenario(), 30))
    failures = [r.getMessage() for r in caplog.records if r.name == "server.app"]
    closed = f"cannot write to {path}: Cannot operate on a closed database."
    assert failures == [
        f"journal: room JAMS: {closed}",  # Bob
        f"journal: room JAMS: {closed}",  # the layer
        f"journal: room JAMS: {closed}",  # the tempo change
    ]
    with Journal.open(path, create=False) as journal:
        assert journal.jams() == [JamSummary(1, "JAMS", WALL, 1, 0, 0)]  # Ann, before it broke


# -- the server's --journal option ---------------------------------------------------


def test_the_default_journal_follows_xdg_data_home() -> None:
    home = Path.home()
    assert server_main.default_journal({}) == home / ".local/share/posejam/jams.sqlite"
    assert server_main.default_journal({"XDG_DATA_HOME": ""}) == (
        home / ".local/share/posejam/jams.sqlite"
    )
    assert server_main.default_journal({"XDG_DATA_HOME": "relative/dir"}) == (
        home / ".local/share/posejam/jams.sqlite"
    )
    assert server_main.default_journal({"XDG_DATA_HOME": "/data"}) == Path(
        "/data/posejam/jams.sqlite"
    )


def test_the_journal_option_takes_a_path_or_none(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    server_main.add_arguments(parser)
    assert parser.parse_args([]).journal == server_main.default_journal()
    assert parser.parse_args(["--journal", "none"]).journal is None
    assert parser.parse_args(["--journal", "NONE"]).journal is None
    assert parser.parse_args(["--journal", str(tmp_path / "j.db")]).journal == tmp_path / "j.db"
    assert parser.parse_args(["--journal", "~/j.db"]).journal == Path.home() / "j.db"


def test_a_server_with_a_broken_journal_does_not_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    noise = tmp_path / "noise.sqlite"
    noise.write_bytes(bytes(range(256)) * 16)
    parser = argparse.ArgumentParser()
    server_main.add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--generator", "seeds", "--journal", str(noise)])
    with caplog.at_level(logging.ERROR, logger="server.main"):
        assert server_main.run(args) == 1
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot read {noise}: not a PoseJam journal (file is not a database) "
        "(choose another with --journal PATH, or --journal none)"
    ]


def test_the_server_process_journals_into_its_default_place(tmp_path: Path) -> None:
    """``python -m server`` with XDG_DATA_HOME set: the jam of a player who joined is there
    after a SIGTERM (and after a SIGKILL nothing applied is lost, see above)."""
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path)}
    with server_process("--room", "SIGS", "--generator", "seeds", env=env) as (proc, url):

        async def scenario() -> None:
            client = NetClient(url, Hello("Ann", Role.PLAYER))
            await client.connect()
            await client.close()

        asyncio.run(asyncio.wait_for(scenario(), 30))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    with Journal.open(tmp_path / "posejam" / "jams.sqlite", create=False) as journal:
        (summary,) = journal.jams()
        assert (summary.room, summary.players, summary.layers) == ("SIGS", 1, 0)
        assert abs(summary.started - time.time()) < 60
