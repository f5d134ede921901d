"""The drum kit: nine drums synthesized by this module, and how a hit of each is played.

The kit is made here, not downloaded: every drum is a few lines of synthesis with
seeded noise, written once by :func:`build` into ``assets/kit/*.wav`` (``python -m
client.kit --out-dir assets/kit``; mono, 44.1 kHz, 16-bit) and read back by
:meth:`Kit.load`. ``tests/client/test_kit.py`` checks the shipped files are what the
code makes.

- kick: a sine swept 160 -> 48 Hz, a noise click, a little saturation;
- snare: two tuned body modes and band-passed noise (the wires), a crack on top;
- closed and open hat: six square waves at the TR-808's inharmonic cymbal
  frequencies plus noise, high-passed, a brighter "chick" first; short and long decays;
- low, mid and high tom: swept sines at 92, 128 and 175 Hz with a second membrane
  mode (x1.59) and a touch of noise;
- crash: bright noise and thirty inharmonic partials with a long decay;
- ride: a quieter wash, a stick tick and a bell ping of four inharmonic partials.

Playing a hit (:meth:`Kit.voice`) is pure numpy and shared by every audio engine:
the level follows velocity as ``(v / 127) ** 1.7`` and a softer hit is darker (a
blend towards a low-passed copy of the drum); hats and toms get a light room (a
short synthetic impulse response, convolved once per drum, as PoseLoops did with a
drum-room convolver on those pads); and each layer owner has a voice character
(:func:`character`): the kit a little sharper or flatter, a little darker, and a
home position in the stereo field, so that stacked layers can be told apart.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.drums import MAX_VELOCITY, Drum

logger = logging.getLogger(__name__)

KIT_DIR = Path(__file__).resolve().parent.parent / "assets" / "kit"
SAMPLE_RATE = 44100
SAMPLE_BITS = 16
FILE_NAMES: Mapping[Drum, str] = {drum: f"{drum.name.lower()}.wav" for drum in Drum}

VELOCITY_EXPONENT = 1.7  # level = (v / 127) ** 1.7: v=40 is 16 dB below v=120
# Soft hits lean towards a dark copy of the drum: low-passed at half the drum's own
# spectral centroid (so a hat darkens within its band, a snare within its), at least 1 kHz.
DARK_CENTROID_SHARE = 0.5
DARK_MIN_HZ = 1000.0
DARK_SHARE = 0.6  # how much of the dark copy the softest hit is
ROOM_SECONDS = 0.5
ROOM_RT60 = 0.4  # seconds for the room's tail to fall 60 dB: a small, dry drum room
ROOM_SEND: Mapping[Drum, float] = {
    Drum.CLOSED_HAT: 0.2,
    Drum.OPEN_HAT: 0.2,
    Drum.LOW_TOM: 0.2,
    Drum.MID_TOM: 0.2,
    Drum.HIGH_TOM: 0.2,
}

# The TR-808's six cymbal oscillators (Hz): square waves whose sum sounds metallic.
METAL_HZ = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)

# Seeds per drum, so that changing one drum never changes another's noise.
_SEEDS: Mapping[Drum, int] = {drum: 1000 + int(drum) for drum in Drum}
_ROOM_SEED = 2000


class KitError(Exception):
    """The kit's files are missing or unreadable; the message says how to rebuild them."""


# -- synthesis helpers -----------------------------------------------------------


def _times(seconds: float, sr: int) -> np.ndarray:
    return np.arange(round(seconds * sr), dtype=np.float64) / sr


def _noise(n: int, rng: np.random.Generator) -> np.ndarray:
    # Uniform doubles: the plainest thing PCG64 makes, the same on every platform.
    return rng.random(n) * 2.0 - 1.0


def _band(
    x: np.ndarray, sr: int, low: float | None, high: float | None, order: int = 2
) -> np.ndarray:
    """``x`` through Butterworth-shaped high- and low-pass magnitudes (zero phase, via FFT).

    Only ever used on stationary noise and tones before their envelope is applied,
    so the circular, zero-phase filtering leaves no trace of its own.
    """
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / sr)
    gain = np.ones_like(freqs)
    if low is not None:
        with np.errstate(divide="ignore"):
            gain /= np.sqrt(1.0 + (low / np.maximum(freqs, 1e-9)) ** (2 * order))
    if high is not None:
        gain /= np.sqrt(1.0 + (freqs / high) ** (2 * order))
    return np.fft.irfft(spectrum * gain, len(x))


