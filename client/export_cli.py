"""``posejam jams`` and ``posejam export``: the jams a server journaled, listed and written out.

A jam is rebuilt from its journal the way the room played it: the loop stack from
its layers in the order they were applied, the tempo map from its start tempo and
every accepted change. Each layer plays from its bar, looping its 2 bars, until its
owner's next layer starts (``LoopStack.layers_at``); the scheduler's
:func:`~client.scheduler.step_hits` turns that into the drums of each 16th step,
once, for both the MIDI file and the WAV render, so the two cannot disagree.

The export starts on the bar of the jam's first layer (a room idles on its tempo
map until someone plays) and runs to the end of its last layer, or ``--bars`` bars.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import mido  # type: ignore[import-untyped]

from client.audio_engine import SAMPLE_RATE, AudioDeviceError
from client.audio_types import Hit
from client.kit import Kit, KitError
from client.render_cli import MAX_SECONDS, render_hits, render_length
from client.scheduler import step_hits
from client.whole_file import write_whole
from models.encoding import OUTPUT_PITCH
from server.journal import Jam, JamSummary, Journal, JournalError
from server.main import JOURNAL_OFF, default_journal, journal_path
from shared.drums import BEATS_PER_BAR, STEPS_PER_BAR, STEPS_PER_BEAT, Drum
from shared.loop_stack import LoopStack
from shared.messages import Layer
from shared.tempo import TempoMap

JAMS_DESCRIPTION = """\
List the jams a PoseJam server recorded in its journal: id, room, when it started
(local time), how many players joined, how many layers they played, and how many bars
its export runs (from the first layer to the end of the last).
"""

EXPORT_DESCRIPTION = """\
Write a recorded jam as a MIDI file: one General MIDI drum track (channel 10) per
player, with the jam's tempo changes as MIDI tempo changes; with --wav, also the mix
rendered through PoseJam's drum kit (stereo 44.1 kHz 24-bit). Each layer plays from
its bar, looping its 2 bars, until its owner's next layer. The export starts on the
bar of the first layer and runs to the end of the last one, or --bars bars.
"""

LATEST = "latest"
TICKS_PER_BEAT = 480  # pretty_midi's and most DAWs' resolution; a 16th is 120 ticks
TICKS_PER_STEP = TICKS_PER_BEAT // STEPS_PER_BEAT
DRUM_CHANNEL = 9  # MIDI channel 10, General MIDI's drums
MAX_BARS = 100_000  # over 13 hours at 240 bpm: any more is a typo
DATE_FORMAT = "%Y-%m-%d %H:%M"


class ExportError(Exception):
    """A jam cannot be exported as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class StepHit:
    step: int  # 16th steps from the export's first bar
    hit: Hit  # its time on the jam's tempo map (bar 0 at 0 s), its owner, drum and velocity


# -- arguments ---------------------------------------------------------------------


def _jam_id(text: str) -> int | str:
    if text.lower() == LATEST:
        return LATEST
    try:
        jam = int(text)
    except ValueError:
        jam = 0
    if jam < 1:
        raise argparse.ArgumentTypeError(f"a jam is a positive id or {LATEST!r}, got {text!r}")
    return jam


def _bars(text: str) -> int:
    try:
        bars = int(text)
    except ValueError:
        bars = 0
    if not 1 <= bars <= MAX_BARS:
        raise argparse.ArgumentTypeError(f"bars must be in range 1..{MAX_BARS}, got {text!r}")
    return bars


def _add_journal(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal",
        type=journal_path,
        default=default_journal(),
        metavar="PATH",
        help="the journal a server recorded (default: %(default)s)",
    )


def add_jams_arguments(parser: argparse.ArgumentParser) -> None:
    _add_journal(parser)
    parser.set_defaults(run=run_jams)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "jam", type=_jam_id, metavar="JAM", help=f"the jam's id (see `posejam jams`) or {LATEST}"
    )
    _add_journal(parser)
    parser.add_argument(
        "--midi", type=Path, required=True, metavar="FILE.mid", help="the MIDI file to write"
    )
    parser.add_argument(
        "--wav", type=Path, default=None, metavar="FILE.wav", help="also render the mix to this"
    )
    parser.add_argument(
        "--bars",
        type=_bars,
        default=None,
        metavar="N",
        help="export N bars from the first layer's (default: to the end of the last layer)",
    )
    parser.set_defaults(run=run_export)


# -- listing -----------------------------------------------------------------------


