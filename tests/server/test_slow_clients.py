"""Slow and stuck screens on a real server on 127.0.0.1: a spectator that never reads
(nor answers pings) is dropped after the keepalive timeout; one that reads slowly loses
poses, not its seat; what the server holds for either stays bounded and the others
hear every pose."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

from websockets.asyncio.client import connect

from bench.load import UPGRADE, masked_frame
from client.net import NetClient
from server.app import POSE_BUFFER_LIMIT, PoseJamServer, ServerConfig
from server.lobby import Lobby
from server.room import Outgoing
from shared.codec import encode
from shared.messages import Hello, Leave, Pose, Role, Tempo

FEATURES = (0.5,) * 12
LANDMARKS = tuple(range(0, 65535, 662))[:99]  # a body's 33 points, as a camera sends them


@contextlib.asynccontextmanager
async def serving(config: ServerConfig) -> AsyncIterator[tuple[PoseJamServer, str]]:
    lobby = Lobby()
    lobby.create(time.monotonic(), "SLOW", "", 120.0)
    server = PoseJamServer(lobby, config=config)
    port = await server.start("127.0.0.1", 0)
    try:
        yield server, f"ws://127.0.0.1:{port}"
    finally:
        await server.stop()


def close_frame(stream: bytes) -> tuple[int, str] | None:
    """The close code and reason in a server's frames (unmasked, RFC 6455 5.2), if any."""
    at = 0
    while at + 2 <= len(stream):
        opcode, length = stream[at] & 0x0F, stream[at + 1] & 0x7F
        at += 2
        if length == 126:
            length, at = int.from_bytes(stream[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(stream[at : at + 8], "big"), at + 8
        payload, at = stream[at : at + length], at + length
        if opcode == 0x8:
            return int.from_bytes(payload[:2], "big"), payload[2:].decode()
    return None


async def stuck_spectator(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A screen that joins, then never reads another byte: no pongs, no frames."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    # Its stream buffers 8 KiB at most, then stops reading the socket.
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    writer.write(UPGRADE)
    await reader.readuntil(b"\r\n\r\n")
    writer.write(masked_frame(encode(Hello("Asleep", Role.SPECTATOR, room="SLOW"))))
    await writer.drain()
    return reader, writer


async def stream_poses(player: NetClient, seconds: float, rate: float = 50.0) -> int:
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await player.send(Pose(time.monotonic(), FEATURES, LANDMARKS))
        sent += 1
        await asyncio.sleep(1 / rate)
    return sent


def test_a_spectator_that_never_reads_is_dropped_after_the_keepalive_timeout() -> None:
    async def scenario() -> None:
        config = ServerConfig(keepalive_interval=0.3, keepalive_timeout=0.3, close_timeout=0.3)
        async with serving(config) as (server, url):
            ann = NetClient(url, Hello("Ann", Role.PLAYER, room="SLOW"), keep_inbox=True)
            await ann.connect()
            reader, writer = await stuck_spectator(int(url.rsplit(":", 1)[1]))
            streaming = asyncio.create_task(stream_poses(ann, seconds=3.0))
            leave = await ann.next(Leave, timeout=3.0)
            assert leave == Leave(2, host=1)  # the sleeper, gone; Ann still hosts
            assert set(server.clients["SLOW"]) == {1}
            await streaming
            assert not ann.closed.is_set()
            # Had it woken, it would have read why it was let go.
            assert close_frame(await reader.read()) == (1011, "keepalive ping timeout")
            writer.close()
            await ann.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_slow_reader_loses_poses_not_its_seat_and_the_others_hear_every_pose() -> None:
    async def scenario() -> None:
        config = ServerConfig(send_buffer=POSE_BUFFER_LIMIT * 2)
        async with serving(config) as (server, url):
            ann = NetClient(url, Hello("Ann", Role.PLAYER, room="SLOW"))
            bob = NetClient(url, Hello("Bob", Role.PLAYER, room="SLOW"))
            tv = NetClient(url, Hello("TV", Role.SPECTATOR, room="SLOW"))
            for client in (ann, bob, tv):
                await client.connect()
            # A spectator whose machine reads 10 frames a second, through small buffers.
            small = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
            small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            async with connect(
                url, sock=small, proxy=None, max_queue=4, compression=None, close_timeout=0.5
            ) as slow:
                await slow.send(encode(Hello("Slow", Role.SPECTATOR, room="SLOW")))
                await slow.recv()  # welcome: it has a seat
                # Loopback would buffer megabytes on the way; a Wi-Fi screen's path holds little.
                pipe = server.clients["SLOW"][4].ws.transport.get_extra_info("socket")
                pipe.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
                read = high = 0

                async def read_slowly() -> None:
                    nonlocal read, high
                    while True:
                        await slow.recv()
                        read += 1
                        high = max(high, server.clients["SLOW"][4].backlog())
                        await asyncio.sleep(0.1)

                reading = asyncio.create_task(read_slowly())
                sent = sum(await asyncio.gather(stream_poses(ann, 3.0), stream_poses(bob, 3.0)))
                await asyncio.sleep(0.3)
                reading.cancel()
                slow_client = server.clients["SLOW"][4]
                assert slow_client.closing is None  # still in the room
                assert slow_client.dropped_poses > 0
                # Poses stop at the limit; one pass's frames may go past it, not far.
                assert high < POSE_BUFFER_LIMIT + 4096, high
                assert read < sent
            assert tv.received["pose"] == sent  # a screen that keeps up misses nothing
            for client in (tv, bob, ann):
                await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_screen_whose_backlog_passes_the_send_buffer_is_closed_and_the_others_hear_all() -> None:
    async def scenario() -> None:
        config = ServerConfig(send_buffer=4096, close_timeout=0.3)
        async with serving(config) as (server, url):
            ann = NetClient(url, Hello("Ann", Role.PLAYER, room="SLOW"), keep_inbox=True)
            await ann.connect()
            reader, writer = await stuck_spectator(int(url.rsplit(":", 1)[1]))
            while 2 not in server.clients["SLOW"]:
                await asyncio.sleep(0.01)
            asleep = server.clients["SLOW"][2]
            pipe = asleep.ws.transport.get_extra_info("socket")
            pipe.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            room = server.lobby.find("SLOW")
            sent = 0
            while asleep.closing is None:
                # Announcements (as a bar's layers come): none may be missed, unlike a
                # pose, so a screen that cannot take them any more must go.
                batch = [Outgoing(Tempo(100.0 + n % 50, n)) for n in range(sent, sent + 20)]
                server.announce(room, batch)
                sent += len(batch)
                await asyncio.sleep(0.02)
            await asleep.closing
            assert asleep.backlog() <= 4096
            heard = [(await ann.next(Tempo, timeout=3.0)).starts_at_bar for _ in range(sent)]
            assert heard == list(range(sent))  # every one, in order
            assert await ann.next(Leave, timeout=3.0) == Leave(2, host=1)
            close = asleep.ws.protocol.close_sent
            assert (close.code, close.reason) == (1008, "too slow: send buffer overflow")
            # Behind its backlog, the close frame never reaches it: after the close
            # timeout the socket is cut, and a screen waking up reads to the end.
            with contextlib.suppress(ConnectionResetError):
                await asyncio.wait_for(reader.read(), 1.0)
            writer.close()
            await ann.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
