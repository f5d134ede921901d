"""Settings: the checks' exact messages, the file's round trip, and every way a file can
be unusable, each losing nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from client import settings as settings_module
from client.settings import (
    MAX_FILE_BYTES,
    Loaded,
    Settings,
    SettingsError,
    dump,
    load,
    parse,
    save,
    settings_path,
    with_pose_source,
)

LONG, PW = "x" * 241, "p" * 65  # a character over each bound
ANN = Settings(
    name="Ann Zoë",
    source="video",
    camera=2,
    video="/home/ann/dance clip.mp4",
    device=3,
    latency_ms=42.5,
    volume=0.8,
    fullscreen=True,
    password="secret",
)


def test_the_tests_write_under_a_temporary_config_home() -> None:
    home = os.environ["XDG_CONFIG_HOME"]
    assert Path(home).is_absolute() and Path(home).name.startswith("posejam-tests-config-")
    assert settings_path() == Path(home) / "posejam" / "settings.json"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"XDG_CONFIG_HOME": "/tmp/cfg"}, Path("/tmp/cfg/posejam/settings.json")),
        ({}, Path.home() / ".config/posejam/settings.json"),
        ({"XDG_CONFIG_HOME": ""}, Path.home() / ".config/posejam/settings.json"),
        ({"XDG_CONFIG_HOME": "relative"}, Path.home() / ".config/posejam/settings.json"),
    ],
)
def test_where_the_file_lives(environ: dict[str, str], expected: Path) -> None:
    assert settings_path(environ) == expected


def test_the_file_round_trips() -> None:
    settings, unknown, problems = parse(dump(ANN))
    assert (settings, unknown, problems) == (ANN, {}, [])
    assert parse(dump(Settings())) == (Settings(), {}, [])


def test_the_file_is_readable_json_with_every_setting() -> None:
    assert json.loads(dump(ANN)) == {
        "name": "Ann Zoë",
        "source": "video",
        "camera": 2,
        "video": "/home/ann/dance clip.mp4",
        "device": 3,
        "latency_ms": 42.5,
        "volume": 0.8,
        "fullscreen": True,
        "password": "secret",
    }
    assert dump(ANN).endswith("}\n") and "Zoë" in dump(ANN)  # not \u escapes


@pytest.mark.parametrize(
    ("settings", "spec"),
    [
        (Settings(source="camera", camera=0), "camera"),
        (Settings(source="camera", camera=3), "camera:3"),
        (Settings(source="demo"), "demo"),
        (Settings(source="video", video="clips/me.mp4"), "clips/me.mp4"),
    ],
)
def test_pose_source_and_with_pose_source_are_inverse(settings: Settings, spec: str) -> None:
    assert settings.pose_source == spec
    assert with_pose_source(Settings(), spec).pose_source == spec
    assert with_pose_source(settings, settings.pose_source) == settings


def test_with_pose_source_keeps_what_it_does_not_change() -> None:
    assert with_pose_source(ANN, "demo") == Settings(
        "Ann Zoë", "demo", 2, "/home/ann/dance clip.mp4", 3, 42.5, 0.8, True, "secret"
    )
    assert with_pose_source(ANN, "camera:1").camera == 1
    assert with_pose_source(ANN, "camera:x") == Settings(**{**_fields(ANN), "video": "camera:x"})


def _fields(settings: Settings) -> dict[str, object]:
    return json.loads(dump(settings))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("name", "", "name must be text of 1..24 printable characters, got ''"),
        ("name", "   ", "name must be text of 1..24 printable characters, got '   '"),
        ("name", "x" * 25, f"name must be text of 1..24 printable characters, got {'x' * 25!r}"),
        ("name", "a\nb", "name must be text of 1..24 printable characters, got 'a\\nb'"),
        ("name", 7, "name must be text of 1..24 printable characters, got 7"),
        ("source", "webcam", "source must be one of camera, demo, video, got 'webcam'"),
        ("camera", -1, "camera must be a whole number in range 0..15, got -1"),
        ("camera", 16, "camera must be a whole number in range 0..15, got 16"),
        ("camera", 1.0, "camera must be a whole number in range 0..15, got 1.0"),
        ("camera", True, "camera must be a whole number in range 0..15, got True"),
        ("video", LONG, f"video must be text of 0..240 printable characters, got {LONG!r}"),
        (
            "device",
            "USB",
            "device must be a whole number 0 or more, or null for the default output, got 'USB'",
        ),
        (
            "device",
            -2,
            "device must be a whole number 0 or more, or null for the default output, got -2",
        ),
        ("latency_ms", 1500, "latency_ms must be a number in range -1000..1000, got 1500"),
        ("latency_ms", "42", "latency_ms must be a number in range -1000..1000, got '42'"),
        ("latency_ms", float("nan"), "latency_ms must be a number in range -1000..1000, got nan"),
        ("volume", 1.5, "volume must be a number in range 0..1, got 1.5"),
        ("volume", -0.1, "volume must be a number in range 0..1, got -0.1"),
        ("volume", False, "volume must be a number in range 0..1, got False"),
        ("fullscreen", 1, "fullscreen must be true or false, got 1"),
        ("fullscreen", "yes", "fullscreen must be true or false, got 'yes'"),
        ("password", PW, f"password must be text of 0..64 printable characters, got {PW!r}"),
    ],
)  # fmt: skip
def test_a_bad_value_says_exactly_what_is_wrong(key: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Settings(**{key: value})  # type: ignore[arg-type]
    assert str(caught.value) == message
    settings, _, problems = parse(json.dumps({"name": "Bob", key: value}))
    assert problems == [message]
    assert getattr(settings, key) == getattr(Settings(), key)  # back to its default


def test_the_edges_of_each_range_are_fine() -> None:
    low = Settings(name="B", camera=0, device=0, latency_ms=-1000, volume=0.0, password="")
    high = Settings(name="x" * 24, camera=15, latency_ms=1000, volume=1, password="p" * 64)
    assert (low.latency_ms, high.latency_ms, high.volume) == (-1000, 1000, 1)


def test_a_video_source_needs_a_path() -> None:
    with pytest.raises(ValueError) as caught:
        Settings(source="video", video=" ")
    assert str(caught.value) == "source is video but video (the file's path) is empty"
    settings, _, problems = parse('{"name": "Bob", "source": "video"}')
    assert problems == ["source is video but video (the file's path) is empty"]
    assert settings == Settings(name="Bob")  # the camera, the default source
    settings, _, problems = parse('{"source": "video", "video": 3}')
    assert problems == [
        "video must be text of 0..240 printable characters, got 3",
        "source is video but video (the file's path) is empty",
    ]
    assert settings == Settings()


def test_unknown_keys_are_ignored_and_kept_for_the_next_save() -> None:
    text = '{"name": "Bob", "volum": 0.5, "theme": {"dark": true}}'
    settings, unknown, problems = parse(text)
    assert settings == Settings(name="Bob") and problems == []
    assert unknown == {"volum": 0.5, "theme": {"dark": True}}
    assert json.loads(dump(settings, unknown)) == {
        **_fields(Settings(name="Bob")),
        "volum": 0.5,
        "theme": {"dark": True},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "Bob",\n\n  "volume": }', "is not valid JSON (line 3, column 13)"),
        ("", "is not valid JSON (line 1, column 1)"),
        (b"\xff\xfe{", "is not valid JSON (not UTF-8 text)"),
        ("[" * 50_000 + "]" * 50_000, "is not valid JSON (nested too deep)"),
        ('["Bob"]', "is not a JSON object (it is a JSON list)"),
        ("42", "is not a JSON object (it is a JSON int)"),
        ("null", "is not a JSON object (it is a JSON NoneType)"),
    ],
)
def test_text_that_is_not_a_json_object(text: str | bytes, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_a_number_too_long_to_convert_is_not_valid_json() -> None:
    with pytest.raises(SettingsError, match=r"^is not valid JSON \(Exceeds the limit"):
        parse('{"camera": ' + "9" * 5000 + "}")


# -- the file ----------------------------------------------------------------------------


def test_no_file_gives_the_defaults_without_a_word(tmp_path: Path) -> None:
    path = tmp_path / "posejam" / "settings.json"
    assert load(path) == Loaded(Settings(), path, "", {}, found=False)
    assert not path.parent.exists()  # loading writes nothing


def test_save_then_load_gives_the_same_settings(tmp_path: Path) -> None:
    path = tmp_path / "posejam" / "settings.json"
    save(path, ANN, {"theme": "dark"})  # makes the folder
    assert load(path) == Loaded(ANN, path, "", {"theme": "dark"}, found=True)
    save(path, Settings(name="Bob"))
    assert load(path).settings == Settings(name="Bob")
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]  # no temp left


def test_a_failed_save_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.json"
    save(path, ANN)

    def refuse(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings_module.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left on device"):
        save(path, Settings(name="Bob"))
    assert load(path).settings == ANN
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_invalid_json_gives_the_defaults_and_keeps_the_file_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    broken = '{\n  "name": "Bob",\n  "volume": 0.5,,\n}\n'
    path.write_text(broken)
    loaded = load(path)
    assert loaded == Loaded(
        Settings(),
        path,
        "settings.json is not valid JSON (line 3, column 17): using the defaults; "
        "the file was kept as settings.json.bad",
        found=True,
    )
    assert not path.exists()  # nothing of the player's is written over
    assert (tmp_path / "settings.json.bad").read_text() == broken


def test_a_second_bad_file_does_not_overwrite_the_first(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    (tmp_path / "settings.json.bad").write_text("first")
    path.write_text("second")
    assert load(path).problem.endswith("the file was kept as settings.json.bad.2")
    path.write_text("third")
    assert load(path).problem.endswith("the file was kept as settings.json.bad.3")
    kept = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert kept == {
        "settings.json.bad": "first",
        "settings.json.bad.2": "second",
        "settings.json.bad.3": "third",
    }


def test_bad_values_keep_the_good_ones_and_write_them_back(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    text = json.dumps({"name": "Bob", "volume": 7, "latency_ms": 31.0, "camera": "one", "x": 1})
    path.write_text(text)
    loaded = load(path)
    assert loaded == Loaded(
        Settings(name="Bob", latency_ms=31.0),
        path,
        "settings.json: volume must be a number in range 0..1, got 7 (and 1 more): "
        "using the defaults; the file was kept as settings.json.bad",
        {"x": 1},
        found=True,
    )
    assert (tmp_path / "settings.json.bad").read_text() == text
    assert json.loads(path.read_text()) == {
        **_fields(Settings(name="Bob", latency_ms=31.0)),
        "x": 1,
    }
    assert load(path) == Loaded(Settings(name="Bob", latency_ms=31.0), path, "", {"x": 1}, True)


def test_one_bad_value_says_the_default(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"fullscreen": "yes"}')
    assert load(path).problem == (
        "settings.json: fullscreen must be true or false, got 'yes': using the default; "
        "the file was kept as settings.json.bad"
    )


def test_a_huge_file_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"name": "' + "x" * MAX_FILE_BYTES + '"}')
    loaded = load(path)
    assert loaded.settings == Settings()
    assert loaded.problem == (
        "settings.json is too big (over 65536 bytes): using the defaults; "
        "the file was kept as settings.json.bad"
    )


def test_an_unreadable_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.mkdir()  # a folder where the file should be: reading it fails
    loaded = load(path)
    assert loaded.settings == Settings() and loaded.path == path
    assert loaded.problem == (
        "settings.json cannot be read (Is a directory): using the defaults; "
        "the file was kept as settings.json.bad"
    )
    assert (tmp_path / "settings.json.bad").is_dir()


def test_a_file_that_cannot_be_moved_aside_is_never_saved_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{oops")

    def refuse(self: Path, target: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "rename", refuse)
    loaded = load(path)
    assert loaded == Loaded(
        Settings(),
        None,
        "settings.json is not valid JSON (line 1, column 2): using the defaults; "
        "settings will not be saved, to keep that file",
        found=True,
    )
    assert path.read_text() == "{oops"
