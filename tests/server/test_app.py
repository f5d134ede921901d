"""Integration: the real server on 127.0.0.1 port 0 with real websocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from client.net import ConnectError, NetClient
from server.app import POSE_BUFFER_LIMIT, Client, PoseJamServer, ServerConfig
from server.lobby import Lobby
from shared.codec import decode, encode
from shared.messages import (
    CloseCode,
    Error,
    ErrorCode,
    Hello,
    Join,
    Layer,
    Leave,
    Mute,
    Ping,
    Pong,
    Pose,
    Remove,
    Role,
    Seed,
    SeedSource,
    Tempo,
)
from tests.loopback import running_server, server_process

ROOT = Path(__file__).resolve().parents[2]
GRID = (1, 0, 4, 0, 2, 0, 4, 0, 1, 0, 4, 0, 2, 0, 4, 5)


async def joined(url: str, name: str, role: Role = Role.PLAYER, **hello: str) -> NetClient:
    client = NetClient(url, Hello(name, role, room="TEST", **hello), keep_inbox=True)
    await client.connect()
    return client


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


async def close_code_of(ws: object) -> tuple[int | None, str]:
    """Read until the server closes; return its close code and reason."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await ws.recv()  # type: ignore[attr-defined]
    rcvd = ws.close_exc.rcvd  # type: ignore[attr-defined]
    return (rcvd.code, rcvd.reason) if rcvd else (None, "")


def test_players_join_and_everyone_hears_of_it() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            ann = await joined(url, "Ann")
            bob = await joined(url, "Bob")
            tv = await joined(url, "TV", Role.SPECTATOR)
            assert (ann.player_id, bob.player_id, tv.player_id) == (1, 2, 3)
            assert (await ann.next(Join)).player.name == "Bob"
            assert (await ann.next(Join)).player.name == "TV"
            assert (await bob.next(Join)).player.name == "TV"
            assert sorted(tv.state.players) == [1, 2, 3]
            assert tv.state.host == 1
            assert tv.state.room == "TEST"
            for c in (ann, bob, tv):
                await c.close()

    run(scenario)


def test_a_layer_lands_on_the_announced_bar_for_everyone_and_late_joiners_get_it() -> None:
    async def scenario() -> None:
        async with running_server(bpm=240.0) as url:
            clients = [await joined(url, n) for n in ("Ann", "Bob")]
            clients.append(await joined(url, "TV", Role.SPECTATOR))
            for c in clients:  # a few pongs so each client knows the server's clock
                for _ in range(3):
                    await c.next(Pong)
            await clients[0].send(Seed(SeedSource.GRID, grid=GRID))
            layers = [await c.next(Layer) for c in clients]
            arrived = [c.server_now() for c in clients]
            assert len({(lay.owner, lay.starts_at_bar, lay.version) for lay in layers}) == 1
            layer = layers[0]
            assert (layer.owner, layer.version) == (clients[0].player_id, 1)
            assert [s & 0x1FF for s in GRID] == [
                sum(1 << d for d, v in enumerate(step) if v) for step in layer.pattern[:16]
            ]
            for c, t in zip(clients, arrived, strict=True):
                tempo = c.state.tempo
                assert tempo is not None
                # It arrived before its bar began, with at least a beat (0.25 s) to spare.
                assert tempo.time_at_bar(layer.starts_at_bar) - t >= 0.25 - 0.01
                assert c.state.loops.layer_at(layer.owner, layer.starts_at_bar) == layer
                assert c.state.loops.layer_at(layer.owner, layer.starts_at_bar - 1) is None
            late = await joined(url, "Cat")
            assert late.state.loops.latest(layer.owner) == layer
            assert sorted(late.state.players) == [1, 2, 3, 4]
            for c in [*clients, late]:
                await c.close()

    run(scenario)


def test_a_tempo_change_reaches_everyone_for_the_same_bar() -> None:
    async def scenario() -> None:
        async with running_server(bpm=120.0) as url:
            ann, tv = await joined(url, "Ann"), await joined(url, "TV", Role.SPECTATOR)
            await ann.send(Tempo(150.0))
            changes = [await ann.next(Tempo), await tv.next(Tempo)]
            assert changes[0] == changes[1]
            assert changes[0].bpm == 150.0
            assert ann.state.tempo == tv.state.tempo
            assert tv.state.tempo is not None
            assert tv.state.tempo.segments[-1].bpm == 150.0
            await ann.close()
            await tv.close()

    run(scenario)