def _sweep(
    t: np.ndarray, start_hz: float, end_hz: float, tau: float, phase: float = 0.0
) -> np.ndarray:
    """A sine whose pitch falls exponentially from ``start_hz`` to ``end_hz`` (time constant
    ``tau``): the phase is the frequency's closed-form integral."""
    cycles = end_hz * t + (start_hz - end_hz) * tau * (1.0 - np.exp(-t / tau))
    return np.sin(2.0 * math.pi * cycles + phase)


def _decay(t: np.ndarray, tau: float, attack: float = 0.0) -> np.ndarray:
    """An exponential decay after a linear attack of ``attack`` seconds that starts above
    zero, so every drum's first sample is already sounding."""
    env = np.exp(-t / tau)
    if attack > 0.0:
        env *= np.minimum(1.0, (t + 0.25 * attack) / (1.25 * attack))
    return env


def _metal(t: np.ndarray, rng: np.random.Generator, ratio: float = 1.0) -> np.ndarray:
    phases = rng.random(len(METAL_HZ)) * 2.0 * math.pi
    squares = [
        np.sign(np.sin(2.0 * math.pi * hz * ratio * t + p))
        for hz, p in zip(METAL_HZ, phases, strict=True)
    ]
    return np.asarray(np.sum(squares, axis=0) / len(METAL_HZ))


def _finish(x: np.ndarray, sr: int, peak: float, drive: float = 0.0) -> np.ndarray:
    """Saturate a little (``drive``), fade the last fifth out, scale to ``peak``."""
    if drive > 0.0:
        x = np.tanh(drive * x) / math.tanh(drive)
    fade = len(x) // 5
    x = x.copy()
    x[len(x) - fade :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, math.pi, fade))
    return x * (peak / float(np.max(np.abs(x))))


# -- the nine drums ----------------------------------------------------------------


