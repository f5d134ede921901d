"""What a player sets once and expects remembered, kept as JSON between runs.

:class:`Settings` is the whole of it: the name rooms show, where the body comes
from (a camera, a video file or the demo dancer), the sound output, the latency
offset the tap-along measured, the master volume, the window's size and the
password of a room hosted from the menu. It lives in
``$XDG_CONFIG_HOME/posejam/settings.json`` (``~/.config/posejam/settings.json``
when that is unset), written whole to a temporary file and moved over the old one,
so a crash mid-write leaves the old file or the new one, never half of either.

A file this version cannot use loses nothing: it is moved aside to
``settings.json.bad`` (or ``.bad.2``, ``.bad.3``... when that is taken) and
:attr:`Loaded.problem` says so in one line. Invalid JSON gives the defaults; a
valid object with some bad values keeps the good ones (and is written back
repaired); keys this version does not know are ignored and written back as they
were, for the version that knows them. :func:`parse` and :func:`dump` are pure;
:func:`load` and :func:`save` are the file's thin shell.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from itertools import count
from pathlib import Path
from typing import Any, Literal, get_args

from shared.codec import MAX_NAME_CHARS, MAX_PASSWORD_CHARS

logger = logging.getLogger(__name__)

FILE_NAME = "settings.json"
MAX_FILE_BYTES = 64 * 1024  # a settings file is a few hundred bytes; anything huge is not one
MAX_PATH_CHARS = 240  # a video file's path
MAX_CAMERA = 15  # camera:N for N in 0..MAX_CAMERA
LATENCY_RANGE_MS = (-1000.0, 1000.0)
VOLUME_STEP = 0.05

Source = Literal["camera", "demo", "video"]
SOURCES: tuple[Source, ...] = get_args(Source)  # in the order the screens offer them
SOURCE_LABELS: dict[Source, str] = {
    "camera": "camera",
    "demo": "demo dancer",
    "video": "video file",
}
DEFAULT_DEVICE = "default output"

Device = tuple[int, str]  # a sound output: portaudio's index for it, and its name


class SettingsError(ValueError):
    """A settings file that is not a JSON object at all (nothing in it can be used)."""


@dataclass(frozen=True, slots=True)
class Settings:
    name: str = "Player"  # what the room calls you
    source: Source = "camera"  # where your body comes from
    camera: int = 0  # which camera: N of camera:N
    video: str = ""  # the video file to dance from, when source is video (kept otherwise)
    device: int | None = None  # the sound output (portaudio's index); None: the default
    latency_ms: float = 0.0  # the tap-along calibration's offset: + when you hear late
    volume: float = 1.0  # master volume, 0..1
    fullscreen: bool = False
    password: str = ""  # asked of everyone joining a room you host; "": none

    def __post_init__(self) -> None:
        for item in fields(self):
            if (message := check(item.name, getattr(self, item.name))) is not None:
                raise ValueError(message)
        if (message := check_video(self.source, self.video)) is not None:
            raise ValueError(message)

    @property
    def pose_source(self) -> str:
        """The pose source as :func:`client.pose_source.open_source` takes it."""
        if self.source == "camera":
            return "camera" if self.camera == 0 else f"camera:{self.camera}"
        return "demo" if self.source == "demo" else self.video


def with_pose_source(settings: Settings, spec: str) -> Settings:
    """``settings`` dancing from ``spec`` (``camera``, ``camera:N``, ``demo`` or a video
    file's path): the inverse of :attr:`Settings.pose_source`."""
    if spec == "demo":
        return replace(settings, source="demo")
    head, _, index = spec.partition(":")
    if head == "camera" and (not index or index.isdigit()):
        return replace(settings, source="camera", camera=int(index or 0))
    return replace(settings, source="video", video=spec)


def device_options(devices: Sequence[Device], current: int | None) -> list[int | None]:
    """What the sound output steps through: the default, each device, and ``current``
    when it is not listed (unplugged today: still the player's choice, not lost)."""
    options: list[int | None] = [None, *(index for index, _ in devices)]
    return options if current in options else [*options, current]


def device_label(devices: Sequence[Device], device: int | None) -> str:
    if device is None:
        return DEFAULT_DEVICE
    return next(
        (name for index, name in devices if index == device), f"device {device} (not found)"
    )


# -- each value's check: None when it is fine, else exactly what is wrong -------------


def _text(low: int, high: int) -> Callable[[str, Any], str | None]:
    def check_text(key: str, value: Any) -> str | None:
        # At least ``low`` characters besides spaces: a name of blanks names nobody.
        ok = isinstance(value, str) and len(value) <= high and len(value.strip()) >= low
        if ok and value.isprintable():
            return None
        return f"{key} must be text of {low}..{high} printable characters, got {value!r}"

    return check_text


def _whole(low: int, high: int | None, none_means: str = "") -> Callable[[str, Any], str | None]:
    def check_whole(key: str, value: Any) -> str | None:
        if value is None and none_means:
            return None
        # bool is an int to Python, never a count to a player.
        whole = isinstance(value, int) and not isinstance(value, bool)
        if whole and value >= low and (high is None or value <= high):
            return None
        span = f"in range {low}..{high}" if high is not None else f"{low} or more"
        extra = f", or null for {none_means}" if none_means else ""
        return f"{key} must be a whole number {span}{extra}, got {value!r}"

    return check_whole


def _number(low: float, high: float) -> Callable[[str, Any], str | None]:
    def check_number(key: str, value: Any) -> str | None:
        real = isinstance(value, int | float) and not isinstance(value, bool)
        if real and math.isfinite(value) and low <= value <= high:
            return None
        return f"{key} must be a number in range {low:g}..{high:g}, got {value!r}"

    return check_number


def _one_of(options: Sequence[str]) -> Callable[[str, Any], str | None]:
    def check_one(key: str, value: Any) -> str | None:
        if isinstance(value, str) and value in options:
            return None
        return f"{key} must be one of {', '.join(options)}, got {value!r}"

    return check_one


def _flag(key: str, value: Any) -> str | None:
    return None if isinstance(value, bool) else f"{key} must be true or false, got {value!r}"


CHECKS: dict[str, Callable[[str, Any], str | None]] = {
    "name": _text(1, MAX_NAME_CHARS),
    "source": _one_of(SOURCES),
    "camera": _whole(0, MAX_CAMERA),
    "video": _text(0, MAX_PATH_CHARS),
    "device": _whole(0, None, none_means="the default output"),
    "latency_ms": _number(*LATENCY_RANGE_MS),
    "volume": _number(0.0, 1.0),
    "fullscreen": _flag,
    "password": _text(0, MAX_PASSWORD_CHARS),
}


def check(key: str, value: Any) -> str | None:
    """What is wrong with ``value`` as setting ``key``, or None."""
    return CHECKS[key](key, value)


def check_video(source: Any, video: Any) -> str | None:
    if source == "video" and isinstance(video, str) and not video.strip():
        return "source is video but video (the file's path) is empty"
    return None


# -- the file's contents -------------------------------------------------------------


def parse(text: str | bytes) -> tuple[Settings, dict[str, Any], list[str]]:
    """The settings in a file's text, the keys this version does not know (kept as
    they were), and what was wrong with the values set back to their defaults.

    Raises :class:`SettingsError` when the text is not a JSON object.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"is not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError("is not valid JSON (not UTF-8 text)") from exc
    except RecursionError as exc:
        raise SettingsError("is not valid JSON (nested too deep)") from exc
    except ValueError as exc:  # e.g. a number of more digits than Python converts
        raise SettingsError(f"is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"is not a JSON object (it is a JSON {type(data).__name__})")
    known = {key: value for key, value in data.items() if key in CHECKS}
    unknown = {key: value for key, value in data.items() if key not in CHECKS}
    problems = [m for key, value in known.items() if (m := check(key, value)) is not None]
    good = {key: value for key, value in known.items() if check(key, value) is None}
    problem = check_video(good.get("source"), good.get("video", ""))
    if problem is not None:
        problems.append(problem)
        del good["source"]
    return Settings(**good), unknown, problems


def dump(settings: Settings, unknown: Mapping[str, Any] | None = None) -> str:
    """The file's text: every setting, then the keys this version does not know."""
    return json.dumps({**asdict(settings), **(unknown or {})}, indent=2, ensure_ascii=False) + "\n"


# -- the file ------------------------------------------------------------------------


def settings_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_CONFIG_HOME/posejam/settings.json``; as the XDG base directory spec says,
    an unset, empty or relative ``XDG_CONFIG_HOME`` means ``~/.config``."""
    config = environ.get("XDG_CONFIG_HOME", "")
    home = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return home / "posejam" / FILE_NAME


@dataclass(frozen=True, slots=True)
class Loaded:
    settings: Settings
    path: Path | None  # where to save them; None: nowhere (the file could not be moved aside)
    problem: str = ""  # one line for the screen: what was wrong and what became of the file
    unknown: dict[str, Any] = field(default_factory=dict)  # written back on every save
    found: bool = False  # there was a settings file


def load(path: Path) -> Loaded:
    """The settings saved at ``path``; the defaults, without a word, when there are none."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return Loaded(Settings(), path)
    except OSError as exc:
        return _set_aside(path, f"{path.name} cannot be read ({exc.strerror or exc})", Settings())
    if len(data) > MAX_FILE_BYTES:
        too_big = f"{path.name} is too big (over {MAX_FILE_BYTES} bytes)"
        return _set_aside(path, too_big, Settings())
    try:
        settings, unknown, problems = parse(data)
    except SettingsError as exc:
        return _set_aside(path, f"{path.name} {exc}", Settings())
    if unknown:
        logger.warning(
            "%s: keys this version does not use (kept in the file): %s", path, ", ".join(unknown)
        )
    if not problems:
        return Loaded(settings, path, unknown=unknown, found=True)
    for problem in problems:
        logger.warning("%s: %s", path, problem)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    default = "the defaults" if more else "the default"
    loaded = _set_aside(path, f"{path.name}: {problems[0]}{more}", settings, unknown, default)
    if loaded.path is not None:  # the good values stay: written back without the bad ones
        try:
            save(loaded.path, settings, unknown)
        except OSError as exc:
            logger.warning("%s: the repaired settings were not written: %s", path, exc)
    return loaded


def _set_aside(
    path: Path,
    what: str,
    settings: Settings,
    unknown: dict[str, Any] | None = None,
    using: str = "the defaults",
) -> Loaded:
    """Move the unusable file out of the way (never over another), and say so."""
    try:
        kept = set_aside(path)
    except OSError as exc:
        logger.warning("%s could not be moved aside: %s", path, exc)
        problem = f"{what}: using {using}; settings will not be saved, to keep that file"
        return Loaded(settings, None, problem, unknown or {}, found=True)
    logger.warning("%s; moved to %s", what, kept)
    problem = f"{what}: using {using}; the file was kept as {kept.name}"
    return Loaded(settings, path, problem, unknown or {}, found=True)


def set_aside(path: Path) -> Path:
    """Rename ``path`` to the first of ``NAME.bad``, ``NAME.bad.2``, ... that is free."""
    for n in count(1):
        kept = path.with_name(f"{path.name}.bad" + (f".{n}" if n > 1 else ""))
        if not kept.exists():
            path.rename(kept)
            return kept
    raise AssertionError("unreachable")


def save(path: Path, settings: Settings, unknown: Mapping[str, Any] | None = None) -> None:
    """Write the file atomically: a temporary file beside it, synced, moved over it.

    Raises ``OSError`` when it cannot be written; the old file is then untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(dump(settings, unknown))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
