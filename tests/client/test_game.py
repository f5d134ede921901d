"""Game clients in a party on loopback: two dancing players and a spectator on one real
server, every screen playing the same hits at the same server times; and the windows
each command opens, drawn off-screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from client.audio_engine import SilentEngine
from client.cli import main
from client.game import GameClient, snapshot
from shared.messages import Hello, Remove, Role, Seed, SeedSource, Welcome
from tests.loopback import running_server, server_process

BAR = 1.0  # the loopback room plays at 240 bpm


def test_two_players_and_a_spectator_hear_the_same_groove() -> None:
    seen: dict[str, object] = {}

    async def party() -> list[GameClient]:
        async with running_server(bpm=240.0) as url:
            ann = GameClient(url, Hello("Ann", Role.PLAYER), SilentEngine(), source="demo")
            bob = GameClient(url, Hello("Bob", Role.PLAYER), SilentEngine(), source="demo")
            tv = GameClient(url, Hello("TV", Role.SPECTATOR), SilentEngine())
            games = [ann, bob, tv]
            for game in games:
                await game.start()
            await ann.send(Seed(SeedSource.DICE, dice=1, density=0.6))
            await bob.send(Seed(SeedSource.GRID, grid=(1, 0, 4, 0, 2, 0, 4, 0) * 2))
            await asyncio.sleep(5 * BAR)
            seen["tv"] = {p: len(pose.landmarks) for p, pose in tv.net.state.poses.items()}
            seen["ann"] = set(ann.net.state.poses)
            for game in games:
                await game.stop()
            return games

    ann, bob, tv = asyncio.run(party())
    engines = [g.engine for g in (ann, bob, tv)]
    assert all(isinstance(e, SilentEngine) for e in engines)
    # Every screen plays the same drums on the same steps of the room's tempo (each
    # screen reads steps through its own clock sync), at the same moment: one machine's
    # clock, so their local times agree to the sync's error (bench.audio_sync measures
    # it through jitter; here a loose bound that holds on a busy machine).
    heard = []
    for game in (ann, bob, tv):
        tempo, sync = game.net.state.tempo, game.net.sync
        assert tempo is not None
        heard.append(
            {
                (round(tempo.step_at(sync.server_time(h.time))), h.owner, h.drum): h.time
                for h in game.engine.hits  # type: ignore[attr-defined]
            }
        )
    common = set(heard[0]) & set(heard[1]) & set(heard[2])
    assert len(common) > 20
    assert {owner for _, owner, _ in common} == {ann.me, bob.me}
    # Each screen scheduled from its own start, so the sets differ only at their edges.
    assert min(len(common) / len(h) for h in heard) > 0.8
    spread = max(max(h[key] for h in heard) - min(h[key] for h in heard) for key in common)
    assert spread < 0.005
    # The spectator sees both bodies, landmarks and all, and the players each other.
    assert seen["tv"] == {ann.me: 99, bob.me: 99}
    assert seen["ann"] == {bob.me}  # the server relays a pose to everyone but its sender
    # And every screen's pose channels follow the bodies: the channels were set.
    assert {ann.me, bob.me} <= set(tv.engine.channels)  # type: ignore[attr-defined]


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.01)


def test_a_dropped_screen_comes_back_to_its_seat_and_keeps_playing_meanwhile() -> None:
    async def scenario() -> None:
        async with running_server(bpm=240.0) as url:
            ann = GameClient(url, Hello("Ann", Role.PLAYER), SilentEngine())
            bob = GameClient(url, Hello("Bob", Role.PLAYER), SilentEngine())
            for game in (ann, bob):
                await game.start()
            await ann.send(Seed(SeedSource.GRID, grid=(1, 0, 4, 0) * 4))
            await until(lambda: bool(bob.net.state.loops.all()))
            # The way back stays shut until the test opens it.
            way_back, reconnect = asyncio.Event(), ann.net.reconnect

            async def gated() -> Welcome:
                await way_back.wait()
                return await reconnect()

            ann.net.reconnect = gated  # type: ignore[method-assign]
            assert ann.net._ws is not None
            ann.net._ws.transport.abort()  # the Wi-Fi goes
            await until(lambda: ann.connection != "", within=2.0)
            assert ann.screen_state().message == "connection lost: reconnecting..."
            # Meanwhile Ann's screen plays on from the room state it has.
            heard = len(ann.engine.hits)  # type: ignore[attr-defined]
            await asyncio.sleep(2 * BAR)
            assert len(ann.engine.hits) > heard  # type: ignore[attr-defined]
            assert set(bob.net.state.players) == {1, 2}  # Bob never saw Ann go
            way_back.set()
            await until(lambda: ann.reconnects == 1)
            assert (ann.connection, ann.me) == ("", 1)
            assert ann.screen_state().message == "connected to TEST"
            for game in (ann, bob):
                await game.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_screen_lets_go_of_layers_that_no_longer_play() -> None:
    async def scenario() -> None:
        async with running_server(bpm=240.0) as url:
            ann = GameClient(url, Hello("Ann", Role.PLAYER), SilentEngine())
            await ann.start()
            for bar in range(5):
                await ann.send(Seed(SeedSource.DICE, dice=bar))
                await asyncio.sleep(BAR)
            await until(lambda: ann.net.state.loops.latest(1) is not None)
            versions = [layer.version for layer in ann.net.state.loops.all()]
            latest = ann.net.state.loops.latest(1)
            assert latest is not None and latest.version >= 4
            assert versions[0] >= latest.version - 2  # the first ones are gone
            await ann.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_removed_player_does_not_come_back() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            ann = GameClient(url, Hello("Ann", Role.PLAYER), SilentEngine())
            bob = GameClient(url, Hello("Bob", Role.PLAYER), SilentEngine())
            for game in (ann, bob):
                await game.start()
            await ann.send(Remove(bob.me))
            await until(lambda: bob.connection != "")
            assert bob.connection == "disconnected: removed by the host"
            await asyncio.sleep(0.5)
            assert bob.reconnects == 0
            assert set(ann.net.state.players) == {1}
            for game in (ann, bob):
                await game.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_snapshot_is_a_copy_the_network_thread_cannot_change() -> None:
    async def one() -> None:
        async with running_server() as url:
            game = GameClient(url, Hello("Ann", Role.PLAYER), SilentEngine())
            await game.start()
            shot = snapshot(game)
            assert shot.room is not game.net.state
            assert shot.room.players == game.net.state.players
            assert shot.room.players is not game.net.state.players
            await game.stop()

    asyncio.run(one())


@pytest.fixture
def server_url() -> Iterator[str]:
    with server_process(
        "--journal", "none", "--room", "GAME", "--generator", "seeds", "--bpm", "200"
    ) as (_, url):
        yield url


def test_join_and_spectate_open_their_windows_on_a_real_server(server_url: str) -> None:
    assert main(["join", server_url, "--source", "demo", "--frames", "20"]) == 0
    assert main(["spectate", server_url, "--frames", "20"]) == 0


def test_solo_and_host_open_their_windows() -> None:
    assert main(["solo", "--frames", "20", "--journal", "none"]) == 0
    assert (
        main(
            [
                "host",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--journal",
                "none",
                "--source",
                "demo",
                "--frames",
                "20",
            ]
        )
        == 0
    )


def test_a_room_that_is_not_there_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spectate", "ws://127.0.0.1:9", "--frames", "5"]) == 1
    assert "posejam spectate: cannot reach ws://127.0.0.1:9" in capsys.readouterr().err
