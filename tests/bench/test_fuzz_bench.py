"""The live fuzz runs, the server survives it, and the bots come out of it intact.

No latency thresholds here: ``python -m bench.fuzz`` reports them; this machine's load
is not the test's to judge. Below it, a server bug the fuzz found, as a test that fails
until the server is fixed.
"""

from __future__ import annotations

import asyncio
import math
import time

from bench.fuzz import EXPECTED_CLOSE_CODES, Pacer, percentiles, refused
from bench.fuzz_frames import FrameFuzzer, Fuzzed
from shared.codec import MAX_FRAME_BYTES, encode
from shared.messages import (
    CloseCode,
    Leave,
    Ping,
)
from tests.bench.run import last_json

FRAMES = 2000


def test_bench_fuzz_leaves_the_server_up_and_the_bots_intact() -> None:
    result = last_json("bench.fuzz", "--frames", str(FRAMES), "--baseline", "3", timeout=120)
    assert result["frames"] == FRAMES  # every frame of the budget was sent, no more
    assert result["server_alive"] is True
    assert result["server_tracebacks"] == 0
    assert result["server_bad_lines"] == []
    assert result["bots_intact"] is True, result["bot_problems"]
    assert result["bot_ids"] == [1, 2, 3, 4]
    assert result["bot_layers"] > 0  # the bots' layers were there to be checked
    codes = {int(code) for code in result["close_codes"]}
    assert codes <= EXPECTED_CLOSE_CODES, codes - EXPECTED_CLOSE_CODES
    # The fuzz reached the checks that matter: malformed frames, a first message that
    # is no hello, huge frames, the flooder; and rule errors that kept connections.
    for code in (CloseCode.MALFORMED, CloseCode.HELLO_FIRST, CloseCode.TOO_BIG, CloseCode.POLICY):
        assert result["close_codes"].get(str(int(code)), 0) > 0, code
    assert result["errors_sent"] > 0
    assert result["connections"] == sum(result["close_codes"].values())
    assert sum(result["sent_by_how"].values()) == FRAMES
    assert result["baseline_samples"] > 0 and result["fuzz_samples"] > 0
    assert 0 < result["baseline_p50_ms"] <= result["baseline_p99_ms"]
    assert 0 < result["fuzz_p50_ms"] <= result["fuzz_p99_ms"]


def test_what_the_server_closes_on_is_predicted_from_the_frame() -> None:
    assert refused(Fuzzed("hello", "text"))
    assert refused(Fuzzed(bytes(MAX_FRAME_BYTES + 1), "huge"))
    assert refused(Fuzzed(b"\xc1", "garbage"))
    assert refused(Fuzzed(encode(Leave()), "valid"))
    assert not refused(Fuzzed(encode(Ping(1, 0.0)), "valid"))
    fuzzer = FrameFuzzer(3)
    for how in ("valid", "forbidden"):  # what a session sends and stays
        assert not any(refused(fuzzer.frame(how)) for _ in range(200))


def test_percentiles_in_milliseconds() -> None:
    assert percentiles([0.001 * i for i in range(1, 101)]) == (50.5, 100.0)
    assert all(math.isnan(p) for p in percentiles([]))  # no samples


def test_the_pacer_holds_frames_to_its_rate() -> None:
    async def scenario() -> float:
        pacer = Pacer(200.0)
        start = time.monotonic()
        for _ in range(41):
            await pacer.wait()
        return time.monotonic() - start

    assert 0.19 <= asyncio.run(scenario()) < 0.5  # 40 gaps of 5 ms
