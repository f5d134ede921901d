"""Poses move their player's channel at once, through the pose mapping."""

from __future__ import annotations

import pytest

from client.audio_engine import SilentEngine, channel_settings
from client.mix import follow, follow_pose
from shared.messages import Pose
from shared.pose_mapping import FEATURE_INDEX, FEATURE_REST, audio_controls


def test_a_pose_sets_its_players_channel_the_moment_it_arrives() -> None:
    now = [10.0]
    engine = SilentEngine(clock=lambda: now[0])
    hands_up = FEATURE_REST.copy()
    hands_up[FEATURE_INDEX["present"]] = 1.0
    hands_up[[FEATURE_INDEX["left_hand"], FEATURE_INDEX["right_hand"]]] = 1.0
    controls = follow_pose(engine, Pose(0.0, tuple(hands_up.tolist()), player=3))
    assert controls == audio_controls(hands_up)
    assert controls.cutoff_hz == pytest.approx(16000.0)  # hands up: all the way bright
    now[0] = 10.04
    standing = FEATURE_REST.copy()
    standing[FEATURE_INDEX["present"]] = 1.0
    follow(engine, 3, standing)
    expected = audio_controls(standing)
    assert engine.changes == [
        (10.0, 3, channel_settings(controls.cutoff_hz, controls.gain, controls.pan)),
        (10.04, 3, channel_settings(expected.cutoff_hz, expected.gain, expected.pan)),
    ]
    assert expected.cutoff_hz < 2000.0  # hands down: darker, straight away
