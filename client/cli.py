"""The ``posejam`` command: one entry point, a subcommand for each thing PoseJam does."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time

from client import audio_cli, bot, export_cli, party_cli, pose_cli, render_cli, solo_cli
from client.net import ConnectError
from models import cli as model_cli
from server import main as server_main

PLAY_NOTE = (
    "The game client (views, camera, audio) is not built yet. `play` starts what exists: "
    "a server with bot players and a spectator bot, logging what they send and receive."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posejam",
        description=(
            "PoseJam: dance in front of a webcam, steer a drum loop, play in sync with the room."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages too")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "server",
        help="run a room server",
        description="Run a PoseJam room server until Ctrl-C (SIGINT) or SIGTERM.",
    )
    server_main.add_arguments(p)
    p.set_defaults(run=server_main.run)

    p = sub.add_parser(
        "bot",
        help="headless bot players and spectators",
        description=(
            "Join a room with bot players that stream a dancing pose at 30 Hz and roll seeds "
            "now and then, and bot spectators; log what they receive."
        ),
    )
    bot.add_arguments(p)
    p.set_defaults(run=bot.run)

    p = sub.add_parser(
        "model",
        help="train, sample and evaluate the drum model",
        description="The drum LSTM: train it on the Groove MIDI Dataset, write bars with it, "
        "measure it.",
    )
    model_cli.add_arguments(p)

    p = sub.add_parser(
        "pose",
        help="watch the pose tracker: skeleton and every feature and control",
        description=pose_cli.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pose_cli.add_arguments(p)

    p = sub.add_parser(
        "solo",
        help="practise alone against an AI band",
        description=solo_cli.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    solo_cli.add_arguments(p)

    p = sub.add_parser(
        "host",
        help="host a party: a room on the LAN and you in it",
        description=party_cli.HOST_DESCRIPTION,
    )
    party_cli.add_host_arguments(p)

    p = sub.add_parser(
        "join", help="join a room by code or address", description=party_cli.JOIN_DESCRIPTION
    )
    party_cli.add_join_arguments(p)

    p = sub.add_parser(
        "spectate",
        help="watch a room on a big screen",
        description=party_cli.SPECTATE_DESCRIPTION,
    )
    party_cli.add_spectate_arguments(p)

    p = sub.add_parser(
        "jams",
        help="list recorded jams",
        description=export_cli.JAMS_DESCRIPTION,
    )
    export_cli.add_jams_arguments(p)

    p = sub.add_parser(
        "export",
        help="write a recorded jam as MIDI (and WAV)",
        description=export_cli.EXPORT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export_cli.add_export_arguments(p)

    p = sub.add_parser(
        "audio",
        help="the sound devices, the output latency, a test beat",
        description=audio_cli.DESCRIPTION,
    )
    audio_cli.add_arguments(p)

    p = sub.add_parser(
        "render",
        help="render a drum MIDI file to WAV through the kit",
        description=render_cli.DESCRIPTION,
    )
    render_cli.add_arguments(p)

    p = sub.add_parser(
        "play", help="start the game (for now: a server with bots)", description=PLAY_NOTE
    )
    p.add_argument(
        "--port",
        type=int,
        default=server_main.DEFAULT_PORT,
        help="server port (default: %(default)s)",
    )
    p.add_argument("--bots", type=int, default=3, help="bot players (default: %(default)s)")
    p.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        help="stop after this long; 0 runs until Ctrl-C (default: %(default)s)",
    )
    p.set_defaults(run=run_play)
    return parser


def run_play(args: argparse.Namespace) -> int:
    logging.getLogger(__name__).info(PLAY_NOTE)
    return asyncio.run(_play(args.port, args.bots, args.seconds))


async def _play(port: int, bots: int, seconds: float) -> int:
    try:
        generator = server_main.make_generator("auto", None)
    except ValueError as exc:
        logging.getLogger(__name__).error("%s", exc)
        return 1
    try:
        server, code, bound = await server_main.open_server(
            "127.0.0.1", port, None, "", 120.0, generator
        )
    except OSError as exc:
        logging.getLogger(__name__).error("cannot listen on port %d: %s", port, exc.strerror or exc)
        return 1
    stop = asyncio.Event()
    server_main.stop_on_signals(stop)
    url = f"ws://127.0.0.1:{bound}"
    logging.getLogger(__name__).info("join it with: posejam bot --url %s --room %s", url, code)
    deadline = time.monotonic() + seconds if seconds else float("inf")

    async def sessions() -> None:
        try:
            while time.monotonic() < deadline:
                length = min(60.0, deadline - time.monotonic())
                bot.log_reports(await bot.run_bots(url, code, bots, 1, length))
        except ConnectError as exc:
            logging.getLogger(__name__).error("bots could not join: %s", exc)
        finally:
            stop.set()

    bots_task = asyncio.create_task(sessions())
    await stop.wait()
    bots_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await bots_task
    await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    # websockets logs every connection at INFO: too chatty for a room of bots.
    logging.getLogger("websockets").setLevel(logging.WARNING)
    code: int = args.run(args)
    return code
