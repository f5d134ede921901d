"""Pose features: exact shapes of hand-made bodies, motion, tempo, and nothing non-finite out."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client import bot_pose
from client.pose_features import (
    ENERGY_TAU,
    FEATURE_NAMES,
    PRESENT_TAU,
    RATE,
    RELAX_TAU,
    FrameGeometry,
    PoseFeatures,
    frame_geometry,
    periodicity,
)
from shared.pose_mapping import (
    FEATURE_COUNT,
    FEATURE_HI,
    FEATURE_INDEX,
    FEATURE_LO,
    audio_controls,
    groove_controls,
    hz_to_brightness,
)

EXACT = 1e-12
F = FEATURE_INDEX

# A hand-made body in frame heights, sized so every number is a binary fraction: the
# hips' centre (0.5, 0.625) is 0.25 below the shoulders' (0.5, 0.375), so one body
# size is 0.25 (the shoulder width 0.125 / 0.75 and the hip width 0.0625 / 0.5 are
# smaller); the ankles stand 1.7 body sizes below the hips, the knees halfway.
STANDING = {
    0: (0.5, 0.25),  # nose
    11: (0.5625, 0.375),  # left shoulder, on the image's right
    12: (0.4375, 0.375),
    13: (0.578125, 0.5),  # elbows
    14: (0.421875, 0.5),
    15: (0.59375, 0.625),  # wrists, hanging: 0.25 below the shoulders
    16: (0.40625, 0.625),
    23: (0.53125, 0.625),  # hips
    24: (0.46875, 0.625),
    25: (0.53125, 0.8375),  # knees
    26: (0.46875, 0.8375),
    27: (0.53125, 1.05),  # ankles, just below the frame's edge
    28: (0.46875, 1.05),
}


# Where the landmarks STANDING leaves out sit: the face on the nose, each hand's
# fingers on its wrist (odd: the body's left), each foot's heel and toes on its ankle.
NEAREST = {**dict.fromkeys(range(1, 11), 0), 17: 15, 19: 15, 21: 15, 18: 16, 20: 16, 22: 16}
NEAREST |= {29: 27, 31: 27, 30: 28, 32: 28}


def body(
    points: dict[int, tuple[float, float]] | None = None,
    dx: float = 0.0,
    dy: float = 0.0,
    visibility: float = 1.0,
) -> np.ndarray:
    """``[33, 3]``: STANDING with ``points`` replaced, all moved by (dx, dy)."""
    pose = {**STANDING, **(points or {})}
    lm = np.zeros((33, 3))
    lm[:, 2] = visibility
    for i in range(33):
        x, y = pose[i] if i in pose else pose[NEAREST[i]]
        lm[i, :2] = (x + dx, y + dy)
    return lm


def geometry(landmarks: np.ndarray, aspect: float = 1.0) -> FrameGeometry:
    g = frame_geometry(landmarks, aspect)
    assert g is not None
    return g


T_POSE = {15: (0.8125, 0.375), 16: (0.1875, 0.375), 13: (0.6875, 0.375), 14: (0.3125, 0.375)}
HANDS_UP = {15: (0.5625, 0.125), 16: (0.4375, 0.125), 13: (0.5625, 0.25), 14: (0.4375, 0.25)}


def test_standing_with_arms_down() -> None:
    g = geometry(body())
    assert g.size == 0.25
    assert (g.left_hand, g.right_hand) == (-1.0, -1.0)
    assert g.spread == 0.75  # 2 x 0.09375 / 0.25
    assert g.crouch == pytest.approx(0.0, abs=EXACT)
    assert g.lean == 0.0
    assert g.x_position == 0.0
    assert g.centre_y == 0.5


def test_t_pose_and_hands_up() -> None:
    t = geometry(body(T_POSE))
    assert (t.left_hand, t.right_hand, t.spread) == (0.0, 0.0, 2.5)  # 2 x 0.3125 / 0.25
    up = geometry(body(HANDS_UP))
    assert (up.left_hand, up.right_hand, up.spread) == (1.0, 1.0, 0.5)
    one = geometry(body({15: (0.5625, 0.125)}))
    assert (one.left_hand, one.right_hand) == (1.0, -1.0)


def test_crouch_from_the_ankles_or_else_the_knees() -> None:
    # Shoulders and hips 0.2125 lower, ankles where they were: legs at half a standing height.
    low = {i: (x, y + 0.2125) for i, (x, y) in STANDING.items() if i not in (25, 26, 27, 28)}
    g = geometry(body(low))
    assert g.crouch == pytest.approx(0.5, abs=EXACT)
    assert g.size == 0.25
    knees_only = body({**low, 25: (0.53125, 0.94375), 26: (0.46875, 0.94375)})
    knees_only[27:33, 2] = 0.0  # ankles, heels and feet out of the frame
    k = geometry(knees_only)
    assert k.crouch == pytest.approx(0.5, abs=EXACT)  # thighs at half their 0.85 sizes
    deep = geometry(body({23: (0.53125, 1.05), 24: (0.46875, 1.05)}))
    assert deep.crouch == 1.0  # the hips down at the ankles


def test_lean_left_and_right() -> None:
    # Shoulders 0.1875 to the image's right of the hips, 0.25 above them: a 3-4-5 torso.
    for side in (1, -1):
        shift = {11: (0.5625 + side * 0.1875, 0.375), 12: (0.4375 + side * 0.1875, 0.375)}
        g = geometry(body(shift))
        assert g.size == 0.3125
        assert g.lean == pytest.approx(side * 0.6, abs=EXACT)
        assert g.x_position == pytest.approx(side * 0.1875, abs=EXACT)  # centre 0.5 + 0.09375


def test_x_position_follows_the_frame_aspect() -> None:
    assert geometry(body()).x_position == 0.0
    # A 4:3 frame runs 0..4/3 wide: x = 0.5 is left of its centre.
    assert geometry(body(), aspect=4 / 3).x_position == pytest.approx(-0.25, abs=EXACT)
    assert geometry(body(dx=0.5)).x_position == 1.0
    with pytest.raises(ValueError, match="aspect must be a positive finite number, got 0"):
        frame_geometry(body(), aspect=0)


def test_missing_landmarks() -> None:
    lm = body(T_POSE)
    lm[15, 2] = 0.3  # the left wrist barely visible
    lm[16, :2] = np.nan  # the right wrist not there at all
    g = geometry(lm)
    assert math.isnan(g.left_hand) and math.isnan(g.right_hand) and math.isnan(g.spread)
    lm = body(T_POSE)
    lm[11] = (np.inf, 0.375, 1.0)  # the left shoulder: the hand uses the right one
    g = geometry(lm)
    assert g.left_hand == 0.0
    assert math.isnan(g.spread)  # no shoulders' centre to measure from
    assert math.isnan(g.lean)  # one side's hip to shoulder slants on an upright body
    assert g.size == math.hypot(0.03125, 0.25)  # the right side's hip to shoulder
    lm = body(T_POSE)
    lm[23:, 2] = 0.0  # hips and legs out of the frame: the shoulders give the size
    g = geometry(lm)
    assert g.size == pytest.approx(0.125 / 0.75, abs=EXACT)
    assert math.isnan(g.crouch) and math.isnan(g.lean)
    assert g.left_hand == 0.0 and g.spread == pytest.approx(0.625 / (0.125 / 0.75), abs=EXACT)


def test_no_readable_body() -> None:
    assert frame_geometry(body(visibility=0.0)) is None
    assert frame_geometry(np.full((33, 3), np.nan)) is None
    assert frame_geometry(np.ones((33, 3))) is None  # every point in one place: size 0
    tiny = body()
    tiny[:, :2] *= 0.05  # a body 0.0125 frame heights tall: a misdetection
    assert frame_geometry(tiny) is None
    far = body()
    far[:, :2] += 1e6  # coordinates this far off the frame are garbage
    assert frame_geometry(far) is None
    with pytest.raises(ValueError, match=r"landmarks must have shape \(33, 3\), got \(33, 4\)"):
        frame_geometry(np.zeros((33, 4)))


def test_first_frame_gives_the_shape_at_once() -> None:
    out = PoseFeatures(aspect=1.0).update(body(T_POSE), 10.0)
    assert out.shape == (FEATURE_COUNT,) and out.dtype == np.float64
    expected = {"present": 1.0, "left_hand": 0.0, "right_hand": 0.0, "spread": 2.5, "lean": 0.0}
    for name, value in expected.items():
        assert out[F[name]] == value, name
    assert out[F["energy"]] == 0.0 and out[F["tempo"]] == 0.0
    assert len(FEATURE_NAMES) == FEATURE_COUNT == 12


def test_smoothing_means_the_same_at_any_frame_rate() -> None:
    """Two frames 0.1 s and 0.2 s apart smooth exactly as one frame 0.3 s later."""
    a, b = PoseFeatures(aspect=1.0), PoseFeatures(aspect=1.0)
    a.update(None, 0.0)
    b.update(None, 0.0)
    a.update(body(HANDS_UP), 0.1)
    one = a.update(body(HANDS_UP), 0.3)
    other = b.update(body(HANDS_UP), 0.3)
    assert one[F["present"]] == pytest.approx(1 - math.exp(-0.3 / PRESENT_TAU), abs=EXACT)
    assert other[F["present"]] == pytest.approx(one[F["present"]], abs=EXACT)


def run(pose: PoseFeatures, frames: Sequence[tuple[float, np.ndarray | None]]) -> list[np.ndarray]:
    return [pose.update(lm, t) for t, lm in frames]


def test_energy_is_speed_in_body_sizes_per_second_and_decays_when_still() -> None:
    pose = PoseFeatures(aspect=1.0)
    # Gliding to the image's right at 0.5 frame heights a second (2 body sizes/s), 30 FPS.
    times = [k / 30 for k in range(91)]
    moving = run(pose, [(t, body(dx=0.5 * t)) for t in times])
    energy = [out[F["energy"]] for out in moving]
    assert all(a < b for a, b in itertools.pairwise(energy))  # rising
    assert energy[-1] == pytest.approx(2.0, rel=1e-3)  # 3 s is 10 energy time constants
    assert moving[-1][F["sway"]] == pytest.approx(2.0, rel=1e-2)  # the hips glide too
    assert moving[-1][F["x_position"]] == 1.0  # past the frame's right edge
    # Then still, at the last place, for 3 s.
    stop = 3.0
    still = run(pose, [(stop + k / 30, body(dx=1.5)) for k in range(1, 91)])
    after = [out[F["energy"]] for out in still]
    assert all(a >= b for a, b in itertools.pairwise(after))  # falling
    assert after[-1] < 2.0 * math.exp(-2.5 / ENERGY_TAU)  # ~0: under 5e-4
    assert still[-1][F["sway"]] < 0.01


def test_energy_rises_with_speed_and_reads_alike_at_15_and_60_fps() -> None:
    def energy(speed: float, fps: int) -> float:
        pose = PoseFeatures(aspect=1.0)
        outs = run(
            pose, [(k / fps, body(dx=0.1 * math.sin(speed * k / fps))) for k in range(3 * fps)]
        )
        return float(np.mean([o[F["energy"]] for o in outs[fps:]]))

    slow, fast = energy(2.0, 30), energy(6.0, 30)
    assert 0 < slow < fast
    assert energy(4.0, 15) == pytest.approx(energy(4.0, 60), rel=0.1)


def test_a_burst_of_movement_after_stillness() -> None:
    pose = PoseFeatures(aspect=1.0)
    run(pose, [(k / 30, body()) for k in range(60)])
    wave = [(2 + k / 30, body(HANDS_UP if k % 6 < 3 else T_POSE)) for k in range(15)]
    burst = max(out[F["burst"]] for out in run(pose, wave))
    assert burst > 1.0
    steady = run(pose, [(2.5 + k / 30, body()) for k in range(1, 150)])
    assert steady[-1][F["burst"]] == 0.0  # energy falls below its slow average: no burst


def bobbing(
    bpm: float, seconds: float, seed: int, amplitude: float = 0.03
) -> list[tuple[float, np.ndarray | None]]:
    """A body dipping once a beat (|sin|, as knees bend on each beat), frames every
    1/60..1/15 s at random."""
    rng = np.random.default_rng(seed)
    frames: list[tuple[float, np.ndarray | None]] = []
    t = 0.0
    while t < seconds:
        frames.append((t, body(dy=amplitude * abs(math.sin(math.pi * t * bpm / 60)))))
        t += float(rng.uniform(1 / 60, 1 / 15))
    return frames


@pytest.mark.parametrize("bpm", [90.0, 120.0, 65.0, 170.0])
def test_tempo_of_a_bobbing_body(bpm: float) -> None:
    pose = PoseFeatures(aspect=1.0)
    frames = bobbing(bpm, 10.0, seed=int(bpm))
    outs = run(pose, frames)
    tempos = [o[F["tempo"]] for (t, _), o in zip(frames, outs, strict=True) if t >= 4.0]
    assert all(abs(t - bpm) <= 3.0 for t in tempos), (min(tempos), max(tempos))
    assert outs[-1][F["tempo_confidence"]] > 0.9


def test_no_tempo_before_three_seconds_or_when_still() -> None:
    pose = PoseFeatures(aspect=1.0)
    outs = run(pose, bobbing(120.0, 2.9, seed=1))
    assert {o[F["tempo"]] for o in outs} == {0.0}
    still = run(PoseFeatures(aspect=1.0), [(k / 30, body()) for k in range(300)])
    assert {(o[F["tempo"]], o[F["tempo_confidence"]]) for o in still} == {(0.0, 0.0)}


def test_tempo_of_random_jitter_is_zero() -> None:
    rng = np.random.default_rng(3)
    frames = [(k / 30, body(dy=float(rng.normal(0, 0.01)))) for k in range(300)]
    outs = run(PoseFeatures(aspect=1.0), frames)
    assert {o[F["tempo"]] for o in outs[-100:]} == {0.0}
    assert max(o[F["tempo_confidence"]] for o in outs[-100:]) < 0.5


def test_periodicity_of_exact_signals() -> None:
    t = np.arange(250) / RATE
    bpm, confidence = periodicity(np.sin(2 * np.pi * 2.0 * t), RATE)
    assert bpm == pytest.approx(120.0, abs=0.05) and confidence > 0.99  # not 60 (lag 1 s)
    # Every other bounce a little deeper (left and right steps differ): the two-beat lag
    # correlates best (1.0 against 0.92), but the beat is the bounce, not the step pair.
    bpm, confidence = periodicity(np.sin(2 * np.pi * 2.0 * t) + 0.2 * np.sin(np.pi * 2.0 * t), RATE)
    assert bpm == pytest.approx(120.0, abs=0.5) and confidence == pytest.approx(
        0.96 / 1.04, abs=0.01
    )
    bpm, confidence = periodicity(np.sin(2 * np.pi * 1.5 * t), RATE)
    assert bpm == pytest.approx(90.0, abs=0.05) and confidence > 0.99
    assert periodicity(np.sin(2 * np.pi * 2.0 * t[:149]), RATE) == (0.0, 0.0)  # < 3 s
    assert periodicity(0.01 * np.sin(2 * np.pi * 2.0 * t), RATE, min_amplitude=0.05) == (0.0, 0.0)
    assert periodicity(np.zeros(250), RATE) == (0.0, 0.0)
    noise = np.random.default_rng(0).normal(size=250)
    bpm, confidence = periodicity(noise, RATE)
    assert bpm == 0.0 and confidence < 0.5


def test_none_frames_fade_presence_and_relax_the_shape() -> None:
    pose = PoseFeatures(aspect=1.0)
    run(pose, [(k / 30, body(HANDS_UP)) for k in range(30)])
    gone = run(pose, [(1 + k / 30, None) for k in range(300)])
    assert gone[29][F["present"]] == pytest.approx(math.exp(-1.0 / PRESENT_TAU), rel=1e-9)
    # Hands up (1.0) relax to rest (-1) over 2 s: after 1 s, -1 + 2 e^-0.5.
    assert gone[29][F["left_hand"]] == pytest.approx(-1 + 2 * math.exp(-1.0 / RELAX_TAU), rel=1e-9)
    gone_for = 1 + 299 / 30 - 29 / 30
    assert gone[-1][F["left_hand"]] == pytest.approx(-1 + 2 * math.exp(-gone_for / RELAX_TAU))
    assert gone[-1][F["present"]] < 1e-20


def test_a_wrist_out_of_the_frame_holds_its_height() -> None:
    pose = PoseFeatures(aspect=1.0)
    run(pose, [(k / 30, body(HANDS_UP)) for k in range(30)])
    hidden = body(HANDS_UP)
    hidden[15, 2] = 0.1
    out = pose.update(hidden, 29 / 30 + 0.1)
    assert out[F["left_hand"]] == pytest.approx(-1 + 2 * math.exp(-0.1 / RELAX_TAU), rel=1e-9)
    assert out[F["right_hand"]] == pytest.approx(1.0, abs=EXACT)


def test_repeated_and_backward_times() -> None:
    pose = PoseFeatures(aspect=1.0)
    before = run(pose, [(k / 30, body(dx=0.5 * k / 30)) for k in range(30)])[-1]
    same = pose.update(body(T_POSE, dx=0.9), 29 / 30)  # same stamp: nothing changes
    assert np.array_equal(same, before)
    assert np.array_equal(pose.update(body(), math.nan), before)
    # The clock runs back 10 s with the body elsewhere: no motion is read across it.
    back = pose.update(body(dx=0.3), -9.0)
    assert back[F["energy"]] == before[F["energy"]]
    after = pose.update(body(dx=0.3), -9.0 + 1 / 30)
    assert after[F["energy"]] < before[F["energy"]]
    assert np.isfinite(after).all()


def test_a_long_gap_measures_no_motion_across_it() -> None:
    pose = PoseFeatures(aspect=1.0)
    run(pose, [(k / 30, body()) for k in range(30)])
    out = pose.update(body(dx=0.5), 5.0)  # 4 s later, elsewhere: not a 0.5/4 s glide
    assert out[F["energy"]] == 0.0


def test_a_huge_clock_does_not_hang() -> None:
    pose = PoseFeatures(aspect=1.0)
    pose.update(body(), 0.0)
    out = pose.update(body(dy=0.01), 1e300)
    out = pose.update(body(), 1e300 * 1.5)
    assert np.isfinite(out).all()


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2.0, 2.0),
    st.sampled_from([0.0, 0.5, 1.0, np.nan]),
)
frames = st.one_of(
    st.none(),
    st.lists(values, min_size=99, max_size=99).map(lambda v: np.array(v).reshape(33, 3)),
    st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(0, 1)).map(
        lambda m: body(dx=m[0], dy=m[1], visibility=m[2])
    ),
)
times = st.one_of(st.floats(-1e6, 1e6), st.floats(allow_nan=True, allow_infinity=True))


@pytest.mark.filterwarnings("error")
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(frames, times), max_size=40), st.sampled_from([0.5, 4 / 3, 3.0]))
def test_nothing_non_finite_or_out_of_range_ever_leaves(
    sequence: list[tuple[np.ndarray | None, float]], aspect: float
) -> None:
    pose = PoseFeatures(aspect=aspect)
    for landmarks, now in sequence:
        out = pose.update(landmarks, now)
        assert np.isfinite(out).all()
        assert ((out >= FEATURE_LO) & (out <= FEATURE_HI)).all()


def test_the_bots_dancer_steers_the_controls_through_their_ranges() -> None:
    """16 s of the bots' stick figure at 110 BPM, frames at irregular times.

    Measured spans after the first 4 s: density 0.18..0.37, syncopation 0.20..0.26,
    balance -0.32..0.77, intensity 0.47..0.69, cutoff 5.4..15 kHz, gain 0.62..0.72,
    pan -0.10..0.10, tempo 109.5..110.6. Fill stays 0: the dancer never bursts, and
    syncopation hardly moves: it sways and bounces the same all along.
    """
    pose = PoseFeatures(aspect=1.0)
    rng = np.random.default_rng(7)
    rows = []
    t = 0.0
    while t < 16.0:
        out = pose.update(np.array(bot_pose.body(t)), t)
        if t > 4.0:
            g, a = groove_controls(out), audio_controls(out)
            rows.append(
                (*g.model_controls(), hz_to_brightness(a.cutoff_hz), a.pan, out[F["tempo"]])
            )
        t += float(rng.uniform(1 / 60, 1 / 15))
    table = np.array(rows)
    span = table.max(axis=0) - table.min(axis=0)
    density, _, balance, intensity, brightness, pan, _ = span
    assert density > 0.15  # of the 0.05..0.6 band
    assert balance > 0.9  # of -1..1
    assert intensity > 0.15  # of 0.3..1
    assert brightness > 0.2  # of 0.45..1
    assert pan > 0.15
    assert table[:, 1].min() > 0.15  # syncopation: it sways and bounces all along
    assert np.abs(table[:, -1] - 110.0).max() <= 3.0
