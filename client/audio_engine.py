"""Audio engines: the drum kit played in real time, rendered to a file, or not at all.

Three :class:`~client.audio_types.AudioEngine` s share one sound:

- :class:`RealtimeEngine` plays through a sound card with pyo and portaudio;
- :class:`OfflineEngine` renders to a WAV file on a clock the caller moves;
- :class:`SilentEngine` plays nothing and records what it was asked to play.

How a hit reaches the speakers, and why it is split this way:

1. **Dry voices, numpy.** Each layer owner plays on a mix channel, and each channel
   is a ring buffer of dry samples that is pyo table memory shared with numpy
   (``DataTable.getBuffer``). A hit is rendered by :meth:`client.kit.Kit.voice`
   (velocity, the owner's voice character, the room on hats and toms) and added
   into its channel's ring at the exact sample where it must sound, ahead of the
   read position (:class:`DryRing`). pyo reads every ring with one sample counter
   (``Count`` into ``TableIndex``), so a hit lands on its sample exactly, in both
   engines. pyo's own ways to start a sound are not sample-exact: ``play(delay=)``,
   ``Trig`` and ``TrigEnv`` start on block boundaries (measured with 256-sample
   blocks: a hit asked for sample 13353 started at 13312); only an audio-rate
   signal is exact, and the ring is that signal.
2. **The mix, pyo.** Every channel is a strip: a 12 dB/octave Butterworth low-pass
   (300..16000 Hz), a gain and a constant-power pan, each gliding to a new value
   in 40 ms (``SigTo``; the cutoff glides in octaves). The strips sum onto a stereo
   bus, then a look-ahead limiter: a stereo-linked peak detector (``Follower2``,
   instant attack, 150 ms release) drives a 100:1 gain computer above -1.5 dBFS
   (``Compress`` with ``outputAmp``) whose gain glides down in 1 ms, applied to the
   bus delayed 5 ms (``SDelay``), so the gain is down before the peak arrives; a
   hard ceiling at -0.5 dBFS (``Clip``) catches what is left, so nothing ever clips.
   pyo's ``Compress`` alone lets peaks through (measured: +3.7 dBFS out of a bus
   20 dB over): its level follower smooths a peak's first milliseconds away. The
   same code (:class:`_Mix`) builds this for both engines.
3. **Running it.** The real-time engine runs pyo's portaudio server; a feeder
   thread writes hits into the rings as their time comes near and clears what has
   played. The offline engine runs the same graph on pyo's ``manual`` server one
   block at a time: it can apply each channel change at its own block (as the
   real-time server would when it was made), report progress, and write the WAV
   as it goes; it drops the limiter's 5 ms look-ahead from the file's start so
   that file sample ``round((hit.time - start) * sample_rate)`` is where a hit
   begins.

Times: the real-time engine maps local time to pyo's sample count with
:class:`StreamClock` (the earliest block callbacks pin the stream's origin) and
:func:`ring_position`; a hit written at ring position ``p`` is heard at
``origin + (p + limiter delay) / sample_rate + output_latency + offset``.

pyo allows one server per process, and booting its portaudio server with no sound
device crashes the process, so the device is checked first, and a second engine
that needs pyo while one runs is refused (both :class:`AudioDeviceError`).
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import threading
import time
import wave
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from client.audio_types import AudioEngine, Hit
from client.kit import Kit, character, to_pcm
from client.quiet import native_stderr_hidden
from shared.drums import DRUM_COUNT, MAX_VELOCITY, Drum

logger = logging.getLogger(__name__)

SAMPLE_RATE = 44100
BUFFER_SIZE = 256
DEFAULT_CHANNELS = 8  # real-time mix channels: a room's 8 players, or 3 AI and a player
OUTPUT_BITS = 24
GLIDE_SECONDS = 0.04  # every channel change glides this long: no zipper noise, no clicks
CUTOFF_MIN_HZ, CUTOFF_MAX_HZ = 300.0, 16000.0
MASTER_GAIN = 0.7  # three layers of loud hits stay below the limiter's threshold
# The master limiter: a stereo-linked peak detector (instant attack, slow release) feeds a
# gain computer whose gain glides down over the look-ahead, applied to the bus delayed by
# the look-ahead, so the gain is down before the peak arrives.
LIMIT_THRESHOLD_DB = -1.5
LIMIT_RATIO = 100.0
LIMIT_PEAK_SECONDS = 0.0001  # the detector's attack: a peak is seen within a few samples
LIMIT_RELEASE_SECONDS = 0.15
LIMIT_ATTACK_SECONDS = 0.001  # the gain's glide down: 99% of it within the look-ahead
LIMIT_LOOKAHEAD_SECONDS = 0.005
CEILING = 10.0 ** (-0.5 / 20.0)  # the last guard: -0.5 dBFS, below every peak meter's red
MIN_RING = 1 << 19  # per channel, samples: 11.9 s at 44.1 kHz
FEED_SECONDS = 0.01  # how often the real-time feeder writes hits and clears played samples
CLOCK_WINDOW_SECONDS = 2.0  # stream-position readings kept: short, so clock drift cannot pile up
PYO_VERBOSITY = 1 | 4  # errors and warnings

EngineKind = Literal["auto", "realtime", "offline", "silent"]


class AudioDeviceError(Exception):
    """No sound device to play on, or pyo is busy; the message says what to do."""


# -- timing: small pure functions in inverse pairs -----------------------------------


def ring_position(time: float, origin: float, sample_rate: int, latency: float) -> int:
    """The stream sample heard at local ``time`` when sample 0 was heard at
    ``origin + latency``."""
    return round((time - latency - origin) * sample_rate)


def position_time(position: int, origin: float, sample_rate: int, latency: float) -> float:
    """The local time at which stream sample ``position`` is heard: the inverse of
    :func:`ring_position`."""
    return origin + latency + position / sample_rate


def output_latency(reported: float | None, buffer_size: int, sample_rate: int) -> float:
    """Seconds from a computed block to the speaker: the device's own figure when
    portaudio gives one, else two blocks (the one being played and the one computed)."""
    if reported is not None and math.isfinite(reported) and reported > 0.0:
        return reported
    return 2.0 * buffer_size / sample_rate


def channel_pan(home: float, pan: float) -> float:
    """Where a channel sits, -1..1, when its player asks for ``pan`` (-1..1): a centred
    player is heard at the owner's ``home``; the far ends stay the far ends."""
    pan = min(1.0, max(-1.0, pan))
    return home + (1.0 - home) * pan if pan >= 0.0 else home + (1.0 + home) * pan


