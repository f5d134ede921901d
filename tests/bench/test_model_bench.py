"""The model benchmark runs on given weights and prints its figures as the last line."""

from __future__ import annotations

from pathlib import Path

import torch

from models.model import DrumLSTM, ModelConfig
from models.train import save_weights
from tests.bench.run import last_json

KEYS = {"players_1_ms", "players_8_ms", "players_32_ms", "one_by_one_8_ms", "batched_speedup_8"}


def test_bench_model_prints_every_figure_as_one_json_line(tmp_path: Path) -> None:
    torch.manual_seed(0)
    weights = tmp_path / "tiny.pt"
    save_weights(DrumLSTM(ModelConfig(hidden=16, layers=2, embed=8)), weights, {})
    result = last_json("bench.model", "--repeats", "2", "--weights", str(weights))
    assert set(result) == KEYS
    assert all(value > 0 for value in result.values())
    expected = result["one_by_one_8_ms"] / result["players_8_ms"]
    assert abs(result["batched_speedup_8"] - expected) <= 0.01 * expected + 0.01