def test_a_spectator_cannot_change_a_layer_and_stays_connected() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            ann = await joined(url, "Ann")
            tv = await joined(url, "TV", Role.SPECTATOR)
            await tv.send(Seed(SeedSource.DICE, dice=7, owner=ann.player_id))
            error = await tv.next(Error)
            assert error == Error(ErrorCode.FORBIDDEN, "spectators cannot change layers")
            await tv.send(Tempo(100.0))
            assert (await tv.next(Error)).message == "spectators cannot change the tempo"
            # Still connected: it still gets the room's traffic.
            await ann.send(Pose(1.0, (0.5,)))
            assert (await tv.next(Pose)).player == ann.player_id
            assert not tv.closed.is_set()
            await ann.close()
            await tv.close()

    run(scenario)


def test_a_player_cannot_change_another_players_layer() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            ann, bob = await joined(url, "Ann"), await joined(url, "Bob")
            await bob.send(Seed(SeedSource.DICE, dice=7, owner=ann.player_id))
            assert await bob.next(Error) == Error(
                ErrorCode.FORBIDDEN, "only a layer's owner or the host can change it"
            )
            await ann.close()
            await bob.close()

    run(scenario)


def test_the_host_removes_a_player_and_mutes_another_for_everyone() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            ann, bob, cat = [await joined(url, n) for n in ("Ann", "Bob", "Cat")]
            tv = await joined(url, "TV", Role.SPECTATOR)
            await bob.send(Remove(cat.player_id))  # not the host: refused, nobody goes
            assert await bob.next(Error) == Error(
                ErrorCode.FORBIDDEN, "only the host can remove players"
            )
            await ann.send(Remove(bob.player_id))
            await bob.closed.wait()
            assert (bob.close_code, bob.close_reason) == (CloseCode.REMOVED, "removed by the host")
            for c in (ann, cat, tv):
                assert await c.next(Leave) == Leave(bob.player_id, ann.player_id)
                assert bob.player_id not in c.state.players
            await ann.send(Mute(cat.player_id, True))
            for c in (ann, cat, tv):
                assert await c.next(Mute) == Mute(cat.player_id, True)
                assert c.state.muted == {cat.player_id}
            late = await joined(url, "Dan")  # learns it from the snapshot
            assert late.state.muted == {cat.player_id}
            await ann.send(Mute(cat.player_id, False))
            for c in (ann, cat, tv, late):
                assert await c.next(Mute) == Mute(cat.player_id, False)
                assert c.state.muted == set()
            assert not any(c.closed.is_set() for c in (ann, cat, tv, late))
            for c in (ann, cat, tv, late):
                await c.close()

    run(scenario)


def test_a_malformed_frame_closes_only_its_sender() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            ann, tv = await joined(url, "Ann"), await joined(url, "TV", Role.SPECTATOR)
            bad = await joined(url, "Mallory")
            assert bad._ws is not None
            await bad._ws.send(msgpack.packb({"type": "tempo", "bpm": float("nan")}))
            await bad.closed.wait()
            assert bad.close_code == CloseCode.MALFORMED
            assert bad.close_reason == "tempo.bpm must be a finite number, got nan"
            leave = await ann.next(Leave)
            assert leave.player == bad.player_id
            await ann.send(Pose(2.0, (1.0, 2.0)))
            relayed = await tv.next(Pose)
            assert (relayed.player, relayed.features) == (ann.player_id, (1.0, 2.0))
            assert not ann.closed.is_set() and not tv.closed.is_set()
            await ann.close()
            await tv.close()

    run(scenario)


