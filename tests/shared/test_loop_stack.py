"""The loop stack: which layer of each owner plays in a bar, and which are still to come."""

from __future__ import annotations

from shared.drums import empty_pattern, grid_to_pattern
from shared.loop_stack import LoopStack
from shared.messages import Layer


def layer(owner: int, bar: int, version: int = 0) -> Layer:
    # A pattern that differs by owner and version, so equal layers are really the same one.
    return Layer(owner, grid_to_pattern([owner, version + 1]), bar, version)


def stack_of(*layers: Layer) -> LoopStack:
    stack = LoopStack()
    for lay in layers:
        stack.schedule(lay)
    return stack


A0, A4, A8 = layer(1, 0), layer(1, 4, 1), layer(1, 8, 2)
B2, B6 = layer(2, 2), layer(2, 6, 1)
C6 = layer(3, 6)


def full() -> LoopStack:
    return stack_of(B6, A4, C6, A0, B2, A8)  # scheduled in no particular order


def test_empty_stack() -> None:
    stack = LoopStack()
    assert stack.owners == ()
    assert stack.all() == ()
    assert stack.layer_at(1, 0) is None
    assert stack.layers_at(0) == {}
    assert stack.pending(-1) == ()
    assert stack.latest(1) is None
    stack.prune(10)
    stack.remove(1)  # removing an unknown owner is no error
    assert stack.all() == ()


def test_layer_at_follows_start_bars() -> None:
    stack = full()
    assert [stack.layer_at(1, bar) for bar in range(-1, 11)] == [
        None,
        A0,
        A0,
        A0,
        A0,
        A4,
        A4,
        A4,
        A4,
        A8,
        A8,
        A8,
    ]
    assert [stack.layer_at(2, bar) for bar in (0, 1, 2, 5, 6, 100)] == [None, None, B2, B2, B6, B6]
    assert stack.layer_at(99, 5) is None


def test_layers_at() -> None:
    stack = full()
    assert stack.layers_at(0) == {1: A0}
    assert stack.layers_at(2) == {1: A0, 2: B2}
    assert stack.layers_at(5) == {1: A4, 2: B2}
    assert stack.layers_at(6) == {1: A4, 2: B6, 3: C6}
    assert stack.layers_at(9) == {1: A8, 2: B6, 3: C6}


def test_pending_is_in_bar_then_owner_order() -> None:
    stack = full()
    assert stack.pending(-1) == (A0, B2, A4, B6, C6, A8)
    assert stack.pending(0) == (B2, A4, B6, C6, A8)
    assert stack.pending(5) == (B6, C6, A8)
    assert stack.pending(6) == (A8,)
    assert stack.pending(8) == ()


def test_latest_is_the_newest_playing_or_pending() -> None:
    stack = full()
    assert stack.latest(1) == A8
    assert stack.latest(2) == B6
    assert stack.latest(3) == C6
    assert stack.latest(4) is None


def test_all_is_in_owner_then_bar_order() -> None:
    assert full().all() == (A0, A4, A8, B2, B6, C6)
    assert full().owners == (1, 2, 3)


def test_schedule_on_the_same_bar_replaces() -> None:
    stack = full()
    newer = layer(1, 4, 7)
    stack.schedule(newer)
    assert stack.layer_at(1, 5) == newer
    assert stack.all() == (A0, newer, A8, B2, B6, C6)
    assert stack.layer_at(2, 5) == B2  # other owners are untouched


def test_remove_forgets_one_owner() -> None:
    stack = full()
    stack.remove(1)
    assert stack.owners == (2, 3)
    assert stack.all() == (B2, B6, C6)
    assert stack.layer_at(1, 5) is None
    assert stack.latest(1) is None
    assert stack.layers_at(9) == {2: B6, 3: C6}


def test_prune_keeps_what_plays_now_and_later() -> None:
    stack = full()
    stack.prune(5)
    assert stack.all() == (A4, A8, B2, B6, C6)
    assert stack.layers_at(5) == {1: A4, 2: B2}  # the present is unchanged
    stack.prune(6)
    assert stack.all() == (A4, A8, B6, C6)
    stack.prune(100)
    assert stack.all() == (A8, B6, C6)
    assert stack.owners == (1, 2, 3)


def test_prune_keeps_pending_layers_of_owners_not_playing_yet() -> None:
    stack = full()
    stack.prune(1)
    assert stack.all() == (A0, A4, A8, B2, B6, C6)
    assert stack.layers_at(1) == {1: A0}


def test_prune_on_a_start_bar_drops_the_layer_before_it() -> None:
    stack = full()
    stack.prune(4)
    assert stack.all() == (A4, A8, B2, B6, C6)
    assert stack.latest(1) == A8


def test_schedule_keeps_the_layer_itself() -> None:
    silent = Layer(5, empty_pattern(), 0, 0)
    stack = stack_of(silent)
    assert stack.layer_at(5, 0) is silent
