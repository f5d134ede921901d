"""Training: a few steps lower the loss; weights save, load weights-only, refuse junk; resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.model import ModelConfig
from models.train import TrainConfig, load_weights, train
from tests.models.groove_folder import make_groove_folder

SMALL = ModelConfig(hidden=32, layers=1, embed=8, dropout=0.0)
QUICK = TrainConfig(batch=8, length=32, lr=1e-2, eval_every=10, patience=100)


def test_a_few_steps_on_a_small_set_lower_the_validation_loss(tmp_path: Path) -> None:
    data = make_groove_folder(tmp_path / "gmd")
    out = tmp_path / "m.pt"
    result = train(
        data, out, seed=1, model_config=SMALL, config=QUICK, max_steps=40, progress=False
    )
    history = result["history"]
    assert [h["step"] for h in history] == [10, 20, 30, 40]
    # 9 bits is a uniform guess over 512 classes; a plain rock beat is learned fast.
    assert history[0]["valid_bits"] < 9.0
    assert history[-1]["valid_bits"] < history[0]["valid_bits"] - 1.0
    assert out.exists() and out.with_suffix(".png").exists()
    assert out.with_suffix(".pt.ckpt").exists()
    model, meta = load_weights(out)
    assert model.config == SMALL
    assert meta["valid_bits_per_step"] == pytest.approx(result["best_valid_bits"])
    assert "CC BY 4.0" in meta["dataset"]


def test_training_is_deterministic_for_a_seed_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    data = make_groove_folder(tmp_path / "gmd")
    straight = train(data, tmp_path / "a.pt", seed=3, model_config=SMALL, config=QUICK,
                     max_steps=20, progress=False)  # fmt: skip
    again = train(data, tmp_path / "b.pt", seed=3, model_config=SMALL, config=QUICK,
                  max_steps=20, progress=False)  # fmt: skip
    assert [h["valid_bits"] for h in straight["history"]] == [
        h["valid_bits"] for h in again["history"]
    ]
    train(data, tmp_path / "c.pt", seed=3, model_config=SMALL, config=QUICK, max_steps=10,
          progress=False)  # fmt: skip
    resumed = train(data, tmp_path / "c.pt", seed=3, model_config=SMALL, config=QUICK,
                    max_steps=20, resume=True, progress=False)  # fmt: skip
    assert [h["valid_bits"] for h in resumed["history"]] == pytest.approx(
        [h["valid_bits"] for h in straight["history"]], abs=1e-9
    )


def test_junk_weights_are_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"junk\.pt: not PoseJam drum model weights"):
        load_weights(junk)
    wrong = tmp_path / "wrong.pt"
    torch.save({"config": {"hidden": 8}, "state_dict": {}}, wrong)
    with pytest.raises(ValueError, match=r"wrong\.pt: not PoseJam drum model weights"):
        load_weights(wrong)
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path / "missing.pt")


def test_resuming_a_checkpoint_of_another_size_is_a_clear_error(tmp_path: Path) -> None:
    data = make_groove_folder(tmp_path / "gmd")
    out = tmp_path / "m.pt"
    train(data, out, seed=1, model_config=SMALL, config=QUICK, max_steps=10, progress=False)
    bigger = ModelConfig(hidden=48, layers=1, embed=8, dropout=0.0)
    with pytest.raises(ValueError, match=r"m\.pt\.ckpt: cannot resume from it"):
        train(data, out, seed=1, model_config=bigger, config=QUICK, max_steps=20, resume=True,
              progress=False)  # fmt: skip


def test_splice_turns_crops_to_other_sources_at_bar_lines_and_marks_the_turns() -> None:
    import numpy as np

    from models.train import splice

    # Source k is filled with k: each bar of a spliced crop tells where it came from.
    sources = np.stack([np.full((50, 128, 9), k, dtype=np.uint8) for k in range(4)])
    out, turns = splice(sources, 0.25, np.random.default_rng(0))
    assert out.shape == (50, 128, 9) and turns.shape == (50, 8)
    assert not turns[:, 0].any()  # never the first bar: there must be a before to turn from
    origin = out[:, ::16, 0]  # [50 crops, 8 bars]
    assert (origin[:, 0] == 0).all()
    for crop, bars, turned in zip(out, origin, turns, strict=True):
        for bar in range(8):  # a bar is one source throughout
            assert (crop[bar * 16 : (bar + 1) * 16] == bars[bar]).all()
        changed = np.concatenate([[False], bars[1:] != bars[:-1]])
        assert changed.tolist() == turned.tolist()  # a turn always lands elsewhere
    assert 0.15 < turns[:, 1:].mean() < 0.35  # 350 chances at 0.25
    still, none = splice(sources, 0.0, np.random.default_rng(0))
    assert (still == 0).all() and not none.any()
