"""``posejam pose``: JSON lines from the dancer and from a video, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import pose_video
from client.cli import main
from shared.pose_mapping import FEATURE_NAMES


def records(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["pose", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_json_lines_from_the_demo_dancer(capsys: pytest.CaptureFixture[str]) -> None:
    lines = records(capsys, "--json", "--frames", "4")
    assert [r["frame"] for r in lines] == [0, 1, 2, 3]
    assert [r["time"] for r in lines] == [0.0, 0.0333, 0.0667, 0.1]
    first = lines[0]
    assert first["found"] is True
    assert isinstance(first["features"], dict) and list(first["features"]) == list(FEATURE_NAMES)
    assert first["groove"] == {
        "density": pytest.approx(0.1, abs=0.05),
        "syncopation": 0.0,
        "balance": pytest.approx(-0.38, abs=0.05),  # standing, hands down: a little more kick
        "intensity": pytest.approx(0.35, abs=0.05),
        "fill": 0.0,
    }
    assert isinstance(first["audio"], dict) and set(first["audio"]) == {"cutoff", "gain", "pan"}


def test_a_video_is_read_once_through_with_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = pose_video.Script(still_before=2, moving=3, still_after=2)
    video = pose_video.write(tmp_path / "person.avi", script)
    lines = records(capsys, "--source", str(video), "--json")
    assert [r["frame"] for r in lines] == list(range(7))
    assert all(r["found"] for r in lines)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--source", "nowhere.mp4"], "no video file at nowhere.mp4"),
        (["--source", "camera:97"], "no camera at index 97"),
        (["--model", "missing.task"], "no pose model at missing.task"),
        (["--frames", "-1"], "--frames must be 0 or more"),
    ],
)
def test_bad_options_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    if argv[0] == "--model":  # a model only matters for a source that needs one
        video = pose_video.write(tmp_path / "v.avi", pose_video.Script(1, 0, 0))
        argv = ["--source", str(video), *argv]
    assert main(["pose", "--json", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"posejam pose: {message}" in captured.err


def test_no_window_without_a_display(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("ARCADE_HEADLESS", raising=False)
    assert main(["pose"]) == 2
    assert "no display to open a window on; use --json" in capsys.readouterr().err


def test_help_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["pose", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("camera:N", "demo (the built-in dancer)", "lite or full", "(default: demo)"):
        assert phrase in text
