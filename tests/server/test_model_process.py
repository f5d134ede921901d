"""The drum model in a child process: the same layers as in the server's own, clear
reasons when it cannot load, a new child after one dies, and none left behind."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import pytest

from bench.load import family
from server.generator import GenerationRequest
from server.model_generator import ModelGenerator
from server.model_process import (
    CHILD_NICE,
    ChildGenerator,
    ModelProcessError,
    read_frame,
    request_from_wire,
    request_to_wire,
    write_frame,
)
from shared.drums import DRUM_COUNT, LAYER_STEPS
from shared.messages import Seed, SeedSource
from tests.loopback import server_process

GRID = (1, 0, 4, 0, 2, 0, 4, 0, 1, 0, 4, 0, 2, 0, 4, 0)
PREVIOUS = tuple((i % 2 * 100,) + (0,) * (DRUM_COUNT - 1) for i in range(LAYER_STEPS))
REQUESTS = [
    GenerationRequest(1, Seed(SeedSource.GRID, grid=GRID), None),
    GenerationRequest(2, Seed(SeedSource.DICE, dice=9, density=0.7), None),
    GenerationRequest(3, None, PREVIOUS, (0.3, 0.2, 0.0, 0.7)),
    GenerationRequest(4, None, None),
]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone too: only its parent's wait is missing.
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


def test_requests_cross_the_pipe_unchanged() -> None:
    stream = io.BytesIO()
    write_frame(stream, [request_to_wire(r) for r in REQUESTS])
    write_frame(stream, {"ready": True})
    stream.seek(0)
    assert [request_from_wire(w) for w in read_frame(stream)] == REQUESTS
    assert read_frame(stream) == {"ready": True}
    with pytest.raises(EOFError):
        read_frame(stream)
    stream = io.BytesIO(b"\x00\x00\x00\x09short")  # cut inside a frame
    with pytest.raises(EOFError):
        read_frame(stream)


def test_the_child_writes_what_the_server_itself_would_niced(weights: Path) -> None:
    child = ChildGenerator(weights)
    try:
        assert child.pid is not None
        assert (
            os.getpriority(os.PRIO_PROCESS, child.pid)
            == os.getpriority(os.PRIO_PROCESS, 0) + CHILD_NICE
        )
        # Both warmed with one call, then seeded alike: the same layers, call after call.
        here = ModelGenerator(weights)
        for _ in range(2):
            assert child.generate(REQUESTS) == here.generate(REQUESTS)
        assert child.generate([]) == []
    finally:
        child.close()


def test_weights_it_cannot_load_give_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^no drum model weights at .*none\.pt$"):
        ChildGenerator(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"junk\.pt: not PoseJam drum model weights"):
        ChildGenerator(junk)


def test_a_child_that_dies_fails_one_call_and_the_next_gets_a_new_one(weights: Path) -> None:
    child = ChildGenerator(weights)
    try:
        first = child.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        ended = r"^the drum model's process ended \(exit -9\)$"
        with pytest.raises(ModelProcessError, match=ended):
            child.generate(REQUESTS)
        assert not alive(first)
        patterns = child.generate(REQUESTS)
        assert child.pid not in (None, first)
        assert [len(p) for p in patterns] == [LAYER_STEPS] * 4
    finally:
        child.close()


def test_closing_ends_the_child_and_a_parent_gone_takes_it_too(weights: Path) -> None:
    child = ChildGenerator(weights)
    pid = child.pid
    assert pid is not None
    child.close()
    assert not alive(pid)
    child.close()  # twice is harmless
    # The server killed: all the child sees is the end of its stdin.
    orphan = ChildGenerator(weights)
    assert orphan._child is not None and orphan._child.stdin is not None
    pid = orphan._child.pid
    orphan._child.stdin.close()
    deadline = time.monotonic() + 10
    while orphan._child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert orphan._child.returncode == 0
    orphan.close()
    assert not alive(pid)


def test_a_server_killed_with_sigkill_leaves_no_model_process(weights: Path) -> None:
    args = ("--generator", "model", "--weights", str(weights), "--journal", "none")
    with server_process(*args) as (proc, _):
        _, model = family(proc.pid)  # the server, its one child
        assert alive(model)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while alive(model) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(model)