def player_pan(home: float, position: float) -> float:
    """The pan a player asked for to be heard at ``position``: the inverse of
    :func:`channel_pan`."""
    if position >= home:
        return 0.0 if home == 1.0 else (position - home) / (1.0 - home)
    return 0.0 if home == -1.0 else (position - home) / (1.0 + home)


def pan_gains(position: float) -> tuple[float, float]:
    """Left and right gains at a pan position -1..1: constant power (pyo's ``SPan``
    square-root law: ``left**2 + right**2 == 1``)."""
    right = (min(1.0, max(-1.0, position)) + 1.0) / 2.0
    return math.sqrt(1.0 - right), math.sqrt(right)


def limiter_delay(sample_rate: int) -> int:
    """The limiter's look-ahead in whole samples: how late the master is."""
    return round(LIMIT_LOOKAHEAD_SECONDS * sample_rate)


@dataclass
class StreamClock:
    """Where the audio stream is on the local clock, from readings of pyo's sample count.

    A reading ``(local, computed)`` taken just after the callback that computed the
    block ending at ``computed`` gives ``local - computed / sr`` one block before the
    stream's origin; readings taken later give more. The smallest of recent
    readings, plus one block, is the origin: the local time at which the callback
    of sample 0 would have run, with the least scheduling delay seen.
    """

    sample_rate: int
    buffer_size: int
    window: float = CLOCK_WINDOW_SECONDS
    _readings: deque[tuple[float, float]] = field(default_factory=deque)

    def observe(self, local: float, computed: int) -> None:
        self._readings.append((local, local - computed / self.sample_rate))
        while self._readings and self._readings[0][0] < local - self.window:
            self._readings.popleft()

    @property
    def ready(self) -> bool:
        return bool(self._readings)

    def origin(self) -> float:
        if not self._readings:
            raise ValueError("no stream readings yet")
        return min(r for _, r in self._readings) + self.buffer_size / self.sample_rate


