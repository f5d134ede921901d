"""Corrupt MIDI files, weights and data folders: one clear line naming the file and what
is wrong with it, a non-zero exit, never a traceback -- and a pickle never runs.

``posejam model sample --primer``, ``--weights``, ``posejam model eval --weights``,
``posejam server --weights``, and training and evaluation data folders with broken
files in them (skipped and counted). The corrupt MIDI files here are shared with
``tests/client/test_corrupt_files.py`` (``posejam render``).
"""

from __future__ import annotations

import io
import logging
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from client.cli import main
from models.data import DataError, load_split
from models.encoding import steps_to_midi
from models.model import DrumLSTM, ModelConfig
from models.train import TrainConfig, load_weights, save_weights, train
from server.main import main as server_main
from tests.models.groove_folder import make_groove_folder, rock_bars

ROOT = Path(__file__).resolve().parents[2]
TINY = ModelConfig(hidden=32, layers=1, embed=8)


def vlq(n: int) -> bytes:
    """A MIDI variable-length quantity."""
    out = [n & 0x7F]
    while n := n >> 7:
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def _midi(division: int, delta: int) -> bytes:
    """One kick held for ``delta`` ticks, in a file of ``division`` ticks a beat."""
    track = b"\x00\x99\x24\x64" + vlq(delta) + b"\x89\x24\x00\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, division)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def good_midi() -> bytes:
    """Two bars of rock, written the way PoseJam writes drums."""
    buffer = io.BytesIO()
    steps_to_midi(rock_bars(2, np.random.default_rng(0)), 120.0).write(buffer)
    return buffer.getvalue()


# name -> (the file's bytes, or None for a folder; what a MIDI reader says is wrong)
CORRUPT_MIDI: dict[str, tuple[bytes | None, str]] = {
    "empty.mid": (b"", "the file is empty"),
    "cut.mid": (good_midi()[:112], "the file ends too soon (truncated?)"),
    "header.mid": (good_midi()[:14], "the file ends too soon (truncated?)"),
    "notes.mid": (
        b"Dear drummer, these are my notes.\n",
        "MThd not found. Probably not a MIDI file",
    ),
    "zero.mid": (_midi(0, 16), "its header gives a beat 0 ticks long"),
    "huge.mid": (
        _midi(1, 20_000_000),
        "MIDI file has a largest tick of 20000001, it is likely corrupt",
    ),
    "folder.mid": (None, "it is a folder"),
}
# The exception type load_file names for each, after "not a readable MIDI file (".
MIDI_ERROR_TYPES = {
    "empty.mid": "EOFError",
    "cut.mid": "EOFError",
    "header.mid": "EOFError",
    "notes.mid": "OSError",
    "zero.mid": "ZeroDivisionError",
    "huge.mid": "ValueError",
    "folder.mid": "IsADirectoryError",
}
# Within pretty_midi's tick limit, yet 2.5 million bars at a tick a beat: refused before
# its steps (gigabytes of them) are made.
LONG_MIDI = _midi(1, 9_999_999)
LONG_PROBLEM = "lasts 2500000 bars, more than 2048 (damaged?)"


def write_corrupt_midi(folder: Path, name: str) -> Path:
    data, _ = CORRUPT_MIDI[name]
    path = folder / name
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    return path


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out


# -- MIDI primers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.pt"
    save_weights(DrumLSTM(TINY), path, {})
    return path


