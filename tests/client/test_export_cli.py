"""``posejam jams`` and ``posejam export``: a journaled jam as a table, a MIDI file and a WAV."""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from client import export_cli
from client.audio_engine import OfflineEngine
from client.audio_types import Hit
from client.kit import read_wav
from server.journal import Jam, JamSummary, Journal
from shared.drums import DRUM_COUNT, LAYER_STEPS, Drum, Pattern
from shared.messages import Layer, PlayerInfo, Role
from tests.client.test_audio_engine import onsets

SR = 44100
WALL = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
KICK, SNARE, HAT, LOW_TOM, CRASH, RIDE = 36, 38, 42, 45, 49, 51  # General MIDI drum notes
PITCH_DRUM = {
    KICK: Drum.KICK,
    SNARE: Drum.SNARE,
    HAT: Drum.CLOSED_HAT,
    LOW_TOM: Drum.LOW_TOM,
    CRASH: Drum.CRASH,
    RIDE: Drum.RIDE,
}


def pattern(hits: dict[tuple[int, Drum], int]) -> Pattern:
    """A 2-bar pattern with ``hits`` as {(step, drum): velocity}."""
    return tuple(
        tuple(hits.get((step, Drum(d)), 0) for d in range(DRUM_COUNT))
        for step in range(LAYER_STEPS)
    )


ANN_1 = pattern({(0, Drum.KICK): 100, (8, Drum.CLOSED_HAT): 90, (20, Drum.SNARE): 110})
ANN_2 = pattern({(12, Drum.LOW_TOM): 100, (28, Drum.RIDE): 100})
BOB_1 = pattern({(2, Drum.CLOSED_HAT): 70, (10, Drum.CLOSED_HAT): 70, (16, Drum.CRASH): 120})


def record(path: Path) -> None:
    """Jam 1 in room ABCD: 120 bpm, 240 from bar 2, 180 from bar 6. Ann plays from bar 4
    and changes her layer on bar 6; Bob plays from bar 5; Cat joins and plays nothing.
    Jam 2, in room WXYZ an hour later, has only a player."""
    with Journal.open(path) as journal:
        jam = journal.start_jam("ABCD", 120.0, WALL)
        for i, name in enumerate(("Ann", "Bob", "Cat"), 1):
            journal.player(jam, PlayerInfo(i, name, Role.PLAYER, 0x111111 * i), WALL + i)
        journal.tempo(jam, 240.0, 2)
        journal.layer(jam, Layer(1, ANN_1, 4, 1))
        journal.layer(jam, Layer(2, BOB_1, 5, 1))
        journal.tempo(jam, 180.0, 6)
        journal.layer(jam, Layer(1, ANN_2, 6, 2))
        later = journal.start_jam("WXYZ", 100.0, WALL + 3600.0)
        journal.player(later, PlayerInfo(1, "Dan", Role.PLAYER, 0), WALL + 3601.0)


def at(bar: int, step: int) -> float:
    """Seconds from bar 4, worked out by hand: 240 bpm (1 s a bar, 1/16 s a step) to
    bar 6, then 180 bpm (4/3 s a bar, 1/12 s a step)."""
    if bar < 6:
        return (bar - 4) + step / 16
    return 2.0 + (bar - 6) * 4 / 3 + step / 12


# (bar, step in the bar, note, velocity) of each player, bars 4..7 and then on.
ANN = [
    (4, 0, KICK, 100),
    (4, 8, HAT, 90),
    (5, 4, SNARE, 110),
    (6, 12, LOW_TOM, 100),  # her second layer takes over on bar 6
    (7, 12, RIDE, 100),
    (8, 12, LOW_TOM, 100),  # ... and loops on with --bars
    (9, 12, RIDE, 100),
]
BOB = [
    (5, 2, HAT, 70),
    (5, 10, HAT, 70),
    (6, 0, CRASH, 120),
    (7, 2, HAT, 70),  # his 2 bars again
    (7, 10, HAT, 70),
    (8, 0, CRASH, 120),
    (9, 2, HAT, 70),
    (9, 10, HAT, 70),
]


def run(*argv: str, command: str = "export") -> int:
    parser = argparse.ArgumentParser(prog=f"posejam {command}")
    if command == "export":
        export_cli.add_export_arguments(parser)
    else:
        export_cli.add_jams_arguments(parser)
    args = parser.parse_args(list(argv))
    code: int = args.run(args)
    return code