@pytest.mark.parametrize(
    ("first", "code", "reason"),
    [
        (b"\xc1", CloseCode.MALFORMED, "frame is not valid msgpack (FormatError)"),
        ("hello", CloseCode.MALFORMED, "frames must be binary msgpack, not text"),
        (encode(Ping(1, 1.0)), CloseCode.HELLO_FIRST, "the first message must be hello"),
        (
            encode(Hello("Ann", Role.PLAYER, protocol=99)),
            CloseCode.PROTOCOL_VERSION,
            "protocol 99 is not supported; this server speaks 3",
        ),
        (
            encode(Hello("Ann", Role.PLAYER, room="NOPE")),
            CloseCode.NO_SUCH_ROOM,
            "no room NOPE here",
        ),
        (
            encode(Hello("Ann", Role.PLAYER, room="TEST")),
            CloseCode.WRONG_PASSWORD,
            "wrong room password",
        ),
    ],
)
def test_a_bad_first_message_is_refused_with_a_clear_close_code(
    first: bytes | str, code: int, reason: str
) -> None:
    async def scenario() -> None:
        async with running_server(password="sesame") as url, connect(url, proxy=None) as ws:
            await ws.send(first)
            assert await close_code_of(ws) == (code, reason)

    run(scenario)


def test_a_silent_connection_is_closed_after_the_hello_timeout() -> None:
    async def scenario() -> None:
        config = ServerConfig(hello_timeout=0.2)
        async with running_server(config=config) as url, connect(url, proxy=None) as ws:
            assert await close_code_of(ws) == (CloseCode.HELLO_FIRST, "send hello first")

    run(scenario)


def test_connections_beyond_the_limit_are_told_to_try_again_later() -> None:
    async def scenario() -> None:
        config = ServerConfig(max_connections=2)
        async with running_server(config=config) as url:
            ann = await joined(url, "Ann")
            async with connect(url, proxy=None) as idle:  # a second, yet to say hello
                async with connect(url, proxy=None) as third:
                    assert await close_code_of(third) == (
                        CloseCode.TRY_AGAIN_LATER,
                        "the server is full: try again later",
                    )
                await idle.send(encode(Hello("Bob", Role.PLAYER, room="TEST")))
                assert decode(await idle.recv()).player.id == 2  # type: ignore[union-attr]
            await ann.close()
            async with asyncio.timeout(5):
                while True:  # Bob's and Ann's slots come free as their handlers end
                    with contextlib.suppress(ConnectError):
                        again = await joined(url, "Cat")
                        break
                    await asyncio.sleep(0.05)
            await again.close()

    run(scenario)


def test_the_right_password_lets_a_player_in() -> None:
    async def scenario() -> None:
        async with running_server(password="sesame") as url:
            ann = await joined(url, "Ann", password="sesame")
            assert ann.player_id == 1
            await ann.close()
            with pytest.raises(ConnectError) as refused:
                await joined(url, "Bob", password="guess")
            assert refused.value.code == CloseCode.WRONG_PASSWORD

    run(scenario)


def test_a_flood_is_closed_by_the_rate_limit_and_a_huge_frame_by_the_size_limit() -> None:
    async def scenario() -> None:
        config = ServerConfig(rate=10.0, burst=5.0)
        async with running_server(config=config) as url:
            ann = await joined(url, "Ann")
            flood = await joined(url, "Flood")
            assert flood._ws is not None
            for i in range(20):
                await flood._ws.send(encode(Ping(1000 + i, 0.0)))
            await flood.closed.wait()
            assert (flood.close_code, flood.close_reason) == (
                CloseCode.POLICY,
                "rate limit: at most 10 msg/s",
            )
            huge = await joined(url, "Huge")
            assert huge._ws is not None
            await huge._ws.send(b"\x00" * (70 * 1024))
            await huge.closed.wait()
            assert huge.close_code == CloseCode.TOO_BIG
            assert not ann.closed.is_set()
            await ann.close()

    run(scenario)


def test_stopping_the_server_closes_everyone_with_going_away() -> None:
    async def scenario() -> None:
        lobby = Lobby()
        lobby.create(time.monotonic(), "TEST")
        server = PoseJamServer(lobby)
        port = await server.start("127.0.0.1", 0)
        ann = NetClient(f"ws://127.0.0.1:{port}", Hello("Ann", Role.PLAYER), keep_inbox=True)
        await ann.connect()
        await server.stop()
        await ann.closed.wait()
        assert ann.close_code == CloseCode.GOING_AWAY

    run(scenario)


