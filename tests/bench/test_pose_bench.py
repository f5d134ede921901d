"""The pose benchmark tracks a real person's video with both shipped models and prints
its figures as the last line."""

from __future__ import annotations

from tests.bench.run import last_json


def test_bench_pose_prints_every_figure_as_one_json_line() -> None:
    result = last_json("bench.pose", "--frames", "12", "--warmup", "2", timeout=300)
    for model in ("lite", "full"):  # both are shipped
        assert result[f"{model}_fps"] > 0
        assert 0 < result[f"{model}_p50_ms"] <= result[f"{model}_p99_ms"]
        assert result[f"{model}_found"] == 1.0  # the astronaut is found in every frame
