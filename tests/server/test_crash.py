"""A server process killed with SIGKILL mid-jam and started again on the same journal:
every layer it announced before the kill is in the journal, the restarted server records
a jam of its own beside it, and ``posejam export`` writes the killed.id as MIDI and WAV."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pretty_midi

from client.export_cli import main as export_main
from client.net import NetClient
from server.journal import Journal
from shared.messages import Hello, Layer, Role, Seed, SeedSource
from tests.loopback import server_process

GRID = (1, 0, 4, 0, 2, 0, 4, 0, 1, 0, 4, 0, 2, 0, 4, 5)


async def play_until_layers(url: str, wanted: int) -> list[Layer]:
    """Two players send seeds bar after bar; return the layers the server announced."""
    ann = NetClient(url, Hello("Ann", Role.PLAYER, room="CRSH"), keep_inbox=True)
    bob = NetClient(url, Hello("Bob", Role.PLAYER, room="CRSH"))
    await ann.connect()
    await bob.connect()
    heard: list[Layer] = []
    dice = 0
    while len(heard) < wanted:
        dice += 1
        await ann.send(Seed(SeedSource.DICE, dice=dice))
        await bob.send(Seed(SeedSource.GRID, grid=GRID[dice % 4 :] + GRID[: dice % 4]))
        layer = await ann.next(Layer, timeout=10.0)
        heard.append(layer)
        while not ann.inbox.empty():  # type: ignore[union-attr]
            message = ann.inbox.get_nowait()  # type: ignore[union-attr]
            if isinstance(message, Layer):
                heard.append(message)
    return heard


def test_a_jam_survives_a_kill_9_of_its_server_and_exports(tmp_path: Path) -> None:
    path = tmp_path / "jams.sqlite"
    args = ("--room", "CRSH", "--bpm", "240", "--generator", "seeds", "--journal", str(path))
    with server_process(*args) as (proc, url):
        heard = asyncio.run(asyncio.wait_for(play_until_layers(url, 6), 60))
        proc.send_signal(signal.SIGKILL)  # mid-jam: the players are still connected
        assert proc.wait(timeout=10) == -signal.SIGKILL

    with server_process(*args) as (proc, url):  # the same journal, opened again
        asyncio.run(asyncio.wait_for(play_until_layers(url, 1), 60))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0

    with Journal.open(path, create=False) as journal:
        killed, restarted = journal.jams()
        jam = journal.load(killed.id)
    assert (killed.room, killed.players, restarted.room) == ("CRSH", 2, "CRSH")
    # Every layer announced before the kill was written before it was announced.
    assert set(heard) <= set(jam.layers)

    midi, wav = tmp_path / "jam.mid", tmp_path / "jam.wav"
    argv = ["export", str(killed.id), "--journal", str(path), "--midi", str(midi)]
    assert export_main([*argv, "--wav", str(wav)]) == 0
    tracks = pretty_midi.PrettyMIDI(str(midi)).instruments
    assert sorted(t.name for t in tracks) == ["Ann", "Bob"]
    assert all(t.is_drum and t.notes for t in tracks)
    assert wav.stat().st_size > 44
