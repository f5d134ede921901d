"""The drum model in a process of its own, at a lower priority than the server.

The writer is numpy on small arrays: about 9 ms of a core for a room of 8 players,
most of it holding the interpreter lock. Run in a thread of the server, it made the
event loop wait for the lock at every bar, and with four rooms writing at once the
poses of that moment reached their screens 20 to 40 ms late. In a child process it
takes no lock of the server's; and since a layer is written a beat before it is due
(``server.room.GENERATE_AHEAD_BEATS``) while a pose is late after a few ms, the
child runs niced (:data:`CHILD_NICE`): on a busy machine it waits, the poses don't.

Parent and child talk over the child's stdin and stdout in length-prefixed msgpack
frames (no pickle; the child prints nothing else there). The child's first frame says
it is loaded and warm, or why it cannot be (``ValueError`` in the parent, as
``make_generator`` raises). A child that dies (the OOM killer, say) fails that bar's
call; the next call starts another. When the server goes, even killed, the child
reads the end of its stdin and exits.

``python -m server.model_process --weights PATH`` is the child.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import struct
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import msgpack

from server.generator import GenerationRequest
from shared.codec import ProtocolError, decode, encode
from shared.drums import Pattern
from shared.messages import Seed

logger = logging.getLogger(__name__)

# Niceness of the model's process: below the server (and a camera client on the
# same machine), which need their few ms now; the model has a beat.
CHILD_NICE = 10
# Loading torch and the weights, and the warm-up call, on a slow machine.
START_TIMEOUT = 120.0
_LENGTH = struct.Struct(">I")


class ModelProcessError(RuntimeError):
    """The model's process failed a call, or ended."""


# -- frames --------------------------------------------------------------------


def write_frame(stream: IO[bytes], value: Any) -> None:
    data = msgpack.packb(value, use_bin_type=True)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame's value; EOFError at the end of the stream (or inside a frame)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (length,) = _LENGTH.unpack(head)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError
    return msgpack.unpackb(data, raw=False, use_list=True)


def request_to_wire(request: GenerationRequest) -> list[Any]:
    return [
        request.owner,
        encode(request.seed) if request.seed is not None else None,
        request.previous,
        request.controls,
    ]


def request_from_wire(wire: list[Any]) -> GenerationRequest:
    owner, seed_bytes, previous, controls = wire
    seed = decode(seed_bytes) if seed_bytes is not None else None
    if seed is not None and not isinstance(seed, Seed):
        raise ProtocolError(f"expected a seed, got {type(seed).__name__}")
    return GenerationRequest(
        owner,
        seed,
        tuple(tuple(step) for step in previous) if previous is not None else None,
        tuple(controls) if controls is not None else None,
    )


def pattern_from_wire(wire: list[list[int]]) -> Pattern:
    return tuple(tuple(step) for step in wire)


# -- the parent's side ---------------------------------------------------------------


class ChildGenerator:
    """A :class:`~server.generator.Generator` whose drum model runs in a child process.

    Loaded and warm when constructed (``ValueError`` with the reason if it cannot be);
    :meth:`generate` blocks its caller (the server calls it from a worker thread) until
    the child answers; :meth:`close` ends the child.
    """

    def __init__(self, weights: Path, temperature: float = 1.0, nice: int = CHILD_NICE) -> None:
        self.command = [
            sys.executable,
            *("-m", "server.model_process", "--weights", str(weights)),
            *("--temperature", repr(temperature), "--nice", str(nice)),
        ]
        self._lock = threading.Lock()  # one call at a time on the pipe
        self._child: subprocess.Popen[bytes] | None = None
        # Whoever forgets close(): the child still ends with this object, or at exit.
        self._ender: weakref.finalize[Any, ChildGenerator] | None = None
        self._adopt(self._start())

    def _adopt(self, child: subprocess.Popen[bytes]) -> None:
        if self._ender is not None:
            self._ender()  # the one before: its pipes closed, itself waited for
        self._child = child
        self._ender = weakref.finalize(self, _end, child)

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def _start(self) -> subprocess.Popen[bytes]:
        # stderr is the server's: the child's log lines go where the server's go.
        child = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert child.stdout is not None
        timer = threading.Timer(START_TIMEOUT, child.kill)
        timer.start()
        try:
            hello = read_frame(child.stdout)
        except EOFError:
            hello = {"error": f"the drum model's process ended on start (exit {child.wait()})"}
        finally:
            timer.cancel()
        if "error" in hello:
            _end(child)
            raise ValueError(hello["error"])
        return child

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Pattern]:
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                self._adopt(self._start())  # the last one died: a new one for this bar
            child = self._child
            assert child is not None and child.stdin is not None and child.stdout is not None
            try:
                write_frame(child.stdin, [request_to_wire(r) for r in requests])
                answer = read_frame(child.stdout)
            except (EOFError, BrokenPipeError) as exc:
                code = child.wait()
                self._child = None
                raise ModelProcessError(f"the drum model's process ended (exit {code})") from exc
            if "error" in answer:
                raise ModelProcessError(answer["error"])
            return [pattern_from_wire(p) for p in answer["patterns"]]

    def close(self) -> None:
        with self._lock:
            if self._ender is not None:
                self._ender()
            self._child = None


def _end(child: subprocess.Popen[bytes]) -> None:
    """Close its stdin (it exits at the end of it), then wait a while, then kill it."""
    for stream in (child.stdin, child.stdout):
        if stream is not None:
            stream.close()
    try:
        child.wait(5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


# -- the child's side ------------------------------------------------------------


def serve(weights: Path, temperature: float, source: IO[bytes], sink: IO[bytes]) -> int:
    """Load the model, say so (or why not), then answer calls until the input ends."""
    from server.model_generator import ModelGenerator

    try:
        generator = ModelGenerator(weights, temperature)
    except FileNotFoundError:
        write_frame(sink, {"error": f"no drum model weights at {weights}"})
        return 1
    except ValueError as exc:  # not weights of ours: the loader says why
        write_frame(sink, {"error": str(exc)})
        return 1
    except Exception as exc:
        logger.exception("cannot load the drum model")
        write_frame(sink, {"error": f"cannot load {weights}: {type(exc).__name__}: {exc}"})
        return 1
    write_frame(sink, {"ready": True})
    while True:
        try:
            wire = read_frame(source)
        except EOFError:
            return 0  # the server closed it, or is gone
        try:
            requests = [request_from_wire(w) for w in wire]
            patterns = generator.generate(requests)
        except Exception as exc:  # the server logs it; the next bar may do better
            logger.exception("drum model call failed")
            write_frame(sink, {"error": f"{type(exc).__name__}: {exc}"})
            continue
        write_frame(sink, {"patterns": [list(map(list, p)) for p in patterns]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server.model_process",
        description="The drum model's process, started by the server: length-prefixed "
        "msgpack calls on stdin, answers on stdout.",
    )
    parser.add_argument("--weights", type=Path, required=True, help="the model's weights file")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    parser.add_argument("--nice", type=int, default=CHILD_NICE, help="niceness to add")
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group: the server decides when this ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(args.nice)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sink = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries frames only
    return serve(args.weights, args.temperature, sys.stdin.buffer, sink)


if __name__ == "__main__":
    sys.exit(main())