@pytest.mark.parametrize("name", list(CORRUPT_MIDI))
def test_a_corrupt_primer_is_one_clear_error(
    tmp_path: Path,
    weights: Path,
    name: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    primer = write_corrupt_midi(tmp_path, name)
    out = tmp_path / "out.mid"
    argv = ["model", "sample", "--weights", str(weights), "--primer", str(primer)]
    assert main([*argv, "--out", str(out)]) == 1
    problem = f"{MIDI_ERROR_TYPES[name]}: {CORRUPT_MIDI[name][1]}"
    assert error_lines(caplog) == [
        f"cannot use primer: {primer}: not a readable MIDI file ({problem})"
    ]
    assert not out.exists()
    no_traceback(capsys)


def test_a_primer_hours_long_is_refused_before_it_is_read_into_steps(
    tmp_path: Path, weights: Path, caplog: pytest.LogCaptureFixture
) -> None:
    primer = tmp_path / "long.mid"
    primer.write_bytes(LONG_MIDI)
    out = tmp_path / "out.mid"
    argv = ["model", "sample", "--weights", str(weights), "--primer", str(primer)]
    assert main([*argv, "--out", str(out)]) == 1
    assert error_lines(caplog) == [f"cannot use primer: {primer}: {LONG_PROBLEM}"]


def test_a_missing_primer_names_the_file(
    tmp_path: Path, weights: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "missing.mid"
    argv = ["model", "sample", "--weights", str(weights), "--primer", str(missing)]
    assert main([*argv, "--out", str(tmp_path / "out.mid")]) == 1
    assert error_lines(caplog) == [
        f"cannot use primer: {missing}: not a readable MIDI file "
        "(FileNotFoundError: No such file or directory)"
    ]


# -- weights -------------------------------------------------------------------------


class Payload:
    """Unpickled, this would run code: it writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _state(config: ModelConfig) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return DrumLSTM(config).state_dict()


WeightsMaker = Callable[[Path, Path], Path]  # (folder, marker) -> the weights file


def _write(data: bytes) -> WeightsMaker:
    def make(folder: Path, marker: Path) -> Path:
        (folder / "w.pt").write_bytes(data)
        return folder / "w.pt"

    return make


def _saved(blob: Callable[[Path], object]) -> WeightsMaker:
    def make(folder: Path, marker: Path) -> Path:
        torch.save(blob(marker), folder / "w.pt")
        return folder / "w.pt"

    return make


def _truncated(folder: Path, marker: Path) -> Path:
    save_weights(DrumLSTM(TINY), folder / "whole.pt", {})
    data = (folder / "whole.pt").read_bytes()
    (folder / "w.pt").write_bytes(data[: len(data) // 2])
    return folder / "w.pt"


def _folder(folder: Path, marker: Path) -> Path:
    (folder / "w.pt").mkdir()
    return folder / "w.pt"


def _raw_pickle(folder: Path, marker: Path) -> Path:
    (folder / "w.pt").write_bytes(pickle.dumps(Payload(marker)))
    return folder / "w.pt"


NOT_WEIGHTS = "not PoseJam drum model weights"
# name -> (how to make the file, what is wrong with it)
CORRUPT_WEIGHTS: dict[str, tuple[WeightsMaker, str]] = {
    "empty": (_write(b""), "truncated, or not a PyTorch file"),
    "truncated": (_truncated, "truncated, or not a PyTorch file"),
    "text": (_write(b"these are not weights\n"), "damaged, or not a PyTorch file"),
    "random": (_write(bytes(range(256)) * 64), "damaged, or not a PyTorch file"),
    "folder": (_folder, "it is a folder"),
    "other tensors": (_saved(lambda m: {"foo": torch.zeros(3)}), "no 'config' in it"),
    "no state": (_saved(lambda m: {"config": {}}), "no 'state_dict' in it"),
    "another size": (
        _saved(
            lambda m: {
                "config": {"hidden": 16, "layers": 1, "embed": 8},
                "state_dict": _state(TINY),
            }
        ),
        "its tensors do not fit its config (size mismatch for lstm.weight_ih_l0)",
    ),
    "bad config": (
        _saved(lambda m: {"config": {"hidden": 32, "bogus": 1}, "state_dict": {}}),
        "TypeError: ModelConfig.__init__() got an unexpected keyword argument 'bogus'",
    ),
    "pickled code": (
        _saved(lambda m: {"config": {}, "state_dict": Payload(m)}),
        "refused: it holds pickled Python objects, not only tensors; none were loaded",
    ),
    "raw pickle": (_raw_pickle, "damaged, or not a PyTorch file"),
}
COMMANDS = {
    "sample": lambda w, tmp: ["model", "sample", "--weights", str(w), "--out", str(tmp / "o.mid")],
    "eval": lambda w, tmp: ["model", "eval", "--weights", str(w), "--data", str(tmp)],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", list(CORRUPT_WEIGHTS))
def test_corrupt_weights_are_one_clear_error_and_nothing_runs(
    tmp_path: Path,
    name: str,
    command: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, problem = CORRUPT_WEIGHTS[name]
    marker = tmp_path / "ran"
    path = make(tmp_path, marker)
    assert main(COMMANDS[command](path, tmp_path)) == 1
    assert error_lines(caplog) == [f"cannot load weights: {path}: {NOT_WEIGHTS} ({problem})"]
    assert not marker.exists()
    no_traceback(capsys)


@pytest.mark.parametrize("name", list(CORRUPT_WEIGHTS))
def test_a_server_given_corrupt_weights_says_so_and_does_not_start(
    tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    make, problem = CORRUPT_WEIGHTS[name]
    marker = tmp_path / "ran"
    path = make(tmp_path, marker)
    argv = ["--port", "0", "--journal", "none", "--weights", str(path)]
    assert server_main(argv) == 1
    assert error_lines(caplog) == [f"{path}: {NOT_WEIGHTS} ({problem})"]
    assert not marker.exists()


def test_missing_weights_asked_for_by_name_are_an_error_not_a_fallback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "typo.pt"
    assert server_main(["--port", "0", "--journal", "none", "--weights", str(missing)]) == 1
    assert error_lines(caplog) == [f"no drum model weights at {missing}"]
    argv = ["model", "sample", "--weights", str(missing), "--out", str(tmp_path / "o.mid")]
    assert main(argv) == 1
    assert error_lines(caplog)[-1] == f"cannot load weights: no file at {missing}"


def test_the_payload_is_live_so_its_not_running_means_something(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = CORRUPT_WEIGHTS["pickled code"][0](tmp_path, marker)
    torch.load(path, weights_only=False)  # what a careless loader would do
    assert marker.exists()
    marker.unlink()
    with pytest.raises(ValueError, match="refused: it holds pickled Python objects"):
        load_weights(path)
    assert not marker.exists()
    pickle.loads(_raw_pickle(tmp_path, marker).read_bytes())
    assert marker.exists()


def _stderr_of(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_on_the_real_stderr_it_is_one_line(tmp_path: Path) -> None:
    """Not only the log records: nothing else reaches stderr (torch warns about pickle
    protocols on stderr when it meets one; it must not get to)."""
    marker = tmp_path / "ran"
    evil = CORRUPT_WEIGHTS["pickled code"][0](tmp_path, marker)
    done = _stderr_of("-m", "client", "model", "sample", "--weights", str(evil),
                      "--out", str(tmp_path / "o.mid"))  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].endswith(
        f"models.cli ERROR cannot load weights: {evil}: {NOT_WEIGHTS} "
        "(refused: it holds pickled Python objects, not only tensors; none were loaded)"
    )
    raw = _raw_pickle(tmp_path, marker)
    done = _stderr_of("-m", "server", "--port", "0", "--journal", "none", "--weights", str(raw))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith(
        f"server.main ERROR {raw}: {NOT_WEIGHTS} (damaged, or not a PyTorch file)"
    )
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr
    assert not marker.exists()


# -- data folders ----------------------------------------------------------------------


def test_corrupt_files_in_a_data_folder_are_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "drums"
    folder.mkdir()
    steps_to_midi(rock_bars(4, np.random.default_rng(0)), 120.0).write(str(folder / "a.mid"))
    steps_to_midi(rock_bars(2, np.random.default_rng(1)), 120.0).write(str(folder / "b.mid"))
    for name in CORRUPT_MIDI:
        if CORRUPT_MIDI[name][0] is not None:  # a folder named .mid is looked into
            write_corrupt_midi(folder, name)
    (folder / "long.mid").write_bytes(LONG_MIDI)
    split = load_split(folder, "test")  # without info.csv: every .mid, GM pitches
    assert split.files == [str(folder / "a.mid"), str(folder / "b.mid")]
    assert split.bars == 6
    assert split.skipped == {"unreadable": len(CORRUPT_MIDI) - 1 + 1}
    warned = {r.getMessage() for r in caplog.records if r.levelno == logging.WARNING}
    assert f"{folder / 'long.mid'}: {LONG_PROBLEM}" in warned
    assert f"{folder / 'empty.mid'}: not a readable MIDI file (EOFError: the file is empty)" in (
        warned
    )


def test_training_goes_on_past_corrupt_files_and_counts_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = make_groove_folder(tmp_path / "gmd", train=2, validation=2, bars=4)
    with (data / "info.csv").open("a", newline="") as f:
        for name in ("empty.mid", "cut.mid", "notes.mid"):
            write_corrupt_midi(data, name)
            f.write(f"drummer1,drummer1/session1,x,rock,120,beat,4-4,{name},,1.0,train\n")
    small = ModelConfig(hidden=16, layers=1, embed=8, dropout=0.0)
    quick = TrainConfig(batch=4, length=32, eval_every=5, patience=100)
    caplog.set_level(logging.INFO)
    train(data, tmp_path / "m.pt", seed=1, model_config=small, config=quick, max_steps=5,
          progress=False)  # fmt: skip
    _, meta = load_weights(tmp_path / "m.pt")
    assert meta["train_files"] == 2
    summaries = [r.getMessage() for r in caplog.records if "'split': 'train'" in r.getMessage()]
    assert summaries == [
        str({"split": "train", "files": 2, "bars": 8, "steps": 128, "skipped": {"unreadable": 3}})
    ]


def test_eval_goes_on_past_corrupt_files(
    tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = make_groove_folder(tmp_path / "gmd", train=2, validation=2, bars=4)
    with (data / "info.csv").open("a", newline="") as f:
        for name in ("cut.mid", "zero.mid"):
            write_corrupt_midi(data, name)
            f.write(f"drummer1,drummer1/session1,x,rock,120,beat,4-4,{name},,1.0,validation\n")
    argv = ["model", "eval", "--weights", str(weights), "--data", str(data)]
    assert main([*argv, "--train-data", str(data), "--settings", "8", "--json"]) == 0
    assert '"files": 2' in capsys.readouterr().out.splitlines()[-1]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe\x00binary\x00", "not a readable info.csv ('utf-8' codec can't decode byte"),
        (b"split,id\ntrain,1\n", "a train row has no midi_filename"),
        (b"", "not a readable info.csv (Is a directory)"),  # a folder
    ],
)
def test_a_corrupt_info_csv_is_a_clear_error(tmp_path: Path, content: bytes, problem: str) -> None:
    if content:
        (tmp_path / "info.csv").write_bytes(content)
    else:
        (tmp_path / "info.csv").mkdir()
    with pytest.raises(DataError) as caught:
        load_split(tmp_path, "train")
    assert str(caught.value).startswith(f"{tmp_path / 'info.csv'}: {problem}")
    assert "\n" not in str(caught.value)


def test_resuming_from_a_corrupt_checkpoint_is_one_clear_line(tmp_path: Path) -> None:
    data = make_groove_folder(tmp_path / "gmd", train=2, validation=2, bars=4)
    out = tmp_path / "m.pt"
    (tmp_path / "m.pt.ckpt").write_bytes(b"PK\x03\x04 half a zip")
    small = ModelConfig(hidden=16, layers=1, embed=8, dropout=0.0)
    with pytest.raises(ValueError) as caught:
        train(data, out, seed=1, model_config=small, max_steps=5, resume=True, progress=False)
    assert str(caught.value) == (
        f"{out}.ckpt: cannot resume from it (another model size, or not a checkpoint): "
        "truncated, or not a PyTorch file"
    )