# -- hits and channels ------------------------------------------------------------------


def check_hit(hit: Hit) -> None:
    """Raise ValueError unless ``hit`` is a drum hit an engine can play."""
    if not math.isfinite(hit.time):
        raise ValueError(f"hit time must be finite, got {hit.time}")
    if not 0 <= hit.drum < DRUM_COUNT:
        raise ValueError(f"drum must be in range 0..{DRUM_COUNT - 1}, got {hit.drum}")
    if not 1 <= hit.velocity <= MAX_VELOCITY:
        raise ValueError(f"velocity must be in range 1..{MAX_VELOCITY}, got {hit.velocity}")


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    cutoff_hz: float = CUTOFF_MAX_HZ
    gain: float = 1.0
    pan: float = 0.0  # as the player asked; the channel sits at channel_pan(home, pan)


def channel_settings(cutoff_hz: float, gain: float, pan: float) -> ChannelSettings:
    """Validated settings: finite numbers, clamped to the cutoff, gain and pan ranges."""
    for name, value in (("cutoff_hz", cutoff_hz), ("gain", gain), ("pan", pan)):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    return ChannelSettings(
        min(CUTOFF_MAX_HZ, max(CUTOFF_MIN_HZ, cutoff_hz)),
        min(1.0, max(0.0, gain)),
        min(1.0, max(-1.0, pan)),
    )


@dataclass(order=True)
class _Pending:
    position: int
    seq: int
    strip: int = field(compare=False)
    hit: Hit = field(compare=False)


class DryRing:
    """Per-channel rings of dry samples, written ahead of the stream's read position.

    ``buffers`` are the rings (pyo table memory in an engine, plain arrays in
    tests), all read at ``computed % size`` for stream sample ``computed``.
    :meth:`pump` first clears what has been played, so the ring's next lap starts
    silent, then writes every pending hit whose whole voice fits before the
    not-yet-played samples of the lap ahead. A hit that starts before
    ``computed + margin`` is late and is dropped: its start has been computed already,
    or (with a real-time server computing the next block while this runs, ``margin``
    one block) may be being computed.
    """

    def __init__(self, buffers: Sequence[np.ndarray], kit: Kit, margin: int = 0) -> None:
        self.buffers = list(buffers)
        self.margin = margin
        self.size = len(self.buffers[0])
        if self.size < 2 * kit.longest:
            raise ValueError(f"a ring of {self.size} samples cannot hold {kit.longest}")
        self.kit = kit
        self._pending: list[_Pending] = []
        self._seq = 0
        self._cleared = 0  # stream samples below this are zero in the lap ahead
        self.written = 0
        self.late = 0

    def add(self, position: int, strip: int, hit: Hit) -> None:
        heapq.heappush(self._pending, _Pending(position, self._seq, strip, hit))
        self._seq += 1

    @property
    def pending(self) -> int:
        return len(self._pending)

    def pump(self, computed: int) -> None:
        """Clear up to ``computed`` (the stream samples computed so far) and write hits."""
        end = computed + self.size  # the lap ahead: stream samples computed .. end - 1
        start = max(self._cleared, computed)
        if start < end:
            for buffer in self.buffers:
                for lo, hi in self._spans(start - self.size, end - self.size):
                    buffer[lo:hi] = 0.0
            self._cleared = end
        while self._pending and self._pending[0].position + self.kit.longest <= end:
            item = heapq.heappop(self._pending)
            if item.position < computed + self.margin:
                self.late += 1
                continue
            hit = item.hit
            voice = self.kit.voice(Drum(hit.drum), hit.velocity, character(hit.owner))
            buffer = self.buffers[item.strip]
            done = 0
            for lo, hi in self._spans(item.position, item.position + len(voice)):
                buffer[lo:hi] += voice[done : done + hi - lo]
                done += hi - lo
            self.written += 1

    def _spans(self, start: int, stop: int) -> list[tuple[int, int]]:
        """Ring index ranges of stream samples ``start .. stop - 1`` (at most a lap)."""
        lo, length = start % self.size, min(stop - start, self.size)
        if lo + length <= self.size:
            return [(lo, lo + length)]
        return [(lo, self.size), (0, lo + length - self.size)]


