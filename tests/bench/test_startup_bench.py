"""The startup benchmark launches posejam solo and times it to its first sound."""

from __future__ import annotations

from tests.bench.run import last_json


def test_bench_startup_times_a_launch_to_its_first_sound() -> None:
    result = last_json("bench.startup", "--runs", "1", timeout=120)
    [run] = result["runs"]
    assert result["first_sound_s"] == run
    assert 0.5 < run < 30.0  # a fresh Python, the model, the server, the first bar
