"""posejam model sample and eval: real files out, all the figures in, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pretty_midi
import pytest
import torch

from client.cli import main
from models.encoding import GM_LOOKUP, midi_to_steps
from models.model import DrumLSTM, ModelConfig
from models.train import save_weights
from tests.models.groove_folder import make_groove_folder

EVAL_KEYS = {
    "bits_per_step",
    "ngram_bits_per_step",
    "accuracy",
    "density_spearman",
    "syncopation_spearman",
    "density_overlap",
    "syncopation_overlap",
}


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.pt"
    save_weights(DrumLSTM(ModelConfig(hidden=32, layers=1, embed=8)), path, {})
    return path


@pytest.mark.parametrize("primer", ["dice", "grid"])
def test_sample_writes_the_asked_bars_as_general_midi(
    tmp_path: Path, weights: Path, primer: str
) -> None:
    out = tmp_path / "out.mid"
    argv = ["model", "sample", "--weights", str(weights), "--density", "0.3", "--bars", "4"]
    assert main([*argv, "--primer", primer, "--temperature", "0.9", "--out", str(out)]) == 0
    midi = pretty_midi.PrettyMIDI(str(out))
    assert midi.instruments[0].is_drum
    steps = midi_to_steps(midi, GM_LOOKUP)
    assert len(steps) <= 4 * 16  # 4 bars, whatever of the last one sounds


def test_sample_primed_by_a_midi_file(tmp_path: Path, weights: Path) -> None:
    folder = make_groove_folder(tmp_path / "gmd", train=1, validation=0)
    primer = next(folder.rglob("*.mid"))
    out = tmp_path / "out.mid"
    argv = ["model", "sample", "--weights", str(weights), "--primer", str(primer)]
    assert main([*argv, "--out", str(out)]) == 0
    assert out.exists()


def test_eval_json_gives_every_figure_on_its_last_line(
    tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_groove_folder(tmp_path / "gmd", train=3, validation=2)
    argv = ["model", "eval", "--weights", str(weights), "--data", str(folder)]
    assert main([*argv, "--train-data", str(folder), "--settings", "24", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) >= EVAL_KEYS
    assert result["settings"] == 24
    assert result["files"] == 2  # no test rows: the validation split
    # A repeated rock beat is all the n-gram needs to see: it predicts it almost surely.
    assert result["bits_per_step"] > 0 and result["ngram_bits_per_step"] >= 0
    for key in ("density_overlap", "syncopation_overlap", "accuracy"):
        assert 0.0 <= result[key] <= 1.0


def test_missing_or_junk_weights_and_bad_options_are_clear(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.mid")
    assert main(["model", "sample", "--weights", str(tmp_path / "no.pt"), "--out", out]) == 1
    assert "cannot load weights" in caplog.text
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    assert main(["model", "eval", "--weights", str(junk)]) == 1
    assert "junk.pt: not PoseJam drum model weights" in caplog.text
    with pytest.raises(SystemExit) as done:
        main(["model", "sample", "--density", "1.5", "--out", out])
    assert done.value.code == 2
    assert "must be in range 0..1, got 1.5" in capsys.readouterr().err