def ring_size(kit: Kit) -> int:
    """Samples per ring: room for the longest voice four times over, a power of two."""
    return max(MIN_RING, 1 << (4 * kit.longest - 1).bit_length())


# -- pyo: the shared mix ----------------------------------------------------------------


def _pyo() -> Any:
    os.environ.setdefault("PYO_GUI_WX", "0")  # no wxPython banner on import
    import pyo

    return pyo


_SERVER_LOCK = threading.Lock()  # pyo allows one server per process


def _claim_server() -> None:
    if not _SERVER_LOCK.acquire(blocking=False):
        raise AudioDeviceError(
            "another audio engine is running in this process (pyo allows one server at a "
            "time): close it first"
        )


class _TableMemory:
    """A pyo table's samples as a numpy array that keeps the table alive.

    ``numpy.asarray(table.getBuffer())`` does not: pyo frees a table's memory and its
    buffer object when the table goes, whoever still looks at them, and the process
    crashes later (seen here as heap corruption at exit). An array made from this
    object holds it, and so the table, as its base.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        view = np.asarray(table.getBuffer())
        self.__array_interface__ = {
            "shape": view.shape,
            "typestr": view.dtype.str,
            "data": (view.ctypes.data, False),
            "version": 3,
        }
        del view


def _shared_array(table: Any) -> np.ndarray:
    """The samples of a pyo table, shared, not copied."""
    return np.asarray(_TableMemory(table))


class _Mix:
    """The pyo graph both engines play: channel strips, the bus, the limiter.

    Build it on a booted server before ``start()``, so that the rings' shared
    read counter starts with the stream's first sample.
    """

    def __init__(self, pyo: Any, channels: int, size: int, sample_rate: int) -> None:
        self._tables = [pyo.DataTable(size=size) for _ in range(channels)]
        self.buffers = [_shared_array(t) for t in self._tables]
        self._counter = pyo.Count(pyo.Trig(), min=0, max=size)
        top = math.log2(CUTOFF_MAX_HZ)
        self._cutoffs = [pyo.SigTo(top, time=GLIDE_SECONDS, init=top) for _ in range(channels)]
        self._gains = [pyo.SigTo(1.0, time=GLIDE_SECONDS, init=1.0) for _ in range(channels)]
        self._pans = [pyo.SigTo(0.5, time=GLIDE_SECONDS, init=0.5) for _ in range(channels)]
        self._strips = []
        for i, table in enumerate(self._tables):
            dry = pyo.TableIndex(table, self._counter)
            filtered = pyo.ButLP(dry, freq=pyo.Pow(2.0, self._cutoffs[i]), mul=self._gains[i])
            self._strips.append(pyo.SPan(filtered, outs=2, pan=self._pans[i]))
        self._bus = pyo.Mix(self._strips, voices=2, mul=MASTER_GAIN)
        self._peak = pyo.Follower2(
            pyo.Max(pyo.Abs(self._bus[0]), comp=pyo.Abs(self._bus[1])),
            risetime=LIMIT_PEAK_SECONDS,
            falltime=LIMIT_RELEASE_SECONDS,
        )
        self._gain = pyo.Compress(
            self._peak,
            thresh=LIMIT_THRESHOLD_DB,
            ratio=LIMIT_RATIO,
            risetime=LIMIT_ATTACK_SECONDS,
            falltime=LIMIT_ATTACK_SECONDS,
            lookahead=0.0,
            knee=0.0,
            outputAmp=True,
        )
        self.delay = limiter_delay(sample_rate)
        # SDelay keeps int(seconds * sr) samples; half a sample more makes that exact.
        self._late = pyo.SDelay(self._bus, delay=(self.delay + 0.5) / sample_rate, maxdelay=0.05)
        self.master = pyo.Clip(self._late * self._gain, min=-CEILING, max=CEILING)

    def set(self, strip: int, settings: ChannelSettings, home: float) -> None:
        self._cutoffs[strip].value = math.log2(settings.cutoff_hz)
        self._gains[strip].value = settings.gain
        self._pans[strip].value = (channel_pan(home, settings.pan) + 1.0) / 2.0


class _Capture:
    """The master's last block, readable from numpy after each ``server.process()``."""

    def __init__(self, pyo: Any, master: Any, buffer_size: int) -> None:
        self._tables = [pyo.DataTable(size=buffer_size) for _ in range(2)]
        self._fills = [pyo.TableFill(master[i], t) for i, t in enumerate(self._tables)]
        self._views = [_shared_array(t) for t in self._tables]

    def block(self) -> np.ndarray:
        return np.stack(self._views, axis=1)