def notes(instrument: pretty_midi.Instrument) -> list[tuple[float, int, int]]:
    return [(n.start, n.pitch, n.velocity) for n in instrument.notes]


def expected(plays: list[tuple[int, int, int, int]], end_bar: int) -> list[tuple[float, int, int]]:
    return [(at(bar, step), pitch, v) for bar, step, pitch, v in plays if bar < end_bar]


def test_a_jam_exports_one_drum_track_per_player_on_its_tempo_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record(tmp_path / "jams.sqlite")
    out = tmp_path / "jam.mid"
    assert run("1", "--journal", str(tmp_path / "jams.sqlite"), "--midi", str(out)) == 0
    assert capsys.readouterr().out == (
        f"wrote {out}: jam 1 (room ABCD), bars 4..7 (4 bars, 4.67 s), 2 player tracks\n"
    )
    midi = pretty_midi.PrettyMIDI(str(out))
    assert [i.name for i in midi.instruments] == ["Ann", "Bob"]  # Cat played nothing
    assert all(i.is_drum for i in midi.instruments)
    for instrument, plays in zip(midi.instruments, (ANN, BOB), strict=True):
        got, want = notes(instrument), expected(plays, 8)
        assert [(p, v) for _, p, v in got] == [(p, v) for _, p, v in want]
        assert np.allclose([t for t, _, _ in got], [t for t, _, _ in want], atol=1e-5, rtol=0)
        # Each hit a 16th long, in the tempo where it sounds.
        assert [round(n.end - n.start, 5) for n in instrument.notes] == [
            round(1 / 16 if bar < 6 else 1 / 12, 5) for bar, *_ in plays if bar < 8
        ]
    times, bpms = midi.get_tempo_changes()
    assert times.tolist() == pytest.approx([0.0, 2.0], abs=1e-9)
    assert bpms.tolist() == pytest.approx([240.0, 180.0], abs=0.001)  # microseconds a beat
    # Every note on channel 10; the file ends where bar 7 does.
    raw = mido.MidiFile(str(out))
    assert {m.channel for t in raw.tracks for m in t if m.type in ("note_on", "note_off")} == {9}
    assert raw.length == pytest.approx(at(8, 0), abs=1e-5)


def test_bars_cut_a_jam_short_or_loop_its_last_layers_on(tmp_path: Path) -> None:
    record(tmp_path / "jams.sqlite")
    journal = str(tmp_path / "jams.sqlite")
    for bars, end_bar in ((1, 5), (6, 10)):
        out = tmp_path / f"{bars}.mid"
        assert run("1", "--journal", journal, "--midi", str(out), "--bars", str(bars)) == 0
        midi = pretty_midi.PrettyMIDI(str(out))
        want = [expected(ANN, end_bar), expected(BOB, end_bar)]
        got = [notes(i) for i in midi.instruments]
        assert [i.name for i in midi.instruments] == ["Ann", "Bob"][: len([w for w in want if w])]
        assert [[(p, v) for _, p, v in g] for g in got] == [
            [(p, v) for _, p, v in w] for w in want if w
        ]
        assert np.allclose(
            [t for g in got for t, _, _ in g],
            [t for w in want for t, _, _ in w],
            atol=1e-5,
            rtol=0,
        )


def test_the_wav_has_an_onset_where_each_step_with_hits_belongs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record(tmp_path / "jams.sqlite")
    wav = tmp_path / "jam.wav"
    argv = ["1", "--journal", str(tmp_path / "jams.sqlite"), "--midi", str(tmp_path / "j.mid")]
    assert run(*argv, "--wav", str(wav)) == 0
    out, sr = read_wav(wav)
    assert sr == SR and out.shape[1] == 2
    assert out.shape[0] / SR >= at(8, 0)  # the whole jam, and the last hits ring out
    steps = sorted({at(bar, step) for bar, step, _, _ in ANN + BOB if bar < 8})
    assert len(steps) == 10
    # bench.onsets misses a quiet hat under a crash's tail; this one looks at attacks.
    found = onsets(out, SR)
    want = np.round(np.array(steps) * SR).astype(np.int64)
    assert len(found) == len(want), (found / SR).tolist()
    assert np.abs(found - want).max() <= 2 * SR // 1000  # a low tom's attack is soft
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].startswith(f"wrote {wav}: ") and ", 10 hits, " in printed[1]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export-")] == []

    # To the sample: the same hits, worked out by hand, through the same kit and mix.
    engine = OfflineEngine(SR, start=0.0)
    engine.schedule(
        [
            Hit(at(bar, step), owner, PITCH_DRUM[pitch], v)
            for owner, plays in ((1, ANN), (2, BOB))
            for bar, step, pitch, v in plays
            if bar < 8
        ]
    )
    reference = engine.render_array(out.shape[0] / SR)
    assert reference.shape == out.shape
    assert np.abs(reference - out).max() < 2.0**-22  # 24-bit rounding only


