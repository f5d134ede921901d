"""Solo practice end to end: the in-process server, the AI band, the demo dancer, the
scheduler and an offline engine on this machine's clock."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from PIL import Image

from bench.onsets import onsets
from client.game import quantize
from client.kit import read_wav
from client.solo import SoloConfig, play_headless

BPM = 180.0  # a step is 1/12 s: two bars take 2.7 s
STEP = 60.0 / BPM / 4


def test_a_short_headless_jam_plays_the_band_and_the_player_on_the_grid(tmp_path: Path) -> None:
    config = SoloConfig(bpm=BPM, band=2, seed=4, journal=tmp_path / "jams.sqlite")
    result = asyncio.run(play_headless(config, 2, tmp_path))
    assert result.wav == tmp_path / "jam.wav"
    assert result.midi == tmp_path / "jam.mid"
    midi = pretty_midi.PrettyMIDI(str(result.midi))
    assert sorted(i.name for i in midi.instruments) == ["AI Hats", "AI Kit", "You"]
    assert all(i.is_drum and i.notes for i in midi.instruments)
    assert midi.get_end_time() == pytest.approx(2 * 4 * 60 / BPM, abs=1e-4)  # MIDI ticks
    assert sorted(result.players.values()) == ["AI Hats", "AI Kit", "You"]
    assert result.layers >= 3  # each of the three has a layer
    assert result.hits > 20
    assert -30.0 < result.peak_dbfs <= -0.4  # loud, never clipping
    samples, rate = read_wav(result.wav)
    assert not np.isnan(samples).any()
    found = onsets(samples, rate) / rate
    assert len(found) >= 3  # kicks and snares through the mix's tails
    # Every onset sits on the room's 16th-note grid (bar 0 began when the server did,
    # this process's own clock): the distance between any two is whole steps.
    steps = np.diff(found) / STEP
    assert np.abs(steps - np.round(steps)).max() < 0.01  # 0.8 ms at this tempo


def test_quantized_landmarks_are_the_wires_format() -> None:
    landmarks = np.zeros((33, 4))
    landmarks[0] = (0.5, 1.2, -0.3, 0.25)
    landmarks[1] = (np.nan, -0.1, 0.0, 1.0)
    wire = quantize(landmarks)
    assert len(wire) == 99
    assert wire[:6] == (32768, 65535, 16384, 0, 0, 65535)  # clamped to the frame, NaN as 0


@pytest.mark.parametrize("band", [0, 4])
def test_a_band_of_the_wrong_size_is_refused(band: int) -> None:
    with pytest.raises(ValueError, match=r"an AI band has 1\.\.3 members"):
        SoloConfig(band=band)


def test_posejam_solo_headless_writes_the_jam_and_its_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from client.cli import main

    out = tmp_path / "jam"
    assert main(["solo", "--headless", "--bars", "1", "--bpm", "180", "--out", str(out)]) == 0
    summary = json.loads((out / "jam.json").read_text())
    assert summary["bars"] == 1 and summary["hits"] > 5
    assert summary["challenges"] == []  # a one-bar jam has no room for a 4-bar challenge
    assert summary["wav"] == str(out / "jam.wav") and (out / "jam.wav").stat().st_size > 1000
    assert summary["midi"] == str(out / "jam.mid")  # the default journal (a temp dir in tests)
    # The play view as the jam ended: the player's own colour (the first palette colour)
    # fills their skeleton and their cells, and the band's layers are in the grid.
    screen = np.asarray(Image.open(out / "screen.png"))
    assert screen.shape == (720, 1280, 3)
    red = (np.abs(screen.astype(int) - (0xFF, 0x5A, 0x5F)).max(axis=2) < 12).sum()
    assert red > 2000
    assert screen[90:360, 610:1260].std() > 20  # the groove grid is drawn, not blank
    assert f"wrote {out / 'jam.wav'}: 1 bars" in capsys.readouterr().out
    assert main(["solo", "--headless", "--bars", "0"]) == 2
    assert main(["solo", "--headless", "--band", "5"]) == 2