def _kick(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _times(0.65, sr)
    body = _sweep(t, 160.0, 48.0, 0.035, phase=0.35) * _decay(t, 0.12, attack=0.0015)
    click = _band(_noise(len(t), rng), sr, 1500.0, 9000.0) * _decay(t, 0.004)
    return _finish(body + 0.6 * click / np.max(np.abs(click[:200])), sr, 0.9, drive=1.6)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _times(0.55, sr)
    body = 0.7 * _sweep(t, 240.0, 190.0, 0.015, phase=0.5) * _decay(t, 0.09, 0.001)
    body += 0.35 * _sweep(t, 420.0, 340.0, 0.015, phase=1.1) * _decay(t, 0.06, 0.001)
    wires = _band(_noise(len(t), rng), sr, 1200.0, 10000.0)
    wires *= 0.55 * _decay(t, 0.03, 0.0008) + 0.35 * _decay(t, 0.1, 0.0008)
    crack = _band(_noise(len(t), rng), sr, 400.0, 6000.0) * _decay(t, 0.005)
    wires /= np.max(np.abs(wires))
    crack /= np.max(np.abs(crack))
    return _finish(body + 0.9 * wires + 0.4 * crack, sr, 0.85, drive=1.3)


def _hat(sr: int, rng: np.random.Generator, seconds: float, tau: float, peak: float) -> np.ndarray:
    t = _times(seconds, sr)
    metal = _band(_metal(t, rng), sr, 7000.0, None, order=3)
    air = _band(_noise(len(t), rng), sr, 8000.0, 16000.0)
    tone = metal / np.max(np.abs(metal)) + 0.45 * air / np.max(np.abs(air))
    # The stick's "chick": a brighter burst over the first few milliseconds.
    env = _decay(t, tau, 0.0003) * (1.0 + 1.5 * _decay(t, 0.004))
    return _finish(tone * env, sr, peak)


def _tom(sr: int, rng: np.random.Generator, hz: float, tau: float, seconds: float) -> np.ndarray:
    t = _times(seconds, sr)
    body = _sweep(t, 1.6 * hz, hz, 0.03, phase=0.4) * _decay(t, tau, 0.001)
    body += (
        0.25 * _sweep(t, 1.59 * 1.5 * hz, 1.59 * hz, 0.025, phase=1.0) * _decay(t, 0.4 * tau, 0.001)
    )
    stick = _band(_noise(len(t), rng), sr, 200.0, 3000.0) * _decay(t, 0.012)
    return _finish(body + 0.25 * stick / np.max(np.abs(stick)), sr, 0.8, drive=1.2)


def _partials(
    t: np.ndarray,
    rng: np.random.Generator,
    count: int,
    low: float,
    high: float,
    taus: tuple[float, float],
) -> np.ndarray:
    hz = np.exp(rng.uniform(math.log(low), math.log(high), count))
    tau = rng.uniform(*taus, count)
    phase = rng.random(count) * 2.0 * math.pi
    amp = rng.uniform(0.5, 1.0, count)
    out = np.zeros_like(t)
    for f, d, p, a in zip(hz, tau, phase, amp, strict=True):
        out += a * np.sin(2.0 * math.pi * f * t + p) * np.exp(-t / d)
    return out / count


def _crash(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _times(2.8, sr)
    wash = _band(_noise(len(t), rng), sr, 2500.0, 15000.0)
    wash = wash / np.max(np.abs(wash)) * (0.75 * _decay(t, 0.55, 0.002) + 0.6 * _decay(t, 0.05))
    metal = _band(_metal(t, rng, ratio=1.9), sr, 3000.0, None) * _decay(t, 0.45, 0.002)
    shimmer = _partials(t, rng, 30, 500.0, 11000.0, (0.3, 0.6))
    tone = wash + 0.35 * metal / np.max(np.abs(metal)) + 2.0 * shimmer
    return _finish(tone, sr, 0.6)


def _ride(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = _times(2.4, sr)
    wash = _band(_noise(len(t), rng), sr, 4000.0, 12000.0)
    wash = 0.15 * wash / np.max(np.abs(wash)) * _decay(t, 0.45, 0.001)
    metal = _band(_metal(t, rng, ratio=2.6), sr, 5000.0, None)
    metal = 0.2 * metal / np.max(np.abs(metal)) * _decay(t, 0.4, 0.001)
    bell = np.zeros_like(t)
    for hz, tau, amp in (
        (620.0, 0.5, 1.0),
        (1470.0, 0.42, 0.7),
        (2390.0, 0.35, 0.5),
        (3310.0, 0.3, 0.35),
    ):
        bell += amp * np.sin(2.0 * math.pi * hz * t + 0.3) * _decay(t, tau, 0.0008)
    tick = _band(_noise(len(t), rng), sr, 4000.0, None) * _decay(t, 0.006)
    tone = wash + metal + 0.25 * bell / 2.55 + 0.5 * tick / np.max(np.abs(tick))
    return _finish(tone, sr, 0.5)


def synthesize(drum: Drum, sr: int = SAMPLE_RATE) -> np.ndarray:
    """One drum, as float64 samples at full velocity (peak below 1)."""
    rng = np.random.default_rng(_SEEDS[drum])
    match drum:
        case Drum.KICK:
            return _kick(sr, rng)
        case Drum.SNARE:
            return _snare(sr, rng)
        case Drum.CLOSED_HAT:
            return _hat(sr, rng, 0.2, 0.035, 0.5)
        case Drum.OPEN_HAT:
            return _hat(sr, rng, 1.1, 0.2, 0.5)
        case Drum.LOW_TOM:
            return _tom(sr, rng, 92.0, 0.2, 1.05)
        case Drum.MID_TOM:
            return _tom(sr, rng, 128.0, 0.17, 0.9)
        case Drum.HIGH_TOM:
            return _tom(sr, rng, 175.0, 0.14, 0.75)
        case Drum.CRASH:
            return _crash(sr, rng)
        case Drum.RIDE:
            return _ride(sr, rng)
    raise ValueError(f"no such drum: {drum!r}")


def room_impulse(sr: int = SAMPLE_RATE) -> np.ndarray:
    """A small drum room's impulse response (no direct sound): a few early reflections,
    then a dark noise tail falling 60 dB in ``ROOM_RT60``; unit energy."""
    rng = np.random.default_rng(_ROOM_SEED)
    t = _times(ROOM_SECONDS, sr)
    tail = _band(_noise(len(t), rng), sr, 150.0, 4500.0, order=1)
    tail *= np.exp(-t * math.log(1000.0) / ROOM_RT60) * np.clip((t - 0.006) / 0.012, 0.0, 1.0)
    ir = tail / np.max(np.abs(tail)) * 0.5
    for ms, gain in (
        (3.1, 0.7),
        (5.3, -0.5),
        (7.9, 0.45),
        (11.2, -0.35),
        (13.7, 0.3),
        (17.3, -0.25),
    ):
        ir[round(ms * 0.001 * sr)] += gain
    return np.asarray(ir / math.sqrt(float(np.sum(ir**2))))


# -- WAV files ------------------------------------------------------------------------


def to_pcm(x: np.ndarray, bits: int) -> bytes:
    """Float samples (``[n]`` or ``[n, channels]``, -1..1) as little-endian PCM bytes."""
    if bits not in (16, 24):
        raise ValueError(f"bits must be 16 or 24, got {bits}")
    full = 2 ** (bits - 1)
    ints = np.clip(np.round(np.asarray(x, dtype=np.float64) * full), -full, full - 1).astype("<i4")
    if bits == 16:
        return bytes(ints.astype("<i2").tobytes())
    return np.ascontiguousarray(ints.reshape(-1, 1).view(np.uint8)[:, :3]).tobytes()


def from_pcm(data: bytes, bits: int, channels: int) -> np.ndarray:
    """PCM bytes as float64 samples ``[n, channels]``."""
    if bits == 16:
        ints = np.frombuffer(data, dtype="<i2").astype(np.int32)
    elif bits == 24:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = raw[:, 0] | raw[:, 1] << 8 | raw[:, 2] << 16
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
    else:
        raise ValueError(f"only 16- and 24-bit PCM is read here, got {bits}-bit")
    return np.asarray(ints.reshape(-1, channels).astype(np.float64) / 2 ** (bits - 1))


def write_wav(path: Path, samples: np.ndarray, sr: int, bits: int = SAMPLE_BITS) -> None:
    """Write ``[n]`` (mono) or ``[n, channels]`` float samples as a PCM WAV file."""
    frames = samples.reshape(len(samples), -1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(bits // 8)
        out.setframerate(sr)
        out.writeframes(to_pcm(frames, bits))


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16- or 24-bit PCM WAV file as float64 ``[n, channels]`` and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        channels, width, sr = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        data = wav.readframes(wav.getnframes())
    return from_pcm(data, width * 8, channels), sr


def build(out_dir: Path = KIT_DIR) -> list[Path]:
    """Synthesize every drum and write it to ``out_dir``; the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for drum in Drum:
        path = out_dir / FILE_NAMES[drum]
        write_wav(path, synthesize(drum), SAMPLE_RATE)
        written.append(path)
    return written


# -- playing the kit -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Character:
    """How one layer owner's kit differs from the others'."""

    semitones: float  # the whole kit tuned up or down
    darkness: float  # 0..1: a share of the dark copy mixed into every hit
    home_pan: float  # -1..1: where the layer sits when its player stands centred


# Owners are numbered from 1 in a room: the first sits in the middle, the next ones
# alternate left and right, further out, each kit tuned a little differently.
CHARACTERS: tuple[Character, ...] = (
    Character(0.0, 0.0, 0.0),
    Character(0.7, 0.1, -0.45),
    Character(-0.7, 0.0, 0.45),
    Character(1.3, 0.2, -0.75),
    Character(-1.2, 0.1, 0.75),
    Character(0.35, 0.25, -0.25),
    Character(-0.45, 0.2, 0.25),
    Character(1.0, 0.3, -0.9),
)


def character(owner: int) -> Character:
    """The voice character of a layer owner (owner ids count from 1)."""
    return CHARACTERS[(owner - 1) % len(CHARACTERS)]


def velocity_gain(velocity: int) -> float:
    """The level of a hit, 0..1, for a MIDI velocity 1..127."""
    return float((min(max(velocity, 0), MAX_VELOCITY) / MAX_VELOCITY) ** VELOCITY_EXPONENT)


def velocity_darkness(velocity: int) -> float:
    """The share of the dark copy in a hit: 0 at full velocity, ``DARK_SHARE`` at 0."""
    return DARK_SHARE * (1.0 - min(max(velocity, 0), MAX_VELOCITY) / MAX_VELOCITY)


def _lowpass(x: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    """A one-pole low-pass (causal, so a hit's attack is never smeared before its start)."""
    # The recursion y[n] = a y[n-1] + (1-a) x[n] is a convolution with (1-a) a^n; a
    # truncated FFT convolution computes it without a Python loop.
    a = math.exp(-2.0 * math.pi * cutoff / sr)
    taps = round(math.log(1e-6) / math.log(a)) + 1
    kernel = (1.0 - a) * a ** np.arange(taps)
    return _convolve(x, kernel)[: len(x)]


def _dark_cutoff(x: np.ndarray, sr: int) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    centroid = float((np.fft.rfftfreq(len(x), 1.0 / sr) * power).sum() / power.sum())
    return max(DARK_MIN_HZ, DARK_CENTROID_SHARE * centroid)


def _convolve(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    n = len(x) + len(kernel) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(kernel, size), size)[:n]


def _resample(x: np.ndarray, ratio: float) -> np.ndarray:
    """``x`` played ``ratio`` times faster (linear interpolation)."""
    if ratio == 1.0:
        return x
    positions = np.arange(0.0, len(x) - 1, ratio)
    return np.asarray(np.interp(positions, np.arange(len(x)), x))


class Kit:
    """The nine drums at one sample rate, and every owner's bright and dark copies."""

    def __init__(self, samples: Mapping[Drum, np.ndarray], sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._dry = {drum: np.asarray(samples[drum], dtype=np.float64) for drum in Drum}
        self._room = room_impulse(sample_rate)
        self._voices: dict[tuple[Drum, Character], tuple[np.ndarray, np.ndarray]] = {}
        # Samples in the longest hit any owner can play: the room rings on after hats
        # and toms, and the lowest-tuned character stretches every drum.
        ringing = max(len(self._dry[d]) + (len(self._room) if d in ROOM_SEND else 0) for d in Drum)
        self.longest = math.ceil(ringing * 2 ** (max(-c.semitones for c in CHARACTERS) / 12)) + 1

    @classmethod
    def load(cls, directory: Path = KIT_DIR, sample_rate: int = SAMPLE_RATE) -> Kit:
        """Read the kit's WAV files (resampled to ``sample_rate`` when it differs)."""
        samples = {}
        for drum in Drum:
            path = directory / FILE_NAMES[drum]
            try:
                data, sr = read_wav(path)
            except FileNotFoundError:
                raise KitError(
                    f"no kit sample at {path}; build the kit with "
                    f"python -m client.kit --out-dir {directory}"
                ) from None
            except (wave.Error, EOFError, ValueError) as exc:
                raise KitError(f"cannot read kit sample {path}: {exc}") from exc
            mono = data.mean(axis=1)
            samples[drum] = mono if sr == sample_rate else _resample(mono, sr / sample_rate)
        return cls(samples, sample_rate)

    @classmethod
    def synthesized(cls, sample_rate: int = SAMPLE_RATE) -> Kit:
        """The kit straight from :func:`synthesize`, no files."""
        return cls({drum: synthesize(drum, sample_rate) for drum in Drum}, sample_rate)

    def dry(self, drum: Drum) -> np.ndarray:
        return self._dry[drum]

    def _copies(self, drum: Drum, char: Character) -> tuple[np.ndarray, np.ndarray]:
        key = (drum, char)
        if key not in self._voices:
            x = self._dry[drum]
            send = ROOM_SEND.get(drum, 0.0)
            if send:
                wet = _convolve(x, self._room)
                x = np.concatenate([x, np.zeros(len(wet) - len(x))]) + send * wet
            x = _resample(x, 2.0 ** (char.semitones / 12.0))
            dark = _lowpass(x, self.sample_rate, _dark_cutoff(self._dry[drum], self.sample_rate))
            bright = x + char.darkness * (dark - x)
            self._voices[key] = (bright.astype(np.float32), dark.astype(np.float32))
        return self._voices[key]

    def voice(self, drum: Drum, velocity: int, char: Character = CHARACTERS[0]) -> np.ndarray:
        """The samples (float32) of one hit: level and brightness follow velocity."""
        bright, dark = self._copies(Drum(drum), char)
        darkness = velocity_darkness(velocity)
        mixed = bright + np.float32(darkness) * (dark - bright) if darkness else bright
        return np.asarray(mixed * np.float32(velocity_gain(velocity)), dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m client.kit",
        description="Synthesize PoseJam's nine-piece drum kit (kick, snare, closed and open "
        "hat, low, mid and high tom, crash, ride) into mono 44.1 kHz 16-bit WAV files.",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=KIT_DIR, help="where to write them (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in build(args.out_dir):
        logger.info("wrote %s (%d bytes)", path, path.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
