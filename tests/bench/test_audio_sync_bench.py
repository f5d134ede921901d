"""The audio sync benchmark plays two real clients through the jitter relay, renders
both, and prints the skew of their onsets as the last line."""

from __future__ import annotations

from tests.bench.run import last_json


def test_bench_audio_sync_prints_its_figures_as_the_last_line() -> None:
    result = last_json("bench.audio_sync", "--warmup", "3", "--bars", "2", timeout=120)
    assert (result["bars"], result["warmup_s"]) == (2, 3.0)
    # Both clients rendered the same two layers: their kicks and snares pair up, and the
    # skew is a few milliseconds at most even after only 3 s of clock sync.
    assert result["onsets"] >= 6
    assert 0 <= result["p50_ms"] <= result["p99_ms"] <= result["max_ms"] < 10.0
    for client in ("dice", "grid"):
        assert result["grid_error"][client]["samples"] >= 6
        assert result["grid_error"][client]["max_ms"] < 10.0
