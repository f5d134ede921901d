"""``posejam render``: a drum MIDI file into a WAV file, and clear errors for bad files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from client import render_cli
from client.kit import read_wav
from tests.client.test_audio_engine import onsets

SR = 44100
MS = SR // 1000


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="posejam render")
    render_cli.add_arguments(parser)
    args = parser.parse_args(list(argv))
    code: int = args.run(args)
    return code


def drum_midi(path: Path, bars: int = 1, bpm: float = 120.0, extras: bool = True) -> list[float]:
    """A drum file: kick, snare and closed hat in eighths; the times of its known notes."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    eighth = 30.0 / bpm
    times = []
    for i in range(8 * bars):
        t = 0.1 + i * eighth
        times.append(t)
        drums.notes.append(pretty_midi.Note(80 if i % 2 else 100, 42, t, t + 0.05))
        if i % 4 == 0:
            drums.notes.append(pretty_midi.Note(115, 36, t, t + 0.1))
        if i % 4 == 2:
            drums.notes.append(pretty_midi.Note(105, 38, t, t + 0.1))
    if extras:
        drums.notes.append(pretty_midi.Note(90, 20, 0.3, 0.4))  # no drum on pitch 20
        drums.notes.append(pretty_midi.Note(90, 20, 0.6, 0.7))
        piano = pretty_midi.Instrument(program=0)
        piano.notes.append(pretty_midi.Note(90, 60, 0.0, 1.0))
        midi.instruments.append(piano)
    midi.instruments.append(drums)
    midi.write(str(path))
    return times


def test_a_drum_file_renders_on_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    times = drum_midi(tmp_path / "beat.mid")
    assert run(str(tmp_path / "beat.mid"), "--out", str(tmp_path / "beat.wav")) == 0
    out, sr = read_wav(tmp_path / "beat.wav")
    assert sr == SR and out.shape[1] == 2
    # Until the last hit (a hat) has rung out, room and all.
    assert out.shape[0] / SR == pytest.approx(times[-1] + 0.7, abs=0.02)
    found = onsets(out, SR)
    expected = np.round(np.array(times) * SR).astype(np.int64)
    assert len(found) == len(expected)
    assert np.abs(found - expected).max() <= MS
    assert -30.0 < 20 * np.log10(np.sqrt(np.mean(out**2))) < -12.0
    captured = capsys.readouterr()
    assert f"wrote {tmp_path / 'beat.wav'}: " in captured.out
    assert "12 hits" in captured.out  # 8 hats, 2 kicks, 2 snares
    assert "skipped 2 drum notes on pitches the kit has no drum for: 20 (x2)" in captured.out
    assert "skipped 1 notes on instruments that are not drums" in captured.out
    assert captured.err == ""  # short: no progress bar
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".wav"] == ["beat.wav"]


def test_a_long_file_shows_its_progress_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    drum_midi(tmp_path / "long.mid", bars=11, extras=False)  # 22 s
    assert run(str(tmp_path / "long.mid"), "--out", str(tmp_path / "long.wav")) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no bar redrawn into a log
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert run(str(tmp_path / "long.mid"), "--out", str(tmp_path / "long.wav")) == 0
    err = capsys.readouterr().err
    assert err.startswith("\rrendering long.mid [") and err.endswith("] 100%\n")
    assert err.count("\r") > 10


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.mid", "no MIDI file at {d}/missing.mid"),
        (lambda d: d, "no MIDI file at {d}"),
        (
            lambda d: write_bytes(d / "noise.mid", bytes(range(256)) * 4),
            "cannot read {d}/noise.mid: not a MIDI file (MThd not found",
        ),
        (
            lambda d: write_bytes(
                d / "cut.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00"
            ),
            "cannot read {d}/cut.mid: not a MIDI file",
        ),
    ],
)
def test_a_missing_or_broken_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, message: str
) -> None:
    midi = make(tmp_path)  # type: ignore[operator]
    assert run(str(midi), "--out", str(tmp_path / "x.wav")) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("posejam render: " + message.format(d=tmp_path))
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "x.wav").exists()


def test_a_file_without_drums_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = pretty_midi.PrettyMIDI()
    empty.write(str(tmp_path / "empty.mid"))
    assert run(str(tmp_path / "empty.mid"), "--out", str(tmp_path / "x.wav")) == 2
    assert f"posejam render: {tmp_path / 'empty.mid'} has no notes" in capsys.readouterr().err

    piano = pretty_midi.PrettyMIDI()
    piano.instruments.append(pretty_midi.Instrument(program=0))
    piano.instruments[0].notes.append(pretty_midi.Note(90, 60, 0.0, 1.0))
    piano.write(str(tmp_path / "piano.mid"))
    assert run(str(tmp_path / "piano.mid"), "--out", str(tmp_path / "x.wav")) == 2
    assert "has no drum track, only 1 other notes" in capsys.readouterr().err


def test_an_unwritable_output_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drum_midi(tmp_path / "beat.mid")
    (tmp_path / "file").write_text("not a folder")
    for out, reason in (
        (tmp_path / "file" / "beat.wav", "Not a directory"),
        (tmp_path / "no" / "such" / "beat.wav", "No such file or directory"),
        (tmp_path, "Is a directory"),
    ):
        assert run(str(tmp_path / "beat.mid"), "--out", str(out)) == 2
        err = capsys.readouterr().err
        assert err == f"posejam render: cannot write {out}: {reason}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beat.mid", "file"]  # nothing left over


def test_help_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        render_cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "General MIDI drum pitches" in text and "--out FILE.wav" in text
