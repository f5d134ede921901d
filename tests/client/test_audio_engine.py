"""Audio engines: hits land on their sample, the mix does what the channels ask, nothing clips."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from client import audio_engine
from client.audio_engine import (
    CEILING,
    AudioDeviceError,
    DryRing,
    OfflineEngine,
    RealtimeEngine,
    SilentEngine,
    StreamClock,
    channel_pan,
    limiter_delay,
    open_engine,
    output_latency,
    pan_gains,
    player_pan,
    position_time,
    ring_position,
)
from client.audio_types import Hit
from client.kit import Kit, character, read_wav
from shared.drums import Drum

SR = 44100
BS = 256
MS = SR // 1000  # samples in a millisecond (44)


@pytest.fixture(scope="module")
def kit() -> Kit:
    return Kit.load()


def onsets(x: np.ndarray, sr: int, rise: float = 2.0, history_ms: int = 16) -> np.ndarray:
    """Where hits start, in samples: an energy rise in 1 ms frames, placed on its sample.

    The signal's first difference (which brings attacks up and low tones down) is cut
    into 1 ms frames; a frame whose energy is ``rise`` times the loudest of the
    ``history_ms`` frames before it (longer than a low tom's period, so a tone's own
    ripple is no onset) starts a hit. The hit's sample is the first, from the frame
    before, whose step is twice the largest step of the 3 ms before that.
    """
    mono = x.mean(axis=1) if x.ndim == 2 else x
    n = round(sr / 1000)
    pad = history_ms * n
    steps = np.abs(np.diff(np.concatenate([np.zeros(pad + 1), mono])))
    frames = len(steps) // n
    energy = (steps[: frames * n].reshape(frames, n) ** 2).sum(axis=1)
    floor = 1e-5 * n  # -50 dB steps: silence, dither, the last of a tail
    found: list[int] = []
    last = -(10**9)
    for i in range(history_ms, frames):
        if (
            energy[i] > floor
            and energy[i] > rise * energy[i - history_ms : i].max()
            and i - last > 20
        ):
            lo = (i - 1) * n
            background = steps[lo - 3 * n : lo].max()
            window = steps[lo : lo + 4 * n]
            threshold = max(2.0 * background, 0.1 * window.max())
            found.append(lo + int(np.argmax(window > threshold)) - pad)
            last = i
    return np.array(found, dtype=np.int64)


def db(x: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))
    return 20.0 * math.log10(max(rms, 1e-12))


def render(
    tmp_path: Path, engine: OfflineEngine, seconds: float, name: str = "out.wav"
) -> np.ndarray:
    path = tmp_path / name
    info = engine.render(path, seconds)
    data, sr = read_wav(path)
    assert sr == engine.sample_rate and data.shape == (info.frames, 2)
    return data


def rock_bar(start: float, bpm: float, owner: int = 1) -> list[Hit]:
    step = 60.0 / bpm / 4
    hits = []
    for s in range(16):
        t = start + s * step
        if s in (0, 8, 10):
            hits.append(Hit(t, owner, Drum.KICK, 118))
        if s in (4, 12):
            hits.append(Hit(t, owner, Drum.SNARE, 105))
        if s % 2 == 0:
            hits.append(Hit(t, owner, Drum.CLOSED_HAT, 90 if s % 4 == 0 else 60))
        if s == 14:
            hits.append(Hit(t, owner, Drum.OPEN_HAT, 80))
    return hits


# -- timing math ---------------------------------------------------------------------------


def test_ring_position_and_position_time_are_inverse() -> None:
    assert ring_position(12.5 + 12345 / SR, 12.5, SR, 0.0) == 12345
    assert ring_position(10.0, 9.0, SR, 0.25) == 33075  # heard 0.25 s after it is computed
    rng = random.Random(5)
    for _ in range(200):
        origin, latency = rng.uniform(-1e4, 1e4), rng.uniform(0.0, 0.2)
        position = rng.randrange(0, 10**9)
        assert (
            ring_position(position_time(position, origin, SR, latency), origin, SR, latency)
            == position
        )


def test_channel_pan_puts_a_centred_player_at_home_and_keeps_the_ends() -> None:
    for home in (-0.75, 0.0, 0.45):
        assert channel_pan(home, 0.0) == home
        assert channel_pan(home, -1.0) == -1.0 and channel_pan(home, 1.0) == 1.0
        for pan in np.linspace(-1.0, 1.0, 41):
            assert player_pan(home, channel_pan(home, float(pan))) == pytest.approx(pan)
    assert channel_pan(0.0, 5.0) == 1.0  # out of range: clamped


def test_pan_gains_are_constant_power() -> None:
    assert pan_gains(-1.0) == (1.0, 0.0) and pan_gains(1.0) == (0.0, 1.0)
    left, right = pan_gains(0.0)
    assert left == right == pytest.approx(math.sqrt(0.5))
    for position in np.linspace(-1.0, 1.0, 21):
        left, right = pan_gains(float(position))
        assert left**2 + right**2 == pytest.approx(1.0)


def test_output_latency_is_the_devices_or_two_blocks() -> None:
    assert output_latency(0.0116, 256, SR) == 0.0116
    assert output_latency(None, 256, SR) == 512 / SR
    assert output_latency(float("nan"), 512, 48000) == 1024 / 48000
    assert limiter_delay(SR) == 220 and limiter_delay(48000) == 240


def test_the_stream_clock_finds_the_origin_through_callback_jitter() -> None:
    origin, rng = 500.0, random.Random(11)
    # 4 s of blocks; most callbacks run up to 3 ms late, one in ten on time.
    callbacks = np.array(
        [
            origin + k * BS / SR + (0.0 if k % 10 == 0 else rng.uniform(0.0, 0.003))
            for k in range(690)
        ]
    )
    clock = StreamClock(SR, BS)
    for reading in sorted(rng.uniform(origin, callbacks[-1]) for _ in range(400)):  # 100 a second
        computed = int(np.searchsorted(callbacks, reading, side="right")) * BS
        clock.observe(reading, computed)
    assert clock.origin() == pytest.approx(origin, abs=3e-4)
    with pytest.raises(ValueError, match="no stream readings yet"):
        StreamClock(SR, BS).origin()


# -- the rings ------------------------------------------------------------------------------


def test_the_ring_writes_hits_on_their_sample_across_its_end(kit: Kit) -> None:
    buffers = [np.zeros(1 << 19, np.float32) for _ in range(2)]
    ring = DryRing(buffers, kit)
    size = ring.size
    kick = kit.voice(Drum.KICK, 100, character(2))
    start = 3 * size - 100  # the third lap, 100 samples before the ring's end
    ring.add(start, 1, Hit(0.0, 2, Drum.KICK, 100))
    ring.add(start - 5000, 0, Hit(0.0, 1, Drum.SNARE, 100))  # late by the time it is pumped
    ring.add(start + size, 0, Hit(0.0, 1, Drum.SNARE, 100))  # a lap ahead: waits
    ring.pump(start - 2000)
    assert (ring.written, ring.late, ring.pending) == (1, 1, 1)
    np.testing.assert_array_equal(buffers[1][size - 100 :], kick[:100])
    np.testing.assert_array_equal(buffers[1][: len(kick) - 100], kick[100:])
    assert not buffers[0].any()  # the other channel has nothing
    ring.pump(start + len(kick))  # the kick has played: cleared for the next lap
    assert not buffers[1].any()
    ring.pump(start + size)
    assert (ring.written, ring.pending) == (2, 0)
    # With a real-time server, the block after the last computed one may be computing.
    careful = DryRing(buffers, kit, margin=BS)
    careful.add(5000 + BS - 1, 0, Hit(0.0, 1, Drum.KICK, 100))
    careful.add(5000 + BS, 0, Hit(0.0, 1, Drum.KICK, 100))
    careful.pump(5000)
    assert (careful.late, careful.written) == (1, 1)


def test_a_ring_too_small_for_the_longest_hit_is_refused(kit: Kit) -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        DryRing([np.zeros(1000, np.float32)], kit)


# -- the offline engine ----------------------------------------------------------------------


def test_a_kick_starts_on_its_exact_sample(tmp_path: Path) -> None:
    engine = OfflineEngine(start=12.5)
    # Kicks 0.75 s apart or more (each rings 0.65 s), starting inside, on and at the end
    # of the server's 256-sample blocks.
    positions = [12345, 250 * BS, 420 * BS + 255, 150_007]
    engine.schedule([Hit(12.5 + (p + 0.4) / SR, 1, Drum.KICK, 127) for p in positions])
    out = render(tmp_path, engine, 4.0)
    sounding = np.abs(out).max(axis=1) > 0.0
    assert int(np.argmax(sounding)) == positions[0]
    for p in positions:
        assert not sounding[p - 1000 : p].any() and np.all(np.abs(out[p]) > 1e-3), p
    np.testing.assert_allclose(engine.render_array(4.0), out, atol=2.0**-23)  # the same, in memory


def test_a_bar_plays_its_onsets_within_a_millisecond(tmp_path: Path) -> None:
    start, bpm = 1000.0, 100.0
    hits = rock_bar(start + 0.25, bpm)
    engine = OfflineEngine(start=start)
    engine.schedule(hits)
    out = render(tmp_path, engine, 3.2)
    expected = np.array(sorted({round((h.time - start) * SR) for h in hits}))
    found = onsets(out, SR)
    assert len(found) == len(expected) == 8  # the bar's eighth notes
    errors = found - expected
    assert np.abs(errors).max() <= MS, errors


def test_the_onset_detector_sees_a_step_two_milliseconds_late(tmp_path: Path) -> None:
    step = 60.0 / 100.0 / 4
    hits = [
        Hit(h.time + 0.002, h.owner, h.drum, h.velocity)
        if round((h.time - 0.25) / step) == 4
        else h
        for h in rock_bar(0.25, 100.0)
    ]
    engine = OfflineEngine()
    engine.schedule(hits)
    found = onsets(render(tmp_path, engine, 3.0), SR)
    grid = np.array([round((0.25 + 2 * i * step) * SR) for i in range(8)])
    errors = found - grid
    assert len(found) == 8 and np.abs(errors[2] - 2 * MS) <= MS // 2  # seen, where it is
    assert np.abs(np.delete(errors, 2)).max() <= MS


def test_eight_loud_channels_never_clip(tmp_path: Path) -> None:
    engine = OfflineEngine()
    loud = (Drum.KICK, Drum.SNARE, Drum.CRASH, Drum.LOW_TOM, Drum.OPEN_HAT)
    engine.schedule(
        [Hit(0.1 + s * 0.125, o, d, 127) for o in range(1, 9) for s in range(12) for d in loud]
    )
    info = engine.render(tmp_path / "loud.wav", 2.2)
    out, _ = read_wav(tmp_path / "loud.wav")
    assert not np.isnan(out).any()
    assert 20 * math.log10(np.abs(out).max()) <= -0.3
    assert np.abs(out).max() <= CEILING + 2.0**-23
    assert info.peak_dbfs <= -0.5 + 1e-6
    assert -16.0 < info.rms_dbfs < -6.0  # loud: the limiter at work, not silence
    assert info.ceiling_samples < 0.001 * info.frames  # the limiter did it, not the clip


def test_a_groove_of_three_layers_has_sensible_levels(tmp_path: Path) -> None:
    engine = OfflineEngine()
    hits = rock_bar(0.0, 120.0, owner=1) + rock_bar(2.0, 120.0, owner=1)
    hits += [Hit(s * 0.25, 2, Drum.RIDE, 80) for s in range(16)]
    hits += [
        Hit(3.5 + s * 0.125, 3, d, 100)
        for s, d in enumerate((Drum.HIGH_TOM, Drum.MID_TOM, Drum.LOW_TOM))
    ]
    hits += [Hit(0.0, 3, Drum.CRASH, 110)]
    engine.schedule(hits)
    info = engine.render(tmp_path / "groove.wav", 5.0)
    assert -12.0 < info.peak_dbfs < -1.5  # loud enough, below the limiter
    assert -30.0 < info.rms_dbfs < -14.0
    assert info.ceiling_samples == 0 and info.hits == len(hits)


def test_velocity_changes_the_level(tmp_path: Path) -> None:
    engine = OfflineEngine()
    engine.schedule([Hit(0.1, 1, Drum.SNARE, 120), Hit(1.1, 1, Drum.SNARE, 40)])
    out = render(tmp_path, engine, 2.0)
    loud, soft = out[round(0.1 * SR) : round(0.6 * SR)], out[round(1.1 * SR) : round(1.6 * SR)]
    assert db(loud) - db(soft) > 12.0  # (120/40) ** 1.7 is 16 dB, less the soft hit's darkness


@pytest.mark.parametrize(("owner", "pan"), [(1, -1.0), (1, 1.0), (1, 0.0), (2, 0.0), (3, 0.5)])
def test_pan_moves_energy_between_channels(tmp_path: Path, owner: int, pan: float) -> None:
    engine = OfflineEngine()
    engine.set_channel(owner, 16000.0, 1.0, pan)
    engine.schedule([Hit(0.05, owner, Drum.SNARE, 110)])
    out = render(tmp_path, engine, 0.6)
    left, right = db(out[:, 0]), db(out[:, 1])
    expected_left, expected_right = pan_gains(channel_pan(character(owner).home_pan, pan))
    if expected_right == 0.0 or expected_left == 0.0:
        assert abs(left - right) > 100.0  # the other side is silent
        assert (left > right) == (expected_left > 0.0)
    else:
        assert left - right == pytest.approx(
            20 * math.log10(expected_left / expected_right), abs=0.1
        )


def test_the_cutoff_changes_the_spectrum(tmp_path: Path) -> None:
    def high_band_db(cutoff: float) -> float:
        engine = OfflineEngine()
        engine.set_channel(1, cutoff, 1.0, 0.0)
        engine.schedule([Hit(0.05 + 0.25 * i, 1, Drum.CLOSED_HAT, 110) for i in range(4)])
        out = render(tmp_path, engine, 1.2, f"cut{cutoff:.0f}.wav").mean(axis=1)
        power = np.abs(np.fft.rfft(out)) ** 2
        freqs = np.fft.rfftfreq(len(out), 1.0 / SR)
        return 10 * math.log10(float(power[freqs > 4000.0].sum()))

    assert high_band_db(16000.0) - high_band_db(500.0) > 40.0


def test_channel_changes_glide_without_clicks(tmp_path: Path) -> None:
    def crash(change: bool) -> np.ndarray:
        engine = OfflineEngine()
        engine.schedule([Hit(0.05, 1, Drum.CRASH, 120)])
        if change:
            engine.advance_to(0.5)
            engine.set_channel(1, 16000.0, 0.0, 0.0)
        return render(tmp_path, engine, 1.0, f"glide{change}.wav")[:, 0]

    steady, faded = crash(False), crash(True)
    frame = 2 * MS  # 2 ms frames from 0.48 s
    at = round(0.48 * SR)
    ratio = np.array(
        [
            np.sqrt(np.mean(faded[i : i + frame] ** 2) / np.mean(steady[i : i + frame] ** 2))
            for i in range(at, at + 40 * frame, frame)
        ]
    )
    assert np.all(ratio[:7] > 0.99)  # untouched until the change's block
    assert np.all(np.diff(ratio) <= 1e-3)  # only ever down
    assert np.max(-np.diff(ratio)) < 0.12  # no step: a 40 ms glide
    assert 0.3 < ratio[np.searchsorted(np.arange(40) * 2, 32)] < 0.9  # half way 12 ms in
    assert np.all(ratio[np.arange(40) * 2 >= 70] < 1e-3)  # silent 50 ms after the change


def test_hits_before_the_engines_clock_are_dropped_and_time_runs_forward(tmp_path: Path) -> None:
    engine = OfflineEngine(start=5.0)
    engine.advance_to(6.0)
    engine.schedule([Hit(5.9, 1, Drum.KICK, 100), Hit(6.5, 1, Drum.KICK, 100)])
    assert engine.now() == 6.0 and engine.dropped == 1
    with pytest.raises(ValueError, match="the clock runs forward"):
        engine.advance_to(5.5)
    info = engine.render(tmp_path / "late.wav", 2.0)
    assert (info.hits, info.dropped) == (1, 1)
    out, _ = read_wav(tmp_path / "late.wav")
    assert int(np.nonzero(np.abs(out).max(axis=1))[0][0]) == round(1.5 * SR)


@pytest.mark.parametrize(
    ("hit", "message"),
    [
        (Hit(0.1, 1, 9, 100), "drum must be in range 0..8, got 9"),
        (Hit(0.1, 1, 0, 0), "velocity must be in range 1..127, got 0"),
        (Hit(0.1, 1, 0, 128), "velocity must be in range 1..127, got 128"),
        (Hit(float("nan"), 1, 0, 100), "hit time must be finite, got nan"),
    ],
)
def test_bad_hits_are_refused_at_the_edge(hit: Hit, message: str) -> None:
    for engine in (OfflineEngine(), SilentEngine(clock=lambda: 0.0)):
        with pytest.raises(ValueError, match=message):
            engine.schedule([hit])
    with pytest.raises(ValueError, match="gain must be finite, got inf"):
        OfflineEngine().set_channel(1, 1000.0, float("inf"), 0.0)


# -- the real-time engine -------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_no_sound_device_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pyo = audio_engine._pyo()
    monkeypatch.setattr(pyo, "pa_count_devices", lambda: 0)
    with pytest.raises(AudioDeviceError, match=r"^no sound device: portaudio finds none"):
        RealtimeEngine()
    # Nothing was booted and nothing is held: an offline render still works.
    engine = OfflineEngine()
    engine.schedule([Hit(0.01, 1, Drum.KICK, 100)])
    assert engine.render(tmp_path / "after.wav", 0.2).hits == 1


def test_devices_are_checked_before_booting() -> None:
    def fake(count: int, outputs: dict[int, str], default: int = 0) -> SimpleNamespace:
        return SimpleNamespace(
            pa_count_devices=lambda: count,
            pa_get_output_devices=lambda: (list(outputs.values()), list(outputs)),
            pa_get_default_output=lambda: default,
            pa_get_devices_infos=lambda: (
                {},
                {i: {"name": n, "latency": 0.0116} for i, n in outputs.items()},
            ),
        )

    check = audio_engine._check_device
    assert check(fake(2, {3: "speakers", 5: "hdmi"}, default=5), None) == (5, 0.0116)
    assert check(fake(2, {3: "speakers"}, default=-1), None) == (3, 0.0116)
    with pytest.raises(
        AudioDeviceError, match=r"no sound output device 7; output devices: 3 \(speakers\)"
    ):
        check(fake(1, {3: "speakers"}), 7)
    with pytest.raises(AudioDeviceError, match="finds only inputs"):
        check(fake(1, {}), None)


def test_auto_plays_silently_without_a_device(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(audio_engine._pyo(), "pa_count_devices", lambda: 0)
    with caplog.at_level(logging.WARNING, logger="client.audio_engine"):
        engine = open_engine("auto")
    assert isinstance(engine, SilentEngine)
    assert (
        "no sound device: portaudio finds none" in caplog.text and "playing silently" in caplog.text
    )
    assert isinstance(open_engine("offline"), OfflineEngine)
    assert isinstance(open_engine("silent"), SilentEngine)
    with pytest.raises(ValueError, match="engine kind must be"):
        open_engine("loud")  # type: ignore[arg-type]


def run_blocks(
    engine: RealtimeEngine, clock: FakeClock, start: float, blocks: Sequence[int]
) -> None:
    """Step the manual server as a sound card would call it: block k at start + k blocks."""
    for k in blocks:
        clock.now = start + k * BS / SR
        engine.server.process()
        engine.tick()


def test_the_realtime_engine_plays_a_hit_on_time(tmp_path: Path) -> None:
    start = 250.0
    clock = FakeClock(start)
    engine = RealtimeEngine(buffer_size=BS, clock=clock, backend="manual", channels=2)
    try:
        assert engine.output_latency == 2 * BS / SR  # no device to ask
        engine.output_latency, engine.offset = 0.010, 0.005
        engine.server.recordOptions(
            dur=-1, filename=str(tmp_path / "rt.wav"), fileformat=0, sampletype=1
        )
        engine.server.recstart()
        run_blocks(engine, clock, start, range(0, 20))
        assert engine.now() == clock.now
        heard = start + 0.3 + 17.3 / SR  # 180 ms ahead of the stream
        engine.schedule([Hit(heard, 1, Drum.KICK, 127), Hit(clock.now - 0.001, 1, Drum.KICK, 127)])
        assert engine.dropped == 1  # the second was already past
        run_blocks(engine, clock, start, range(20, 80))
        engine.server.recstop()
        # With the stream's origin at `start`, sample s is heard at start + s / SR + 15 ms.
        played, _ = read_wav(tmp_path / "rt.wav")
        first = int(np.nonzero(np.abs(played).max(axis=1) > 0)[0][0])
        assert first == round((heard - 0.015 - start) * SR)
        with pytest.raises(AudioDeviceError, match="another audio engine is running"):
            OfflineEngine().render(tmp_path / "busy.wav", 0.1)
        assert not (tmp_path / "busy.wav").exists()
    finally:
        engine.close()
    engine.close()  # twice is fine


def test_the_realtime_engine_shares_its_channels_when_more_owners_play(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(0.0)
    engine = RealtimeEngine(buffer_size=BS, clock=clock, backend="manual", channels=2)
    try:
        run_blocks(engine, clock, 0.0, range(4))
        with caplog.at_level(logging.WARNING, logger="client.audio_engine"):
            for owner in (1, 2, 3):
                engine.set_channel(owner, 2000.0, 0.5, 0.0)
        assert "more than 2 layers: owner 3 takes owner 1's channel" in caplog.text
        engine.schedule([Hit(0.2, owner, Drum.SNARE, 90) for owner in (2, 3)])
        run_blocks(engine, clock, 0.0, range(4, 8))
        assert engine.dropped == 0
    finally:
        engine.close()


# -- the silent engine ----------------------------------------------------------------------


def test_the_silent_engine_records_what_it_was_asked_to_play() -> None:
    clock = FakeClock(10.0)
    engine = SilentEngine(clock=clock)
    early, on_time = Hit(9.9, 1, Drum.KICK, 100), Hit(10.2, 2, Drum.RIDE, 70)
    engine.schedule([early, on_time])
    assert engine.hits == [on_time] and engine.dropped == [early]
    clock.now = 10.1
    engine.set_channel(2, 50.0, 1.5, -0.3)
    settings = engine.channels[2]
    assert (settings.cutoff_hz, settings.gain, settings.pan) == (300.0, 1.0, -0.3)  # clamped
    assert engine.changes == [(10.1, 2, settings)]
    assert engine.now() == 10.1 and engine.output_latency == 0.0 and engine.offset == 0.0
    engine.close()
    assert engine.closed
