"""The posejam command: help for every subcommand, clear errors for bad options."""

from __future__ import annotations

import pytest

from client.cli import build_parser, main


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys)
    for command in ("play", "solo", "host", "join", "spectate", "server", "bot", "export"):
        assert command in text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("server", ["--host", "--port", "(default: 8765)", "--room", "--password", "--bpm"]),
        ("bot", ["--url", "--room", "--count", "--spectators", "--seconds", "30 Hz"]),
        ("play", ["Start the game", "--headless", "--out", "--source", "(default: auto)"]),
    ],
)
def test_each_subcommand_says_what_it_does_and_its_defaults(
    capsys: pytest.CaptureFixture[str], command: str, expected: list[str]
) -> None:
    text = " ".join(help_text(capsys, command).split())
    for phrase in expected:
        assert phrase in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["server", "--bpm", "300"], "bpm must be in range 40..240, got 300.0"),
        (["server", "--bpm", "fast"], "could not convert string to float: 'fast'"),
        (["server", "--room", "AB1"], "a room code is 4 letters A-Z, got 'AB1'"),
        (["bot", "--count", "-2"], "must be 0 or more"),
        (["dance"], "invalid choice: 'dance'"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(argv)
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_lowercase_room_codes_are_accepted_as_uppercase() -> None:
    args = build_parser().parse_args(["server", "--room", "jams"])
    assert args.room == "JAMS"


def test_a_taken_port_is_a_clear_error_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["server", "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text


def test_bots_with_no_server_exit_1_with_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    assert main(["bot", "--url", f"ws://127.0.0.1:{free}", "--count", "1", "--seconds", "1"]) == 1
    assert f"could not join: cannot reach ws://127.0.0.1:{free}" in caplog.text
