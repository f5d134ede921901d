"""``posejam server``: run a PoseJam room server until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from server.app import PoseJamServer
from server.generator import Generator, SeedGenerator
from server.journal import Journal, JournalError
from server.lobby import CODE_LENGTH, Lobby
from server.model_process import ChildGenerator
from shared.tempo import DEFAULT_BPM, MAX_BPM, MIN_BPM, TempoError, check_bpm

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765
JOURNAL_OFF = "none"


def default_journal(environ: Mapping[str, str] = os.environ) -> Path:
    """Where jams are journaled: ``$XDG_DATA_HOME/posejam/jams.sqlite``.

    As the XDG base directory spec says, an unset, empty or relative
    ``XDG_DATA_HOME`` means ``~/.local/share``.
    """
    data = environ.get("XDG_DATA_HOME", "")
    home = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return home / "posejam" / "jams.sqlite"


def journal_path(text: str) -> Path | None:
    """A ``--journal`` value: a path, or ``none`` for no journal."""
    return None if text.lower() == JOURNAL_OFF else Path(text).expanduser()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s; 0.0.0.0 for the LAN)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="TCP port, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--room",
        type=room_code,
        default=None,
        metavar="CODE",
        help="room code, 4 letters (default: a random one)",
    )
    parser.add_argument("--password", default="", help="room password (default: none)")
    parser.add_argument(
        "--bpm",
        type=_bpm,
        default=DEFAULT_BPM,
        help=f"starting tempo, {MIN_BPM:g}-{MAX_BPM:g} (default: %(default)s)",
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "model", "seeds"),
        default="auto",
        help="who writes the layers: the drum model, or the seeds as they are; auto uses the "
        "model when its weights are there (default: %(default)s)",
    )
    parser.add_argument(
        "--weights", type=Path, default=None, help="drum model weights (default: the shipped ones)"
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="the drum model's sampling temperature, 0.05..3 (default: %(default)s)",
    )
    parser.add_argument(
        "--advertise",
        choices=("auto", "on", "off"),
        default="auto",
        help="announce the room on the LAN (mDNS) so posejam join CODE finds it; auto: when "
        "listening beyond this machine (default: %(default)s)",
    )
    parser.add_argument(
        "--journal",
        type=journal_path,
        default=default_journal(),
        metavar="PATH",
        help="record every jam (players, layers, tempo changes) in this SQLite file, for "
        f"`posejam jams` and `posejam export`; {JOURNAL_OFF} records nothing "
        "(default: %(default)s)",
    )


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # nobody else on the LAN could join these


def room_code(text: str) -> str:
    code = text.upper()
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isalpha():
        raise argparse.ArgumentTypeError(f"a room code is {CODE_LENGTH} letters A-Z, got {text!r}")
    return code


def _bpm(text: str) -> float:
    try:
        return check_bpm(float(text))
    except (ValueError, TempoError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def make_generator(kind: str, weights: Path | None, temperature: float = 1.0) -> Generator:
    """The layer writer, loaded and warmed now, before any player can join.

    Raises ``ValueError`` with the reason when the model was asked for and cannot be had.
    """
    from models.cli import DEFAULT_WEIGHTS

    path = weights or DEFAULT_WEIGHTS
    if kind == "seeds" or (kind == "auto" and not path.exists()):
        if kind == "auto":
            logger.warning("no drum model weights at %s: layers are the seeds as they are", path)
        return SeedGenerator()
    if not 0.05 <= temperature <= 3.0:
        raise ValueError(f"temperature must be in range 0.05..3, got {temperature}")
    if not path.exists():
        raise ValueError(f"no drum model weights at {path}")
    # In a process of its own, niced: see server.model_process.
    return ChildGenerator(path, temperature)


def close_generator(generator: Generator | None) -> None:
    """End the drum model's process, if this generator has one."""
    if isinstance(generator, ChildGenerator):
        generator.close()


async def open_server(
    host: str,
    port: int,
    room: str | None,
    password: str,
    bpm: float,
    generator: Generator | None = None,
    journal: Journal | None = None,
) -> tuple[PoseJamServer, str, int]:
    """Start a server with one room; return it, the room code and the bound port.

    With a ``journal``, the room's jam is recorded in it (the caller closes it).
    """
    lobby = Lobby()
    created = lobby.create(time.monotonic(), room, password, bpm)
    server = PoseJamServer(lobby, generator, journal=journal)
    bound = await server.start(host, port)
    logger.info("PoseJam server listening on ws://%s:%d room %s", host, bound, created.code)
    return server, created.code, bound


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve_until_stopped(
    host: str,
    port: int,
    room: str | None,
    password: str,
    bpm: float,
    generator: Generator | None = None,
    journal: Journal | None = None,
    advertise: bool = False,
) -> None:
    """Run until a SIGINT or SIGTERM arrives, then close every connection cleanly.

    With ``advertise``, the room is announced on the LAN (mDNS) so that
    ``posejam join CODE`` finds it; failing to announce only logs a warning.
    """
    stop = asyncio.Event()
    stop_on_signals(stop)
    server, code, bound = await open_server(host, port, room, password, bpm, generator, journal)
    advertiser = None
    if advertise:
        from server.discovery import RoomAdvertiser

        advertiser = RoomAdvertiser(code, bound, host, needs_password=bool(password))
        # In the background: claiming the name takes a second, players can join meanwhile.
        announcing = asyncio.create_task(advertiser.start())
    await stop.wait()
    logger.info("shutting down")
    if advertiser is not None:
        await announcing
        await advertiser.stop()
    await server.stop()


def open_journal(path: Path | None) -> Journal | None:
    """The journal at ``path`` (made if missing), or None for none.

    Raises ``JournalError`` with the reason and what to do when it cannot be used.
    """
    if path is None:
        return None
    try:
        journal = Journal.open(path)
    except JournalError as exc:
        raise JournalError(
            f"{exc} (choose another with --journal PATH, or --journal none)"
        ) from exc
    logger.info("recording jams in %s", path)
    return journal


def run(args: argparse.Namespace) -> int:
    if args.weights is not None and args.generator != "seeds" and not args.weights.exists():
        # Asked for by name: a typo must not quietly fall back to playing the seeds.
        logger.error("no drum model weights at %s", args.weights)
        return 1
    try:
        generator = make_generator(args.generator, args.weights, args.temperature)
    except ValueError as exc:
        logger.error("%s", exc)
        return 1
    try:
        journal = open_journal(args.journal)
    except JournalError as exc:
        logger.error("%s", exc)
        return 1
    advertise = args.advertise == "on" or (
        args.advertise == "auto" and args.host not in LOCAL_HOSTS
    )
    try:
        asyncio.run(
            serve_until_stopped(
                args.host,
                args.port,
                args.room,
                args.password,
                args.bpm,
                generator,
                journal,
                advertise,
            )
        )
    except OSError as exc:  # the port is taken, the address is not ours
        logger.error("cannot listen on %s:%d: %s", args.host, args.port, exc.strerror or exc)
        return 1
    finally:
        if journal is not None:
            journal.close()
        close_generator(generator)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return run(args)
