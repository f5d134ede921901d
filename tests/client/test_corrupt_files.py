"""Corrupt files given to the client's commands: one clear line on stderr naming the file
and what is wrong with it, a non-zero exit, never a traceback.

``posejam render FILE.mid`` with the corrupt MIDI files of
``tests/models/test_corrupt_files.py``; ``posejam pose --source FILE`` with a video that
is not one; the demo dancer's .npz damaged in every way it can be.
"""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from client.cli import main
from client.pose_source import DemoDancer, PoseSourceError
from tests.models.test_corrupt_files import CORRUPT_MIDI, Payload, vlq, write_corrupt_midi

ROOT = Path(__file__).resolve().parents[2]


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a command wrote on stderr (and nothing on stdout)."""
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


# -- posejam render ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, (data, _) in CORRUPT_MIDI.items() if data is not None])
def test_render_says_what_is_wrong_with_a_corrupt_midi_file(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    midi = write_corrupt_midi(tmp_path, name)
    out = tmp_path / "out.wav"
    assert main(["render", str(midi), "--out", str(out)]) == 2
    problem = CORRUPT_MIDI[name][1]
    assert one_line(capsys) == f"posejam render: cannot read {midi}: not a MIDI file ({problem})"
    assert not out.exists()
    assert not list(tmp_path.glob(".render-*"))  # no half-written file left behind


def test_render_refuses_a_file_that_claims_to_last_for_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At a tick a beat, a kick 9,999,990 ticks after the first is 58 days later."""
    track = (b"\x00\x99\x24\x64\x01\x89\x24\x00" + vlq(9_999_990)
             + b"\x99\x24\x64\x01\x89\x24\x00\x00\xff\x2f\x00")  # fmt: skip
    midi = tmp_path / "long.mid"
    midi.write_bytes(
        b"MThd" + struct.pack(">IHHH", 6, 0, 1, 1)
        + b"MTrk" + struct.pack(">I", len(track)) + track
    )  # fmt: skip
    assert main(["render", str(midi), "--out", str(tmp_path / "out.wav")]) == 2
    assert one_line(capsys) == f"posejam render: {midi} lasts 83333 minutes; renders stop at 60"


def test_render_of_a_folder_or_nothing_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_corrupt_midi(tmp_path, "folder.mid")
    assert main(["render", str(folder), "--out", str(tmp_path / "out.wav")]) == 2
    assert one_line(capsys) == f"posejam render: no MIDI file at {folder}"


def test_render_on_the_real_stderr_is_one_line(tmp_path: Path) -> None:
    midi = write_corrupt_midi(tmp_path, "cut.mid")
    done = subprocess.run(
        [sys.executable, "-m", "client", "render", str(midi), "--out", str(tmp_path / "o.wav")],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"posejam render: cannot read {midi}: not a MIDI file "
        "(the file ends too soon (truncated?))\n"
    )


# -- posejam pose --source FILE ------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x00\x00\x20ftypisom" + bytes(200), bytes(range(256)) * 40],
    ids=["empty", "mp4-header-only", "noise"],
)
def test_pose_says_a_damaged_video_is_not_one_and_ffmpeg_says_nothing(
    tmp_path: Path, data: bytes
) -> None:
    """In a process of its own: FFmpeg writes to file descriptor 2 itself, under Python."""
    video = tmp_path / "dance.mp4"
    video.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-m", "client", "pose", "--source", str(video), "--json"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"posejam pose: {video} is not a video opencv can read\n"


def test_pose_names_a_missing_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "gone.mp4"
    assert main(["pose", "--source", str(missing), "--json"]) == 2
    assert one_line(capsys) == f"posejam pose: no video file at {missing}"


# -- the demo dancer's landmarks -------------------------------------------------------------


def _npz(**arrays: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]

    return write


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data) and None


def _cut(path: Path) -> None:
    _npz(landmarks=np.zeros((3, 33, 4)), fps=30.0, size=[640, 480])(path)
    path.write_bytes(path.read_bytes()[:300])


GOOD = {"landmarks": np.zeros((3, 33, 4)), "fps": 30.0, "size": [640, 480]}
DAMAGED_DANCERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "text": (_bytes(b"not a zip"), "not an .npz archive (nothing in it is unpickled)"),
    "cut": (_cut, "File is not a zip file"),
    "no landmarks": (_npz(fps=30.0, size=[640, 480]), "'landmarks is not a file in the archive'"),
    "no fps": (
        _npz(landmarks=np.zeros((3, 33, 4)), size=[640, 480]),
        "'fps is not a file in the archive'",
    ),
    "short size": (
        _npz(**{**GOOD, "size": [640]}),
        "not enough values to unpack (expected 2, got 1)",
    ),
    "no frames": (
        _npz(**{**GOOD, "landmarks": np.zeros((0, 33, 4))}),
        "0 frames at 30 fps, 640x480",
    ),
    "fps 0": (_npz(**{**GOOD, "fps": 0.0}), "3 frames at 0 fps, 640x480"),
    "fps NaN": (_npz(**{**GOOD, "fps": np.nan}), "3 frames at nan fps, 640x480"),
    "size 0": (_npz(**{**GOOD, "size": [0, 480]}), "3 frames at 30 fps, 0x480"),
}


@pytest.mark.parametrize("name", list(DAMAGED_DANCERS))
def test_a_damaged_demo_dancer_says_what_is_wrong(tmp_path: Path, name: str) -> None:
    write, problem = DAMAGED_DANCERS[name]
    path = tmp_path / "dancer.npz"
    write(path)
    with pytest.raises(PoseSourceError) as caught:
        DemoDancer(path, realtime=False)
    assert str(caught.value) == f"the demo dancer {path} is missing or damaged: {problem}"


def test_a_demo_dancer_holding_pickled_objects_is_refused_and_nothing_runs(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "dancer.npz"
    landmarks = np.array([Payload(marker)], dtype=object)
    np.savez(path, landmarks=landmarks, fps=30.0, size=[640, 480], allow_pickle=True)
    with pytest.raises(PoseSourceError) as caught:
        DemoDancer(path, realtime=False)
    assert str(caught.value) == (
        f"the demo dancer {path} is missing or damaged: "
        "it holds pickled Python objects, which are never loaded"
    )
    assert not marker.exists()
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(PoseSourceError, match=r"not an \.npz archive"):
        DemoDancer(raw, realtime=False)
    assert not marker.exists()
    np.load(path, allow_pickle=True)["landmarks"]  # the payload is live: a careless load runs it
    assert marker.exists()