class _Transport:
    def __init__(self) -> None:
        self.buffered = 0
        self.written: list[bytes] = []

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes) -> None:
        self.written.append(data)


class _StuckSocket:
    """A connection whose peer never reads: what is written stays in its buffer."""

    def __init__(self) -> None:
        self.transport = _Transport()
        self.protocol = SimpleNamespace(state=State.OPEN)


def test_a_slow_reader_loses_poses_first_then_its_seat() -> None:
    ws = _StuckSocket()
    client = Client(ws, 1, None, send_buffer=POSE_BUFFER_LIMIT + 100)  # type: ignore[arg-type]
    assert client.offer_pose(b"pose 1")
    client.write()
    ws.transport.buffered = POSE_BUFFER_LIMIT - 10  # the peer reads nothing
    assert all(client.offer(b"layer 6") for _ in range(2))  # 14 bytes waiting now
    assert not client.offer_pose(b"pose 2")  # missed: 4 bytes past the poses' limit
    assert client.dropped_poses == 1
    assert client.backlog() == POSE_BUFFER_LIMIT + 4
    assert all(client.offer(b"layer 6") for _ in range(13))  # up to the send buffer...
    assert client.backlog() == POSE_BUFFER_LIMIT + 95
    assert not client.offer(b"layer 6")  # ...and not a byte past it: too slow to keep
    assert client.offer(b"ok 5")
    client.write()
    assert ws.transport.written == [b"pose 1", b"layer 6" * 15 + b"ok 5"]
    assert client.backlog() == POSE_BUFFER_LIMIT - 10


def test_frames_of_one_pass_go_in_one_write_in_order_and_none_after_a_close() -> None:
    ws = _StuckSocket()
    client = Client(ws, 1, None, send_buffer=1 << 20)  # type: ignore[arg-type]
    assert client.offer_pose(b"a") and client.offer(b"L") and client.offer_pose(b"b")
    client.write()  # one pass, one write
    ws.transport.buffered = POSE_BUFFER_LIMIT + 1
    assert not client.offer_pose(b"c")
    ws.transport.buffered = POSE_BUFFER_LIMIT
    assert client.offer_pose(b"d")
    ws.protocol.state = State.CLOSING  # closing: nothing may follow the close frame
    client.write()
    client.write()  # nothing pending: nothing written
    assert (ws.transport.written, client.dropped_poses) == ([b"aLb"], 1)
    assert client.pending == []


def drop_connection(client: NetClient) -> None:
    """The network fails under a client: no close frame, no leave."""
    assert client._ws is not None
    client._ws.transport.abort()


