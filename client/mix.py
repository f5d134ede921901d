"""Continuous sound: a player's pose moves their layer's channel the moment it arrives.

Only patterns wait for the bar; filter, gain and pan follow the body at once. Every
pose (this player's own from the tracker, the others' relayed by the server) maps
to :class:`~shared.pose_mapping.AudioControls` and goes straight to the engine,
which glides each change over a few tens of milliseconds (no zipper noise, no
clicks): poses arrive up to 30 times a second, so the glides join into one motion.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from client.audio_types import AudioEngine
from shared.messages import Pose
from shared.pose_mapping import AudioControls, audio_controls


def follow(
    engine: AudioEngine, owner: int, features: Sequence[float] | np.ndarray
) -> AudioControls:
    """Set ``owner``'s channel from their features; the controls set."""
    controls = audio_controls(features)
    engine.set_channel(owner, controls.cutoff_hz, controls.gain, controls.pan)
    return controls


def follow_pose(engine: AudioEngine, pose: Pose) -> AudioControls:
    """A relayed pose message (the server sets ``pose.player``) moves that player's channel."""
    return follow(engine, pose.player, pose.features)
