"""The soak benchmark plays bots against a real server and counts what went wrong."""

from __future__ import annotations

import pytest

from bench.soak import bot_error, slope_per_minute
from client.bot import BotReport
from shared.messages import CloseCode, Role
from tests.bench.run import last_json


def report(close_code: int | None) -> BotReport:
    return BotReport("soak 1", Role.PLAYER, {}, 30, 1, 1.0, 0.5, close_code)


def test_the_slope_is_the_least_squares_line_in_mb_a_minute() -> None:
    assert slope_per_minute([(0.0, 100.0), (30.0, 101.0), (60.0, 102.0)]) == pytest.approx(2.0)
    # Noise around a flat line: the fit, not the last minus the first.
    assert slope_per_minute([(0.0, 100.0), (10.0, 101.0), (20.0, 99.0), (30.0, 100.0)]) == (
        pytest.approx(-1.2)
    )
    assert slope_per_minute([(5.0, 100.0)]) is None


def test_a_bot_closed_by_the_server_or_failing_to_join_is_an_error() -> None:
    assert bot_error(report(CloseCode.NORMAL)) is None
    assert bot_error(report(CloseCode.LEFT)) is None
    assert bot_error(report(CloseCode.POLICY)) == "soak 1 was closed with 1008"
    assert bot_error(report(CloseCode.GOING_AWAY)) == "soak 1 was closed with 1001"
    assert bot_error(ConnectionRefusedError("no")) == "ConnectionRefusedError: no"


def test_bench_soak_prints_its_figures_as_the_last_line() -> None:
    result = last_json("bench.soak", "--minutes", "0.1", timeout=60)
    assert (result["minutes"], result["bots"], result["errors"]) == (0.1, 8, 0)
    assert result["first_errors"] == []
    assert result["samples"] >= 10
    assert 0 < result["rss_start_mb"] <= result["rss_peak_mb"]
    assert 0 < result["rss_end_mb"] <= result["rss_peak_mb"]
    assert isinstance(result["rss_slope_mb_per_min"], float)
    assert result["poses_sent"] > 8 * 6 * 20  # 8 bots, 6 s, most of 30 poses a second