async def nothing_of_kind(client: NetClient, kinds: tuple[type, ...], within: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while True:
                message = await client.receive()
                assert not isinstance(message, kinds), message


def test_a_player_who_drops_comes_back_to_the_same_seat_colour_and_layer() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            ann = await joined(url, "Ann")
            bob = await joined(url, "Bob")
            await bob.send(Seed(SeedSource.GRID, grid=GRID))
            layer = await ann.next(Layer)
            me = bob.state.me
            drop_connection(bob)
            await bob.closed.wait()
            # Ann's groove goes on: she hears nothing of Bob going.
            await nothing_of_kind(ann, (Leave, Join), within=0.5)
            welcome = await bob.reconnect()
            assert welcome.player == me
            assert welcome.token == bob.token != ""
            assert bob.state.loops.all() == (layer,)  # the snapshot still holds his layer
            await nothing_of_kind(ann, (Leave, Join), within=0.2)
            # And he plays on from the same seat.
            await bob.send(Tempo(150.0))
            assert (await ann.next(Tempo)).bpm == 150.0
            for client in (ann, bob):
                await client.close()

    run(scenario)


def test_a_seat_taken_back_on_a_new_connection_closes_the_old_one() -> None:
    # The client saw its Wi-Fi fail before the server did.
    async def scenario() -> None:
        async with running_server() as url:
            ann = await joined(url, "Ann")
            again = await joined(url, "Ann", token=ann.token)
            assert again.player_id == ann.player_id == 1
            await ann.closed.wait()
            assert (ann.close_code, ann.close_reason) == (
                CloseCode.REPLACED,
                "this seat was taken on a new connection",
            )
            await again.send(Ping(99_999, 0.0))
            while (await again.next(Pong)).seq != 99_999:  # its own pings' pongs come too
                pass  # the new connection holds the seat: it is answered
            await again.close()

    run(scenario)


def test_a_seat_not_taken_back_within_the_grace_period_is_let_go() -> None:
    async def scenario() -> None:
        async with running_server(reconnect_grace=0.3) as url:
            ann = await joined(url, "Ann")
            bob = await joined(url, "Bob")
            drop_connection(ann)
            assert await bob.next(Leave, timeout=3.0) == Leave(1, host=2)
            late = await joined(url, "Ann", token=ann.token)
            assert late.player_id == 3  # joined anew
            for client in (bob, late):
                await client.close()

    run(scenario)


def test_sigterm_shuts_the_server_process_down_cleanly() -> None:
    with server_process("--room", "SIGS", "--journal", "none") as (proc, url):

        async def scenario() -> None:
            ann = NetClient(url, Hello("Ann", Role.PLAYER), keep_inbox=True)
            await ann.connect()
            proc.send_signal(signal.SIGTERM)
            await ann.closed.wait()
            assert ann.close_code == CloseCode.GOING_AWAY

        run(scenario)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        rest = proc.stderr.read()
        assert "shutting down" in rest
        assert "Traceback" not in rest


# -- found by bench.fuzz -------------------------------------------------------------


def test_a_flooder_is_let_go_at_once_not_after_the_close_timeout() -> None:
    """A member closed for breaking the protocol while more of its frames are queued
    must leave the room at once.

    The server stops reading its frames when it closes it (rate limit, malformed
    frame, leave); websockets has paused reading at ``max_queue`` (32) frames queued,
    so the client's answering close frame is never read, ``ws.close()`` waits out
    ``close_timeout`` (5 s), and only then does the member leave the room: for 5 s
    a flooding player holds a seat (others hear ``room is full``) and the room
    hears of it late. So the server goes on reading, and dropping, what arrives while
    the close is in flight, and reads the close frame at once.
    """

    async def scenario() -> None:
        async with running_server() as url:
            ann = NetClient(url, Hello("Ann", Role.PLAYER, room="TEST"), keep_inbox=True)
            await ann.connect()
            async with connect(url, proxy=None, compression=None) as flood:
                await flood.send(encode(Hello("Flood", Role.PLAYER, room="TEST")))

                async def read() -> None:  # a client that reads everything it is sent
                    with contextlib.suppress(ConnectionClosed):
                        async for _ in flood:
                            pass

                reader = asyncio.create_task(read())
                for i in range(200):  # past the burst of 120, the rest queued
                    await flood.send(encode(Ping(i, 0.0)))
                leave = await ann.next(Leave, timeout=1.0)  # not after the 5 s close timeout
                assert leave.player == 2
                await asyncio.wait_for(reader, 1.0)
                assert flood.close_code == CloseCode.POLICY
            await ann.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_the_error_a_request_earned_arrives_before_the_malformed_close() -> None:
    """A client's requests are answered in order, even when the next frame is garbage.

    The server answers a spectator's seed with an error, then closes the connection on
    the malformed frame right behind it; the close frame once overtook the error (then
    still in a queue, whose writer task was cancelled unflushed). So a protocol
    breaker is closed as a removed player is, what this pass has for it first.
    """

    async def scenario() -> list[object]:
        async with running_server() as url, connect(url, proxy=None) as tv:
            await tv.send(encode(Hello("TV", Role.SPECTATOR, room="TEST")))
            await tv.recv(), await tv.recv()  # welcome, snapshot
            await tv.send(encode(Seed(SeedSource.DICE, dice=7)))
            await tv.send(b"\xc1")
            received = []
            with contextlib.suppress(ConnectionClosed):
                async for frame in tv:
                    received.append(decode(frame))
            assert tv.close_code == CloseCode.MALFORMED
            return received

    received = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert received == [Error(ErrorCode.FORBIDDEN, "spectators cannot change layers")]
