"""``posejam host``, ``join`` and ``spectate``: party mode on the LAN, each in a game window."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from client.audio_engine import open_engine
from client.discovery import DiscoveryError, parse_target, resolve
from client.game import Background, GameClient, run_window
from client.net import ConnectError
from client.pose_source import PoseSourceError
from client.pose_tracker import PoseModelError
from client.views import has_display
from server import main as server_main
from server.journal import JournalError
from shared.messages import Hello, Mute, Remove, Role, Tempo
from shared.tempo import DEFAULT_BPM

HOST_DESCRIPTION = """\
Host a party: run a room server on this machine (announced on the LAN, so friends join
with its 4-letter code; every jam recorded in the journal) and play in it yourself, in
a game window. Up to 8 players; anyone can change the tempo (it lands on the next bar).
"""
JOIN_DESCRIPTION = """\
Join a room as a player, in a game window: by its 4-letter code (found on the LAN) or by
its address (ws://HOST:PORT). Your body steers your layer; the grid editor and the dice
seed it by hand.
"""
SPECTATE_DESCRIPTION = """\
Watch a room on a big screen: every player's skeleton, every layer, the tempo and the
vibe meter, playing the room's groove in sync. By code or by ws://HOST:PORT.
"""


def _common(parser: argparse.ArgumentParser, player: bool) -> None:
    parser.add_argument("--name", default="Player" if player else "Screen", help="your name")
    parser.add_argument("--password", default="", help="the room's password, if it has one")
    if player:
        parser.add_argument(
            "--source",
            default="camera",
            help="your body: camera, camera:N, demo or a video file (default: %(default)s)",
        )
        parser.add_argument(
            "--model", default="lite", help="pose model: lite or full (default: %(default)s)"
        )
    parser.add_argument("--frames", type=int, default=0, help=argparse.SUPPRESS)  # tests


def add_host_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="0.0.0.0", help="address to listen on (default: %(default)s: the LAN)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=server_main.DEFAULT_PORT,
        help="TCP port, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument("--room", type=server_main.room_code, default=None, help="room code")
    parser.add_argument("--bpm", type=float, default=DEFAULT_BPM, help="starting tempo")
    parser.add_argument(
        "--journal",
        type=server_main.journal_path,
        default=server_main.default_journal(),
        metavar="PATH",
        help="where jams are recorded; none: not recorded (default: %(default)s)",
    )
    _common(parser, player=True)
    parser.set_defaults(run=run_host)


def add_join_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="CODE|ws://HOST:PORT", help="the room to join")
    _common(parser, player=True)
    parser.set_defaults(run=run_join)


def add_spectate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="CODE|ws://HOST:PORT", help="the room to watch")
    _common(parser, player=False)
    parser.set_defaults(run=run_spectate)


def play(
    command: str,
    open_game: Callable[[], Coroutine[Any, Any, GameClient]],
    close: Callable[[], Coroutine[Any, Any, None]],
    spectate: bool,
    title: str,
    frames: int = 0,
) -> int:
    """Start a client on a background loop and show its view until the window closes."""
    if not has_display():
        print(f"posejam {command}: no display to open the game window on", file=sys.stderr)
        return 2
    background = Background()
    try:
        try:
            game = background.run(open_game(), timeout=60.0)
        except (
            ConnectError,
            DiscoveryError,
            PoseSourceError,
            PoseModelError,
            JournalError,
            OSError,
            ValueError,
        ) as exc:
            print(f"posejam {command}: {exc}", file=sys.stderr)
            return 1
        from client.views.play import PlayView
        from client.views.spectate import SpectateView

        def make_view(state: Any) -> Any:
            if spectate:
                return SpectateView(state)

            def grid(cells: tuple[int, ...]) -> None:
                game.grid = cells

            return PlayView(
                state,
                on_seed=lambda seed: background.submit(game.send(seed)),
                on_tempo=lambda bpm: background.submit(game.send(Tempo(bpm, 0))),
                on_grid=grid,
                on_mute=lambda player, muted: background.submit(game.send(Mute(player, muted))),
                on_remove=lambda player: background.submit(game.send(Remove(player))),
            )

        run_window(background, game, make_view, title, frames)
    finally:
        with contextlib.suppress(Exception):
            background.run(close(), timeout=15.0)
        background.close()
    return 0


async def room_url(target: str) -> tuple[str, str]:
    """The ws:// URL and the room code (or "") of a CODE or ws://HOST:PORT target."""
    kind, value = parse_target(target)
    if kind == "url":
        return value, ""
    found = await resolve(value)
    return found.url, found.code


def _client(args: argparse.Namespace, role: Role) -> tuple[Callable[[], Any], Callable[[], Any]]:
    games: list[GameClient] = []

    async def open_game() -> GameClient:
        url, code = await room_url(args.target)
        hello = Hello(args.name, role, room=code, password=args.password)
        source = args.source if role is Role.PLAYER else None
        model = getattr(args, "model", "lite")
        games.append(GameClient(url, hello, open_engine("auto"), source, model))
        await games[0].start()
        return games[0]

    async def close() -> None:
        if games:
            await games[0].stop()

    return open_game, close


def _run_target(args: argparse.Namespace, command: str, role: Role) -> int:
    try:
        parse_target(args.target)
    except ValueError as exc:
        print(f"posejam {command}: {exc}", file=sys.stderr)
        return 2
    open_game, close = _client(args, role)
    return play(command, open_game, close, role is Role.SPECTATOR, args.target, args.frames)


def run_join(args: argparse.Namespace) -> int:
    return _run_target(args, "join", Role.PLAYER)


def run_spectate(args: argparse.Namespace) -> int:
    return _run_target(args, "spectate", Role.SPECTATOR)


def run_host(args: argparse.Namespace) -> int:
    held: dict[str, Any] = {}

    async def open_game() -> GameClient:
        generator = held["generator"] = server_main.make_generator("auto", None)
        held["journal"] = journal = server_main.open_journal(args.journal)
        server, code, port = await server_main.open_server(
            args.host, args.port, args.room, args.password, args.bpm, generator, journal
        )
        held["server"] = server
        from server.discovery import RoomAdvertiser

        advertiser = RoomAdvertiser(code, port, args.host, needs_password=bool(args.password))
        held["advertiser"] = advertiser
        held["announcing"] = asyncio.create_task(advertiser.start())
        print(f"posejam host: room {code}: friends join with  posejam join {code}", flush=True)
        hello = Hello(args.name, Role.PLAYER, room=code, password=args.password)
        game = GameClient(
            f"ws://127.0.0.1:{port}", hello, open_engine("auto"), args.source, args.model
        )
        held["game"] = game
        await game.start()
        return game

    async def close() -> None:
        if "game" in held:
            await held["game"].stop()
        if "advertiser" in held:
            with contextlib.suppress(Exception):
                await held["announcing"]
            await held["advertiser"].stop()
        if "server" in held:
            await held["server"].stop()
        server_main.close_generator(held.get("generator"))
        if held.get("journal") is not None:
            held["journal"].close()

    return play("host", open_game, close, False, "host", args.frames)
