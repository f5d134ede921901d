"""``posejam audio``: devices and the latency each would play with; no device is said plainly."""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import pytest

from client.audio_cli import Device, describe, devices, sound_check_bar
from client.cli import main
from client.quiet import native_stderr_hidden
from shared.drums import Drum


def fake_pyo(count: int) -> SimpleNamespace:
    return SimpleNamespace(
        pa_count_devices=lambda: count,
        pa_get_output_devices=lambda: (["HDA Intel", "USB Audio"], [0, 3]),
        pa_get_devices_infos=lambda: ({}, {0: {"latency": 0.0116}, 3: {"name": "USB Audio"}}),
        pa_get_default_output=lambda: 3,
    )


def test_devices_and_the_latency_each_would_play_with() -> None:
    found = devices(fake_pyo(2))
    assert found == [Device(0, "HDA Intel", 0.0116, False), Device(3, "USB Audio", None, True)]
    text = describe(found, 256, 44100, 0.005)
    assert text.splitlines() == [
        "output devices (buffer 256 samples at 44100 Hz):",
        "  0: HDA Intel: output latency 16.6 ms (reported, offset +5.0 ms)",
        "  3: USB Audio (default): output latency 16.6 ms (two blocks, offset +5.0 ms)",
    ]


def test_no_device_is_said_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    assert devices(fake_pyo(0)) == []
    assert describe([], 256, 44100, 0.0).startswith("no sound device: portaudio finds none.")
    assert main(["audio"]) == 0  # this machine has no sound card
    assert "no sound device" in capsys.readouterr().out
    assert main(["audio", "--play"]) == 1
    assert "posejam audio: no sound device" in capsys.readouterr().err
    assert main(["audio", "--buffer-size", "300"]) == 2


def test_the_test_bar_is_a_plain_rock_beat() -> None:
    bar = sound_check_bar(10.0)
    assert [h.time for h in bar if h.drum == Drum.KICK] == [10.0, 11.0]
    assert [h.time for h in bar if h.drum == Drum.SNARE] == [10.5, 11.5]
    assert len([h for h in bar if h.drum == Drum.CLOSED_HAT]) == 8


def test_native_chatter_is_hidden_and_stderr_comes_back(capfd: pytest.CaptureFixture[str]) -> None:
    quiet = logging.getLogger("test.quiet")
    quiet.setLevel(logging.INFO)
    with native_stderr_hidden(quiet):
        os.write(2, b"ALSA lib: cannot find card '0'\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
    quiet.setLevel(logging.DEBUG)  # posejam -v: everything shows
    with native_stderr_hidden(quiet):
        os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"
