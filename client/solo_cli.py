"""``posejam solo``: practise alone against an AI band (no separate server needed)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from client.export_cli import ExportError
from client.game import GameClient
from client.pose_source import PoseSourceError, open_source
from client.solo import SoloConfig, SoloSession, play_headless
from client.views import has_display
from models.controls import CONTROL_NAMES
from server import main as server_main
from server.journal import JournalError
from shared.tempo import MAX_BPM, MIN_BPM

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Practise alone: a room runs in this process with an AI band of drum-model layers that
change style every few bars, and your body steers your own layer, in a game window (or,
with no display, headless). With --headless the
whole jam plays in real time with no window and no sound card and is written to --out:
jam.wav (what you would have heard), jam.mid (a track per player, from the jam's journal),
screen.png (the play view as the jam ends) and a summary (jam.json).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true", help="no window: play and write files")
    parser.add_argument(
        "--bars", type=int, default=8, help="bars to play with --headless (default: %(default)s)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("jam"), help="folder for --headless (default: %(default)s)"
    )
    parser.add_argument(
        "--bpm",
        type=float,
        default=120.0,
        help=f"tempo, {MIN_BPM:g}-{MAX_BPM:g} (default: %(default)s)",
    )
    parser.add_argument(
        "--band", type=int, default=2, help="AI band members, 1-3 (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="the band's styles and dice (default: %(default)s)"
    )
    parser.add_argument(
        "--source",
        default="demo",
        help="your body: camera, camera:N, demo, a video file, or auto: the camera when "
        "there is one, else the demo dancer (default: %(default)s)",
    )
    parser.add_argument(
        "--journal",
        type=server_main.journal_path,
        default=server_main.default_journal(),
        metavar="PATH",
        help="where the jam is recorded, for posejam jams and export; none: not recorded "
        "(default: %(default)s)",
    )
    parser.add_argument("--frames", type=int, default=0, help=argparse.SUPPRESS)  # tests
    parser.set_defaults(run=run)


def pick_source(spec: str) -> str:
    """``auto``: the camera if one opens, else the demo dancer (said in the log)."""
    if spec != "auto":
        return spec
    try:
        open_source("camera").close()
    except PoseSourceError as exc:
        logger.warning("%s; dancing with the demo dancer instead", exc)
        return "demo"
    return "camera"


def run(args: argparse.Namespace) -> int:
    args.source = pick_source(args.source)
    if args.bars < 1:
        print("posejam solo: --bars must be 1 or more", file=sys.stderr)
        return 2
    try:
        config = SoloConfig(
            bpm=args.bpm,
            band=args.band,
            seed=args.seed,
            source=args.source,
            journal=args.journal,
        )
    except ValueError as exc:
        print(f"posejam solo: {exc}", file=sys.stderr)
        return 2
    if not args.headless and not has_display():
        print("posejam solo: no display here: playing headless into", args.out, file=sys.stderr)
        args.headless = True
    if not args.headless:
        from client.audio_engine import open_engine
        from client.party_cli import play

        session = SoloSession(config, open_engine("auto"))

        async def open_game() -> GameClient:
            await session.start()
            assert session.game is not None
            return session.game

        return play("solo", open_game, session.stop, False, "solo", args.frames)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"posejam solo: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    # The screenshot is drawn off-screen (EGL), display or not; set before arcade loads.
    os.environ.setdefault("ARCADE_HEADLESS", "1")
    try:
        result = asyncio.run(play_headless(config, args.bars, args.out))
    except (PoseSourceError, TimeoutError, ValueError, JournalError, ExportError) as exc:
        print(f"posejam solo: {exc}", file=sys.stderr)
        return 1
    summary = {
        "wav": str(result.wav),
        "midi": str(result.midi) if result.midi else None,
        "screen": str(result.screen) if result.screen else None,
        "first_bar": result.first_bar,
        "bars": result.bars,
        "seconds": round(result.seconds, 3),
        "hits": result.hits,
        "peak_dbfs": round(result.peak_dbfs, 2),
        "layers": result.layers,
        "players": result.players,
        "challenges": [
            {
                "title": r.challenge.title,
                "target": dict(zip(CONTROL_NAMES, r.challenge.target, strict=True)),
                "bars": [r.challenge.first_bar, r.challenge.first_bar + r.challenge.bars],
                "score": round(r.score, 3),
                "stars": r.stars,
                "each_bar": [round(b, 3) for b in r.bars],
            }
            for r in result.challenges
        ],
    }
    (args.out / "jam.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {result.wav}: {result.bars} bars, {result.hits} hits, {result.layers} layers")
    return 0
