"""The ``posejam`` command: one entry point, a subcommand for each thing PoseJam does."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from client import audio_cli, bot, export_cli, party_cli, pose_cli, render_cli, solo_cli
from client.views import has_display
from models import cli as model_cli
from server import main as server_main

PLAY_DESCRIPTION = """\
Start the game: the menu in a game window -- solo practice against an AI band, host a party
on the LAN, join or watch a room found there, and settings (name, pose source, sound output,
latency, volume), which are remembered. Your body comes from the pose source you chose in
Settings (before that: the camera, or the built-in demo dancer when there is none). On a
machine with no display it plays a whole solo jam headless instead and writes it to --out
(jam.wav, jam.mid, screen.png, jam.json).
"""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    raw: bool = False  # keep the description's own line breaks


def _server_arguments(parser: argparse.ArgumentParser) -> None:
    server_main.add_arguments(parser)
    parser.set_defaults(run=server_main.run)


def _bot_arguments(parser: argparse.ArgumentParser) -> None:
    bot.add_arguments(parser)
    parser.set_defaults(run=bot.run)


def _play_arguments(parser: argparse.ArgumentParser) -> None:
    solo_cli.add_arguments(parser)
    parser.add_argument("--then", default="", help=argparse.SUPPRESS)  # tests: a menu choice
    parser.set_defaults(run=run_play, source="auto")


COMMANDS = (
    Command("play", "start the game", PLAY_DESCRIPTION, _play_arguments, raw=True),
    Command("solo", "practise alone against an AI band", solo_cli.DESCRIPTION,
            solo_cli.add_arguments, raw=True),
    Command("host", "host a party: a room on the LAN and you in it",
            party_cli.HOST_DESCRIPTION, party_cli.add_host_arguments),
    Command("join", "join a room by code or address", party_cli.JOIN_DESCRIPTION,
            party_cli.add_join_arguments),
    Command("spectate", "watch a room on a big screen", party_cli.SPECTATE_DESCRIPTION,
            party_cli.add_spectate_arguments),
    Command("pose", "watch the pose tracker: skeleton and every feature and control",
            pose_cli.DESCRIPTION, pose_cli.add_arguments, raw=True),
    Command("audio", "the sound devices, the output latency, a test beat",
            audio_cli.DESCRIPTION, audio_cli.add_arguments),
    Command("render", "render a drum MIDI file to WAV through the kit",
            render_cli.DESCRIPTION, render_cli.add_arguments),
    Command("jams", "list recorded jams", export_cli.JAMS_DESCRIPTION,
            export_cli.add_jams_arguments),
    Command("export", "write a recorded jam as MIDI (and WAV)", export_cli.EXPORT_DESCRIPTION,
            export_cli.add_export_arguments, raw=True),
    Command("server", "run a room server",
            "Run a PoseJam room server until Ctrl-C (SIGINT) or SIGTERM.", _server_arguments),
    Command("bot", "headless bot players and spectators",
            "Join a room with bot players that stream a dancing pose at 30 Hz and roll seeds "
            "now and then, and bot spectators; log what they receive.", _bot_arguments),
    Command("model", "train, sample and evaluate the drum model",
            "The drum LSTM: train it on the Groove MIDI Dataset, write bars with it, measure it.",
            model_cli.add_arguments),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posejam",
        description=(
            "PoseJam: dance in front of a webcam, steer a drum loop, play in sync with the room."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages too")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            formatter_class=argparse.RawDescriptionHelpFormatter
            if command.raw
            else argparse.HelpFormatter,
        )
        command.add_arguments(p)
    return parser


def run_play(args: argparse.Namespace) -> int:
    """The game: the menu in a window; where there is no display, a headless jam into --out."""
    if args.headless or not has_display():
        return solo_cli.run(args)
    from client import app

    return app.run(args.source, args.frames, then=args.then)  # "auto": the saved source


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
