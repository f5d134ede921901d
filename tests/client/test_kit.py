"""The drum kit: the shipped files are what the code makes, and each drum sounds like its drum."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from client import kit
from client.kit import (
    CHARACTERS,
    FILE_NAMES,
    KIT_DIR,
    SAMPLE_RATE,
    Kit,
    KitError,
    character,
    read_wav,
    synthesize,
    velocity_gain,
    write_wav,
)
from shared.drums import Drum

SR = SAMPLE_RATE


@pytest.fixture(scope="module")
def shipped() -> Kit:
    return Kit.load()


def spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    power = np.abs(np.fft.rfft(x)) ** 2
    return np.fft.rfftfreq(len(x), 1.0 / SR), power


def share_above(x: np.ndarray, hz: float) -> float:
    freqs, power = spectrum(x)
    return float(power[freqs >= hz].sum() / power.sum())


def centroid(x: np.ndarray) -> float:
    freqs, power = spectrum(x)
    return float((freqs * power).sum() / power.sum())


def strongest_hz(x: np.ndarray, low: float = 20.0, high: float = 2000.0) -> float:
    padded = np.concatenate([x * np.hanning(len(x)), np.zeros(8 * len(x))])
    freqs, power = spectrum(padded)
    band = (freqs >= low) & (freqs <= high)
    return float(freqs[band][np.argmax(power[band])])


def ring_time(x: np.ndarray, drop_db: float = 40.0) -> float:
    """Seconds until the 10 ms RMS falls ``drop_db`` below its loudest."""
    frame = SR // 100
    rms = np.sqrt((x[: len(x) // frame * frame].reshape(-1, frame) ** 2).mean(axis=1))
    loud = rms >= rms.max() * 10 ** (-drop_db / 20)
    return float((np.nonzero(loud)[0][-1] + 1) * frame / SR)


def rms_db(x: np.ndarray) -> float:
    return 20.0 * math.log10(float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2))))


def test_the_shipped_kit_is_what_its_code_makes() -> None:
    assert sorted(p.name for p in KIT_DIR.glob("*.wav")) == sorted(FILE_NAMES.values())
    for drum in Drum:
        data, sr = read_wav(KIT_DIR / FILE_NAMES[drum])
        assert sr == SR and data.shape[1] == 1
        made = synthesize(drum)
        assert data.shape[0] == len(made)
        # 16-bit files: the code's floats round to the same step, or one away.
        assert np.max(np.abs(data[:, 0] - made)) <= 1.0 / 32768, drum.name


def test_the_kit_is_small_and_every_drum_sounds_from_its_first_sample(shipped: Kit) -> None:
    total = sum(p.stat().st_size for p in KIT_DIR.glob("*.wav"))
    assert 300_000 < total < 2_000_000
    for drum in Drum:
        x = shipped.dry(drum)
        assert abs(x[0]) > 0.005, drum.name  # a hit starts on its sample, not after it
        assert 0.3 < np.max(np.abs(x)) < 1.0
        assert abs(x[-1]) < 1e-3  # faded out: no click at the end


def test_synthesis_is_deterministic_and_seeded_per_drum() -> None:
    np.testing.assert_array_equal(synthesize(Drum.SNARE), synthesize(Drum.SNARE))
    assert not np.array_equal(synthesize(Drum.CLOSED_HAT)[:100], synthesize(Drum.OPEN_HAT)[:100])


def test_the_kick_is_low_and_its_pitch_falls(shipped: Kit) -> None:
    x = shipped.dry(Drum.KICK)
    assert share_above(x, 150.0) < 0.1
    early = strongest_hz(x[: round(0.02 * SR)], 30.0, 400.0)
    late = strongest_hz(x[round(0.15 * SR) : round(0.35 * SR)], 30.0, 400.0)
    assert early > 1.5 * late and 40.0 < late < 60.0
    assert share_above(x[: round(0.005 * SR)], 1500.0) > 0.05  # the beater's click


def test_the_snare_has_a_body_and_wires(shipped: Kit) -> None:
    x = shipped.dry(Drum.SNARE)
    assert 150.0 < strongest_hz(x, 100.0, 600.0) < 260.0  # the tuned body
    assert share_above(x, 2000.0) > 0.2  # the wires' noise
    assert 0.2 < ring_time(x) < 0.6


def test_hats_are_bright_and_the_open_one_rings_longer(shipped: Kit) -> None:
    closed, opened = shipped.dry(Drum.CLOSED_HAT), shipped.dry(Drum.OPEN_HAT)
    assert share_above(closed, 5000.0) > 0.9 and share_above(opened, 5000.0) > 0.9
    assert ring_time(closed) <= 0.15
    assert ring_time(opened) > 3 * ring_time(closed)


def test_toms_are_three_pitches_low_to_high(shipped: Kit) -> None:
    pitches = [
        strongest_hz(shipped.dry(d)[round(0.1 * SR) :], 50.0, 400.0)
        for d in (Drum.LOW_TOM, Drum.MID_TOM, Drum.HIGH_TOM)
    ]
    assert pitches == sorted(pitches)
    assert pitches[0] == pytest.approx(92.0, rel=0.05)
    assert pitches[2] == pytest.approx(175.0, rel=0.05)
    assert pitches[1] / pitches[0] > 1.25 and pitches[2] / pitches[1] > 1.25


def test_cymbals_are_bright_and_long_and_the_ride_pings(shipped: Kit) -> None:
    crash, ride = shipped.dry(Drum.CRASH), shipped.dry(Drum.RIDE)
    assert centroid(crash) > 5000.0 and centroid(ride) > 3000.0
    assert ring_time(crash) > 1.5 and ring_time(ride) > 1.5
    assert 600.0 < strongest_hz(ride, 400.0, 1000.0) < 640.0  # the bell


def test_velocity_sets_the_level_and_soft_hits_are_darker(shipped: Kit) -> None:
    assert velocity_gain(127) == 1.0
    assert velocity_gain(64) == pytest.approx((64 / 127) ** 1.7)
    for drum in Drum:
        loud, soft = shipped.voice(drum, 120), shipped.voice(drum, 40)
        assert rms_db(loud) - rms_db(soft) > 12.0, drum.name
    for drum in (Drum.KICK, Drum.SNARE, Drum.CRASH, Drum.RIDE):
        loud, soft = shipped.voice(drum, 120), shipped.voice(drum, 40)
        assert centroid(soft) < 0.9 * centroid(loud), drum.name
    # A hat darkens within its own band: less of its top octave.
    loud, soft = shipped.voice(Drum.CLOSED_HAT, 120), shipped.voice(Drum.CLOSED_HAT, 40)
    assert share_above(soft, 10000.0) < share_above(loud, 10000.0) - 0.03


def test_owners_play_the_kit_in_their_own_voice(shipped: Kit) -> None:
    assert character(1) == CHARACTERS[0] and character(9) == CHARACTERS[0]
    assert len({c.home_pan for c in CHARACTERS}) == len(CHARACTERS)  # each has its place
    first, second = (
        shipped.voice(Drum.HIGH_TOM, 100, character(1)),
        shipped.voice(Drum.HIGH_TOM, 100, character(2)),
    )
    ratio = strongest_hz(second[round(0.1 * SR) :], 50, 400) / strongest_hz(
        first[round(0.1 * SR) :], 50, 400
    )
    assert ratio == pytest.approx(2 ** (character(2).semitones / 12), rel=0.01)


def test_hats_and_toms_get_the_room(shipped: Kit) -> None:
    for drum in (Drum.LOW_TOM, Drum.CLOSED_HAT):
        dry, played = shipped.dry(drum), shipped.voice(drum, 127)
        assert len(played) == len(dry) + round(kit.ROOM_SECONDS * SR) - 1  # it rings on
        room = played[: len(dry)] - dry  # the first owner's kit is the dry kit plus the room
        assert -20.0 < rms_db(room) - rms_db(dry) < -8.0, drum.name  # there, and light
    assert len(shipped.voice(Drum.KICK, 127)) == len(shipped.dry(Drum.KICK))  # no room


def test_wav_files_round_trip(tmp_path: Path) -> None:
    x = np.array([[0.0, -1.0], [0.5, 0.25], [-0.5, 1.0 - 2.0**-23]])
    for bits in (16, 24):
        write_wav(tmp_path / "x.wav", x, 48000, bits)
        back, sr = read_wav(tmp_path / "x.wav")
        assert sr == 48000
        np.testing.assert_allclose(back, x, atol=2.0 ** -(bits - 1))


def test_the_build_command_writes_the_kit(tmp_path: Path) -> None:
    assert kit.main(["--out-dir", str(tmp_path)]) == 0
    for drum in Drum:
        assert (tmp_path / FILE_NAMES[drum]).read_bytes() == (
            KIT_DIR / FILE_NAMES[drum]
        ).read_bytes()


def test_a_missing_kit_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KitError, match=r"no kit sample at .*kick\.wav; build the kit with"):
        Kit.load(tmp_path)


def test_another_sample_rate_resamples_the_kit() -> None:
    at_48k = Kit.load(sample_rate=48000)
    assert len(at_48k.dry(Drum.KICK)) == pytest.approx(
        len(synthesize(Drum.KICK)) * 48000 / SR, abs=2
    )