def format_jams(jams: Sequence[JamSummary], tz: dt.tzinfo | None = None) -> str:
    """A table of jams, one a line, dates in ``tz`` (default: local time)."""
    header = ("id", "room", "started", "players", "layers", "bars")
    rows = [
        (
            str(j.id),
            j.room,
            dt.datetime.fromtimestamp(j.started, tz).strftime(DATE_FORMAT),
            str(j.players),
            str(j.layers),
            str(j.bars),
        )
        for j in jams
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    left = {1, 2}  # room and date read from the left; numbers line up on the right
    lines = [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in (header, *rows)
    ]
    return "\n".join(line.rstrip() for line in lines)


def _open(path: Path | None) -> Journal:
    if path is None:
        raise JournalError(f"there is no journal to read with --journal {JOURNAL_OFF}")
    return Journal.open(path, create=False)


def run_jams(args: argparse.Namespace) -> int:
    try:
        with _open(args.journal) as journal:
            jams = journal.jams()
    except JournalError as exc:
        sys.stderr.write(f"posejam jams: {exc}\n")
        return 2
    if not jams:
        sys.stdout.write(f"no jams recorded in {args.journal} yet\n")
    else:
        sys.stdout.write(format_jams(jams) + "\n")
    return 0


# -- the jam as steps --------------------------------------------------------------


def export_bars(jam: Jam, bars: int | None = None) -> tuple[int, int]:
    """The first bar and the end bar (exclusive) of an export of ``jam``."""
    if not jam.layers:
        raise ExportError(f"jam {jam.id} has no layers: nothing to export")
    first = jam.first_bar
    return first, first + bars if bars is not None else jam.end_bar


def playing(jam: Jam, first_bar: int, end_bar: int) -> Iterator[tuple[int, LoopStack]]:
    """Each bar from ``first_bar`` to ``end_bar``, with a stack of just the layers playing in it.

    The jam's whole stack answers the same (``LoopStack.layers_at``), but it looks
    through every layer of an owner each time; an hour's jam holds thousands.
    """
    whole = jam.loop_stack()
    starts: dict[int, list[Layer]] = {owner: [] for owner in whole.owners}
    for layer in whole.all():  # per owner in bar order, the replaced ones gone
        starts[layer.owner].append(layer)
    at = dict.fromkeys(starts, -1)  # per owner, the index of the layer playing
    for bar in range(first_bar, end_bar):
        stack = LoopStack()
        for owner, layers in starts.items():
            while at[owner] + 1 < len(layers) and layers[at[owner] + 1].starts_at_bar <= bar:
                at[owner] += 1
            if at[owner] >= 0:
                stack.schedule(layers[at[owner]])
        yield bar, stack


def jam_hits(jam: Jam, first_bar: int, end_bar: int) -> list[StepHit]:
    """Every drum hit from ``first_bar`` to ``end_bar``, at its time on the jam's tempo map."""
    tempo = jam.tempo_map()
    return [
        StepHit(step - first_bar * STEPS_PER_BAR, hit)
        for bar, stack in playing(jam, first_bar, end_bar)
        for step in range(bar * STEPS_PER_BAR, (bar + 1) * STEPS_PER_BAR)
        for hit in step_hits(stack, step, tempo.time_at_step(step))
    ]


def players_heard(jam: Jam, first_bar: int, end_bar: int) -> list[int]:
    """The owners with a layer playing somewhere from ``first_bar`` to ``end_bar``."""
    return sorted(
        {owner for _, stack in playing(jam, first_bar, end_bar) for owner in stack.owners}
    )


# -- MIDI --------------------------------------------------------------------------


def jam_midi(jam: Jam, first_bar: int, end_bar: int) -> mido.MidiFile:
    """A type 1 MIDI file: a tempo track, then one drum track per player who played."""
    end_tick = (end_bar - first_bar) * STEPS_PER_BAR * TICKS_PER_STEP
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = _tempo_track(jam.tempo_map(), first_bar, end_bar)
    conductor.insert(0, mido.MetaMessage("track_name", name=f"PoseJam {jam.room} jam {jam.id}"))
    midi.tracks.append(conductor)
    # (tick, 0 for a note's end or 1 for its start, pitch, velocity) by owner: a 16th
    # long each, and at a shared tick an ending note goes before a starting one.
    notes: dict[int, list[tuple[int, int, int, int]]] = {}
    for item in jam_hits(jam, first_bar, end_bar):
        tick = item.step * TICKS_PER_STEP
        pitch = OUTPUT_PITCH[Drum(item.hit.drum)]
        notes.setdefault(item.hit.owner, []).extend(
            [(tick, 1, pitch, item.hit.velocity), (tick + TICKS_PER_STEP, 0, pitch, 0)]
        )
    names = jam.player_names()
    for owner in players_heard(jam, first_bar, end_bar):
        midi.tracks.append(
            _drum_track(names.get(owner, f"Player {owner}"), notes.get(owner, []), end_tick)
        )
    return midi


def _tempo_track(tempo: TempoMap, first_bar: int, end_bar: int) -> mido.MidiTrack:
    """4/4, and the tempo in force from ``first_bar`` on at each tick where it changes."""
    first_beat = first_bar * BEATS_PER_BAR
    changes = [(0, tempo.bpm_at(tempo.time_at_bar(first_bar)))] + [
        (round((segment.start_beat - first_beat) * TICKS_PER_BEAT), segment.bpm)
        for segment in tempo.segments
        if first_beat < segment.start_beat < end_bar * BEATS_PER_BAR
    ]
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=BEATS_PER_BAR, denominator=4))
    now = 0
    for tick, bpm in changes:
        track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _drum_track(name: str, notes: list[tuple[int, int, int, int]], end_tick: int) -> mido.MidiTrack:
    """A track of (tick, on, pitch, velocity) notes on the drum channel, ending at ``end_tick``."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name))
    now = 0
    for tick, on, pitch, velocity in sorted(notes):
        # Checked already: pitches are the GM table's, velocities the journal's 1..127.
        # mido's checks of every field of every message would double an hour's export.
        track.append(
            mido.Message(
                "note_on" if on else "note_off",
                skip_checks=True,
                channel=DRUM_CHANNEL,
                note=pitch,
                velocity=velocity,
                time=tick - now,
            )
        )
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return track


# -- writing -----------------------------------------------------------------------


def render_jam(
    jam: Jam, first_bar: int, end_bar: int, out: Path, progress_stream: TextIO | None = None
) -> str:
    """Render the mix through the kit into ``out``; a line saying what was written."""
    tempo = jam.tempo_map()
    start, end = tempo.time_at_bar(first_bar), tempo.time_at_bar(end_bar)
    hits = [item.hit for item in jam_hits(jam, first_bar, end_bar)]
    kit = Kit.load(sample_rate=SAMPLE_RATE)
    seconds = max(end, render_length(hits, kit) if hits else end) - start
    if seconds > MAX_SECONDS:
        raise ExportError(
            f"jam {jam.id} lasts {seconds / 60.0:.0f} minutes; renders stop at "
            f"{MAX_SECONDS / 60.0:.0f}: export fewer with --bars"
        )
    label = f"rendering jam {jam.id}"
    try:
        return render_hits(hits, kit, start, seconds, out, label, progress_stream)
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from exc


def export(
    journal: Journal,
    jam_id: int | str,
    midi_out: Path,
    wav_out: Path | None = None,
    bars: int | None = None,
    progress_stream: TextIO | None = None,
) -> str:
    """Export a jam of ``journal``; what was written, a line a file."""
    jam = journal.load(journal.latest() if jam_id == LATEST else int(jam_id))
    first, end = export_bars(jam, bars)
    midi = jam_midi(jam, first, end)
    try:
        write_whole(midi_out, midi.save)
    except OSError as exc:
        raise ExportError(f"cannot write {midi_out}: {exc.strerror or exc}") from exc
    tracks = len(midi.tracks) - 1
    tempo = jam.tempo_map()
    seconds = tempo.time_at_bar(end) - tempo.time_at_bar(first)
    lines = [
        f"wrote {midi_out}: jam {jam.id} (room {jam.room}), bars {first}..{end - 1} "
        f"({end - first} bars, {seconds:.2f} s), {tracks} player track"
        + ("" if tracks == 1 else "s")
    ]
    if wav_out is not None:
        lines.append(render_jam(jam, first, end, wav_out, progress_stream))
    return "\n".join(lines)


def run_export(args: argparse.Namespace) -> int:
    try:
        with _open(args.journal) as journal:
            # A bar redrawn with carriage returns is for a terminal; in a log it is noise.
            progress = sys.stderr if sys.stderr.isatty() else None
            summary = export(journal, args.jam, args.midi, args.wav, args.bars, progress)
    except (JournalError, ExportError) as exc:
        sys.stderr.write(f"posejam export: {exc}\n")
        return 2
    except (KitError, AudioDeviceError) as exc:
        sys.stderr.write(f"posejam export: {exc}\n")
        return 1
    sys.stdout.write(summary + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m client.export_cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_jams_arguments(
        sub.add_parser("jams", help="list recorded jams", description=JAMS_DESCRIPTION)
    )
    add_export_arguments(
        sub.add_parser(
            "export",
            help="write a recorded jam as MIDI (and WAV)",
            description=EXPORT_DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