class _Strips:
    """Which mix strip plays which owner: given out in order, the least recently used
    reclaimed when every strip is taken."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._owners: dict[int, int] = {}  # owner -> strip, least recently used first
        self.settings: dict[int, ChannelSettings] = {}

    def strip(self, owner: int) -> tuple[int, bool]:
        """The owner's strip, and whether it was newly given."""
        if owner in self._owners:
            strip = self._owners.pop(owner)
            self._owners[owner] = strip
            return strip, False
        if len(self._owners) < self.count:
            strip = len(self._owners)
        else:
            old = next(iter(self._owners))
            strip = self._owners.pop(old)
            logger.warning(
                "more than %d layers: owner %d takes owner %d's channel", self.count, owner, old
            )
        self._owners[owner] = strip
        return strip, True


# -- the engines ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderInfo:
    path: Path
    frames: int
    sample_rate: int
    hits: int  # hits written into the render
    dropped: int  # hits asked for before the engine's clock, or outside the render
    peak_dbfs: float
    rms_dbfs: float
    ceiling_samples: int  # samples the final ceiling held (0 unless the limiter was overrun)


def _dbfs(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0.0 else -math.inf


class OfflineEngine:
    """Renders to a WAV file on a clock the caller moves.

    The time axis is the caller's local clock: a hit at ``hit.time`` starts at
    sample ``round((hit.time - start) * sample_rate)`` of the file. ``now()`` is
    whatever :meth:`advance_to` last set (``start`` at first), so code that plays
    in real time can drive it with a simulated clock: hits asked for before
    ``now()`` are dropped, and channel changes take effect at the ``now()`` they
    were made. Nothing is rendered until :meth:`render`.
    """

    output_latency = 0.0

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        start: float = 0.0,
        kit: Kit | None = None,
        buffer_size: int = BUFFER_SIZE,
    ) -> None:
        self.sample_rate = sample_rate
        self.offset = 0.0
        self.start = start
        self.buffer_size = buffer_size
        self._kit = kit
        self._now = start
        self._hits: list[Hit] = []
        self._changes: list[tuple[float, int, ChannelSettings]] = []
        self.dropped = 0

    @property
    def kit(self) -> Kit:
        if self._kit is None:
            self._kit = Kit.load(sample_rate=self.sample_rate)
        return self._kit

    def now(self) -> float:
        return self._now

    def advance_to(self, time: float) -> None:
        if time < self._now:
            raise ValueError(f"the clock runs forward: {time} is before {self._now}")
        self._now = time

    def schedule(self, hits: Sequence[Hit]) -> None:
        for hit in hits:
            check_hit(hit)
            if hit.time < self._now:
                self.dropped += 1
            else:
                self._hits.append(hit)

    def set_channel(self, owner: int, cutoff_hz: float, gain: float, pan: float) -> None:
        self._changes.append((self._now, owner, channel_settings(cutoff_hz, gain, pan)))

    def close(self) -> None:
        pass

    def render(
        self,
        path: Path,
        seconds: float,
        progress: Callable[[float], None] | None = None,
    ) -> RenderInfo:
        """Render ``seconds`` from ``start`` into a stereo 24-bit WAV file at ``path``.

        ``progress`` is called with the share done, 0..1, now and then.
        """
        if not (math.isfinite(seconds) and seconds > 0.0):
            raise ValueError(f"seconds must be positive, got {seconds}")
        frames = round(seconds * self.sample_rate)
        peak, energy, ceiling = 0.0, 0.0, 0
        try:
            with wave.open(str(path), "wb") as out:
                out.setnchannels(2)
                out.setsampwidth(OUTPUT_BITS // 8)
                out.setframerate(self.sample_rate)

                def write(block: np.ndarray) -> None:
                    nonlocal peak, energy, ceiling
                    wide = block.astype(np.float64)
                    peak = max(peak, float(np.max(np.abs(wide), initial=0.0)))
                    energy += float(np.sum(wide**2))
                    ceiling += int(np.count_nonzero(np.abs(block) >= np.float32(CEILING)))
                    out.writeframes(to_pcm(wide, OUTPUT_BITS))

                written = self._render(frames, write, progress)
        except BaseException:
            path.unlink(missing_ok=True)  # no half-written file
            raise
        rms = math.sqrt(energy / (2 * frames))
        return RenderInfo(
            path,
            frames,
            self.sample_rate,
            written,
            self.dropped + len(self._hits) - written,
            _dbfs(peak),
            _dbfs(rms),
            ceiling,
        )

    def render_array(self, seconds: float) -> np.ndarray:
        """Render ``seconds`` from ``start`` into memory: float32 ``[frames, 2]``."""
        blocks: list[np.ndarray] = []
        self._render(round(seconds * self.sample_rate), blocks.append, None)
        return np.concatenate(blocks) if blocks else np.zeros((0, 2), np.float32)

    def _render(
        self,
        frames: int,
        sink: Callable[[np.ndarray], None],
        progress: Callable[[float], None] | None,
    ) -> int:
        sr, bs = self.sample_rate, self.buffer_size
        owners = sorted({h.owner for h in self._hits} | {o for _, o, _ in self._changes}) or [1]
        kit = self.kit
        pyo = _pyo()
        _claim_server()
        server = pyo.Server(
            sr=sr, nchnls=2, buffersize=bs, duplex=0, audio="manual", verbosity=PYO_VERBOSITY
        )
        try:
            server.boot()
            mix = _Mix(pyo, len(owners), ring_size(kit), sr)
            capture = _Capture(pyo, mix.master, bs)
            strip_of = {owner: i for i, owner in enumerate(owners)}
            for owner, strip in strip_of.items():
                mix.set(strip, ChannelSettings(), character(owner).home_pan)
            ring = DryRing(mix.buffers, kit)
            for hit in self._hits:
                position = ring_position(hit.time, self.start, sr, self.offset)
                if 0 <= position < frames:
                    ring.add(position, strip_of[hit.owner], hit)
            # A change made at local time t is heard from file sample (t - start) * sr,
            # which the server computes limiter-delay samples later.
            changes = sorted(
                (ring_position(t, self.start, sr, self.offset) + mix.delay, i, owner, settings)
                for i, (t, owner, settings) in enumerate(self._changes)
            )
            server.start()
            blocks = math.ceil((frames + mix.delay) / bs)
            skip, left, at = mix.delay, frames, 0
            report_every = max(1, blocks // 100)
            for block in range(blocks):
                while at < len(changes) and changes[at][0] < (block + 1) * bs:
                    _, _, owner, settings = changes[at]
                    mix.set(strip_of[owner], settings, character(owner).home_pan)
                    at += 1
                ring.pump(block * bs)
                server.process()
                out = capture.block()
                cut = min(skip, bs)
                skip -= cut
                take = min(left, bs - cut)
                if take:
                    sink(out[cut : cut + take].copy())
                    left -= take
                if progress is not None and block % report_every == 0:
                    progress(block / blocks)
            if progress is not None:
                progress(1.0)
            server.stop()
            return ring.written
        finally:
            server.shutdown()
            _SERVER_LOCK.release()


def _check_device(pyo: Any, device: int | None) -> tuple[int, float | None]:
    """The output device to open and the latency portaudio reports for it, in seconds.

    pyo's portaudio server crashes the process when it boots with no device, so
    this runs first and raises :class:`AudioDeviceError` instead.
    """
    with native_stderr_hidden(logger):  # ALSA lists every card it cannot find
        count = pyo.pa_count_devices()
    if count == 0:
        raise AudioDeviceError(
            "no sound device: portaudio finds none (play silently, or render to a file)"
        )
    names, indexes = pyo.pa_get_output_devices()
    if not indexes:
        raise AudioDeviceError("no sound output device: portaudio finds only inputs")
    if device is None:
        device = int(pyo.pa_get_default_output())
        if device not in indexes:
            device = int(indexes[0])
    elif device not in indexes:
        listed = ", ".join(f"{i} ({n})" for i, n in zip(indexes, names, strict=True))
        raise AudioDeviceError(f"no sound output device {device}; output devices: {listed}")
    info = pyo.pa_get_devices_infos()[1].get(device, {})
    latency = info.get("latency")
    return device, float(latency) if isinstance(latency, int | float) else None


class RealtimeEngine:
    """Plays through a sound card: pyo's portaudio server and a feeder thread.

    ``device`` is a portaudio output device index (None: the default);
    ``buffer_size`` samples per block trade latency for safety against dropouts.
    ``backend="manual"`` runs the same engine on pyo's manual server, which
    computes a block only when ``server.process()`` is called and needs no device;
    there is no feeder thread then, and whoever steps the server calls
    :meth:`tick` after each block.
    """

    def __init__(
        self,
        device: int | None = None,
        buffer_size: int = BUFFER_SIZE,
        sample_rate: int = SAMPLE_RATE,
        kit: Kit | None = None,
        channels: int = DEFAULT_CHANNELS,
        clock: Callable[[], float] = time.monotonic,
        backend: Literal["portaudio", "manual"] = "portaudio",
    ) -> None:
        if buffer_size < 16 or buffer_size & (buffer_size - 1):
            raise ValueError(f"buffer_size must be a power of two from 16, got {buffer_size}")
        pyo = _pyo()
        reported = None
        if backend == "portaudio":
            device, reported = _check_device(pyo, device)
        if kit is None:
            kit = Kit.load(sample_rate=sample_rate)
        _claim_server()
        try:
            server = pyo.Server(
                sr=sample_rate,
                nchnls=2,
                buffersize=buffer_size,
                duplex=0,
                audio=backend,
                verbosity=PYO_VERBOSITY,
            )
            if device is not None:
                server.setOutputDevice(device)
            server.boot()
            if not server.getIsBooted():
                server.shutdown()
                raise AudioDeviceError(f"the sound device {device} would not open")
        except BaseException:
            _SERVER_LOCK.release()
            raise
        self.server = server
        self.sample_rate = sample_rate
        self.buffer_size = buffer_size
        self.output_latency = output_latency(reported, buffer_size, sample_rate)
        self.offset = 0.0
        self._clock = clock
        self._lock = threading.Lock()
        self._strips = _Strips(channels)
        self._mix = _Mix(pyo, channels, ring_size(kit), sample_rate)
        self._mix.master.out()
        self._ring = DryRing(self._mix.buffers, kit, margin=buffer_size)
        self._stream = StreamClock(sample_rate, buffer_size)
        self.dropped = 0
        self._closed = False
        server.start()
        self._stop = threading.Event()
        self._feeder: threading.Thread | None = None
        if backend == "portaudio":
            self._feeder = threading.Thread(target=self._feed, name="audio-feeder", daemon=True)
            self._feeder.start()
        logger.info(
            "audio: %d Hz, %d-sample blocks, output latency %.1f ms",
            sample_rate,
            buffer_size,
            1000.0 * self.output_latency,
        )

    def now(self) -> float:
        return self._clock()

    def tick(self) -> None:
        """Read the stream's position, clear what has played, write hits that fit."""
        with self._lock:
            computed = int(self.server.getCurrentTimeInSamples())
            self._stream.observe(self._clock(), computed)
            self._ring.pump(computed)

    def _feed(self) -> None:
        while not self._stop.wait(FEED_SECONDS):
            try:
                self.tick()
            except Exception:  # the feeder must outlive one bad tick, and say why
                logger.exception("audio feeder")

    def schedule(self, hits: Sequence[Hit]) -> None:
        for hit in hits:
            check_hit(hit)
        with self._lock:
            computed = int(self.server.getCurrentTimeInSamples())
            self._stream.observe(self._clock(), computed)
            origin = self._stream.origin()
            latency = self.output_latency + self.offset
            for hit in hits:
                position = ring_position(hit.time, origin, self.sample_rate, latency)
                position -= self._mix.delay
                if position < computed + self.buffer_size:
                    self.dropped += 1
                    continue
                strip, fresh = self._strips.strip(hit.owner)
                if fresh:
                    self._set_strip(strip, hit.owner)
                self._ring.add(position, strip, hit)
            self._ring.pump(computed)

    def set_channel(self, owner: int, cutoff_hz: float, gain: float, pan: float) -> None:
        settings = channel_settings(cutoff_hz, gain, pan)
        with self._lock:
            self._strips.settings[owner] = settings
            strip, _ = self._strips.strip(owner)
            self._set_strip(strip, owner)

    def _set_strip(self, strip: int, owner: int) -> None:
        settings = self._strips.settings.get(owner, ChannelSettings())
        self._mix.set(strip, settings, character(owner).home_pan)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._feeder is not None:
            self._feeder.join()
        try:
            self.server.stop()
            self.server.shutdown()
        finally:
            _SERVER_LOCK.release()


class SilentEngine:
    """Plays nothing; records every hit it was asked to play and every channel change."""

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        clock: Callable[[], float] = time.monotonic,
        output_latency: float = 0.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.output_latency = output_latency
        self.offset = 0.0
        self._clock = clock
        self.hits: list[Hit] = []
        self.dropped: list[Hit] = []
        self.channels: dict[int, ChannelSettings] = {}
        self.changes: list[tuple[float, int, ChannelSettings]] = []
        self.closed = False

    def now(self) -> float:
        return self._clock()

    def schedule(self, hits: Sequence[Hit]) -> None:
        now = self._clock()
        for hit in hits:
            check_hit(hit)
            (self.hits if hit.time >= now else self.dropped).append(hit)

    def set_channel(self, owner: int, cutoff_hz: float, gain: float, pan: float) -> None:
        settings = channel_settings(cutoff_hz, gain, pan)
        self.channels[owner] = settings
        self.changes.append((self._clock(), owner, settings))

    def close(self) -> None:
        self.closed = True


def open_engine(
    kind: EngineKind = "auto",
    *,
    device: int | None = None,
    buffer_size: int = BUFFER_SIZE,
    sample_rate: int = SAMPLE_RATE,
    kit: Kit | None = None,
) -> AudioEngine:
    """An engine of ``kind``; ``auto`` is real-time, or silent (with a warning) when
    there is no sound device to play on."""
    match kind:
        case "realtime":
            return RealtimeEngine(device, buffer_size, sample_rate, kit)
        case "offline":
            return OfflineEngine(sample_rate, kit=kit, buffer_size=buffer_size)
        case "silent":
            return SilentEngine(sample_rate)
        case "auto":
            try:
                return RealtimeEngine(device, buffer_size, sample_rate, kit)
            except AudioDeviceError as exc:
                logger.warning("%s; playing silently", exc)
                return SilentEngine(sample_rate)
    raise ValueError(f"engine kind must be auto, realtime, offline or silent, got {kind!r}")