def test_a_long_render_shows_its_progress_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    record(tmp_path / "jams.sqlite")
    argv = ["1", "--journal", str(tmp_path / "jams.sqlite"), "--midi", str(tmp_path / "j.mid")]
    argv += ["--wav", str(tmp_path / "j.wav"), "--bars", "20"]  # 2 + 18 * 4/3 = 26 s
    assert run(*argv) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no bar redrawn into a log
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert run(*argv) == 0
    err = capsys.readouterr().err
    assert err.startswith("\rrendering jam 1 [") and err.endswith("] 100%\n")
    assert err.count("\r") > 10


def test_jams_are_listed_as_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path / "jams.sqlite")
    with Journal.open(tmp_path / "jams.sqlite", create=False) as journal:
        jams = journal.jams()
    assert jams == [
        JamSummary(1, "ABCD", WALL, 3, 3, 4),
        JamSummary(2, "WXYZ", WALL + 3600.0, 1, 0, 0),
    ]
    assert export_cli.format_jams(jams, dt.UTC) == (
        "id  room  started           players  layers  bars\n"
        " 1  ABCD  2023-11-14 22:13        3       3     4\n"
        " 2  WXYZ  2023-11-14 23:13        1       0     0"
    )
    assert run("--journal", str(tmp_path / "jams.sqlite"), command="jams") == 0
    local = dt.datetime.fromtimestamp(WALL).strftime("%Y-%m-%d %H:%M")
    assert capsys.readouterr().out.splitlines()[1] == f" 1  ABCD  {local}        3       3     4"

    Journal.open(tmp_path / "empty.sqlite").close()
    assert run("--journal", str(tmp_path / "empty.sqlite"), command="jams") == 0
    assert capsys.readouterr().out == f"no jams recorded in {tmp_path / 'empty.sqlite'} yet\n"


def test_the_exports_length_is_what_the_listing_says(tmp_path: Path) -> None:
    record(tmp_path / "jams.sqlite")
    with Journal.open(tmp_path / "jams.sqlite", create=False) as journal:
        (summary, _) = journal.jams()
        jam = journal.load(1)
    assert export_cli.export_bars(jam) == (4, 4 + summary.bars)


def write_noise(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 16)
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["1", "--journal", "{d}/missing.sqlite"], "no journal at {d}/missing.sqlite"),
        (["1", "--journal", "none"], "there is no journal to read with --journal none"),
        (
            ["1", "--journal", "{d}/noise.sqlite"],
            "cannot read {d}/noise.sqlite: not a PoseJam journal (file is not a database)",
        ),
        (["9"], "no jam 9 in {d}/jams.sqlite"),
        (["2"], "jam 2 has no layers: nothing to export"),
        (
            ["1", "--midi", "{d}/nowhere/j.mid"],
            "cannot write {d}/nowhere/j.mid: No such file or directory",
        ),
        (["1", "--midi", "{d}"], "cannot write {d}: Is a directory"),
        (
            ["1", "--wav", "{d}/nowhere/j.wav"],
            "cannot write {d}/nowhere/j.wav: No such file or directory",
        ),
    ],
)
def test_errors_are_one_clear_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    record(tmp_path / "jams.sqlite")
    write_noise(tmp_path / "noise.sqlite")
    args = [a.format(d=tmp_path) for a in argv]
    defaults = {"--journal": str(tmp_path / "jams.sqlite"), "--midi": str(tmp_path / "out.mid")}
    for option, value in defaults.items():
        if option not in args:
            args += [option, value]
    assert run(*args) == 2
    captured = capsys.readouterr()
    assert captured.err == f"posejam export: {message.format(d=tmp_path)}\n"
    assert captured.out == ""
    left = sorted(p.name for p in tmp_path.iterdir())
    assert ".export-" not in " ".join(left)
    if "--wav" not in argv:
        assert "out.mid" not in left


