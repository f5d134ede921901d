"""Fixtures of the server's tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.model import DrumLSTM, ModelConfig
from models.train import save_weights


@pytest.fixture(scope="session")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Weights of a tiny untrained drum model: a real file the real loader takes."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.pt"
    save_weights(DrumLSTM(ModelConfig(hidden=32, layers=2, embed=8)), path, {"note": "untrained"})
    return path