def test_a_broken_journal_is_a_clear_error_for_the_listing_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noise = write_noise(tmp_path / "noise.sqlite")
    assert run("--journal", str(noise), command="jams") == 2
    assert capsys.readouterr().err == (
        f"posejam jams: cannot read {noise}: not a PoseJam journal (file is not a database)\n"
    )
    assert run("--journal", str(tmp_path / "missing.sqlite"), command="jams") == 2
    assert capsys.readouterr().err == f"posejam jams: no journal at {tmp_path / 'missing.sqlite'}\n"
    assert not (tmp_path / "missing.sqlite").exists()


@pytest.mark.parametrize("jam", ["0", "-1", "first", "1.5"])
def test_a_jam_is_a_positive_id_or_latest(
    jam: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(jam, "--midi", str(tmp_path / "x.mid"))
    assert exited.value.code == 2
    assert f"a jam is a positive id or 'latest', got {jam!r}" in capsys.readouterr().err


def test_latest_is_the_newest_jam(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path / "jams.sqlite")
    with Journal.open(tmp_path / "jams.sqlite") as journal:
        jam = journal.start_jam("NEWS", 240.0, WALL + 7200.0)
        journal.layer(jam, Layer(5, ANN_1, 0, 1))
    out = tmp_path / "latest.mid"
    assert run("latest", "--journal", str(tmp_path / "jams.sqlite"), "--midi", str(out)) == 0
    assert "jam 3 (room NEWS), bars 0..1" in capsys.readouterr().out
    midi = pretty_midi.PrettyMIDI(str(out))
    assert [i.name for i in midi.instruments] == ["Player 5"]  # no player record: its id
    assert notes(midi.instruments[0]) == [(0.0, KICK, 100), (0.5, HAT, 90), (1.25, SNARE, 110)]


def test_the_module_runs_both_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path / "jams.sqlite")
    assert export_cli.main(["jams", "--journal", str(tmp_path / "jams.sqlite")]) == 0
    assert "ABCD" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        export_cli.main(["export", "--help"])
    assert "--bars N" in capsys.readouterr().out


def test_a_tempo_change_on_the_first_bar_is_the_files_starting_tempo(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "jams.sqlite") as journal:
        jam = journal.start_jam("ABCD", 120.0, WALL)
        journal.tempo(jam, 200.0, 3)
        journal.layer(jam, Layer(1, ANN_1, 3, 1))
    out = tmp_path / "j.mid"
    assert run("1", "--journal", str(tmp_path / "jams.sqlite"), "--midi", str(out)) == 0
    raw = mido.MidiFile(str(out))
    assert [m.tempo for m in raw.tracks[0] if m.type == "set_tempo"] == [300_000]  # 200 bpm
    midi = pretty_midi.PrettyMIDI(str(out))
    assert notes(midi.instruments[0]) == [(0.0, KICK, 100), (0.6, HAT, 90), (1.5, SNARE, 110)]


def test_each_bars_layers_are_the_whole_stacks() -> None:
    """``playing`` walks the bars with a pointer per owner; it must agree with
    ``LoopStack.layers_at`` everywhere, replaced layers and gaps included."""
    rng = random.Random(5)
    layers = [
        Layer(rng.randint(1, 4), ANN_1 if rng.random() < 0.5 else BOB_1, rng.randint(3, 60), v)
        for v in range(1, 80)
    ]
    jam = Jam(1, "ABCD", WALL, 120.0, (), tuple(layers), ())
    whole = jam.loop_stack()
    walked = list(export_cli.playing(jam, 0, 70))
    assert [bar for bar, _ in walked] == list(range(70))
    for bar, stack in walked:
        assert stack.layers_at(bar) == whole.layers_at(bar)
    assert sum(len(stack.owners) for _, stack in walked) > 150  # it was not all empty
