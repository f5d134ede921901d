"""The drum model behind the server's generator seam, end to end with bots."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from client.net import NetClient
from server.generator import GenerationRequest
from server.main import make_generator
from server.model_generator import ModelGenerator
from shared.drums import DRUM_COUNT, LAYER_STEPS
from shared.messages import Hello, Layer, Role, Seed, SeedSource
from tests.loopback import running_server

GRID = (1, 0, 4, 0, 2, 0, 4, 0, 1, 0, 4, 0, 2, 0, 4, 0)


def test_one_call_writes_a_layer_for_every_request_from_its_own_primer(weights: Path) -> None:
    generator = ModelGenerator(weights)
    previous = ((0,) * DRUM_COUNT,) * LAYER_STEPS
    requests = [
        GenerationRequest(1, Seed(SeedSource.GRID, grid=GRID), None),
        GenerationRequest(2, Seed(SeedSource.DICE, dice=9, density=0.7), None),
        GenerationRequest(3, None, previous, (0.3, 0.2, 0.0, 0.7)),
        GenerationRequest(4, None, None),
    ]
    patterns = generator.generate(requests)
    assert len(patterns) == 4
    for pattern in patterns:
        assert len(pattern) == LAYER_STEPS
        assert all(len(step) == DRUM_COUNT and all(0 <= v <= 127 for v in step) for step in pattern)


def test_make_generator_falls_back_or_refuses_clearly(tmp_path: Path, weights: Path) -> None:
    assert type(make_generator("auto", tmp_path / "none.pt")).__name__ == "SeedGenerator"
    assert type(make_generator("seeds", weights)).__name__ == "SeedGenerator"
    model = make_generator("model", weights)
    assert type(model).__name__ == "ChildGenerator"
    model.close()
    with pytest.raises(ValueError, match=r"no drum model weights at .*none\.pt"):
        make_generator("model", tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"junk\.pt: not PoseJam drum model weights"):
        make_generator("model", junk)
    with pytest.raises(ValueError, match=r"temperature must be in range 0\.05\.\.3, got 9\.0"):
        make_generator("model", weights, temperature=9.0)


def test_a_seed_from_a_player_comes_back_as_a_model_written_layer_for_everyone(
    weights: Path,
) -> None:
    async def scenario() -> None:
        async with running_server(generator=ModelGenerator(weights)) as url:
            ann = NetClient(url, Hello("Ann", Role.PLAYER), keep_inbox=True)
            tv = NetClient(url, Hello("TV", Role.SPECTATOR), keep_inbox=True)
            await ann.connect()
            await tv.connect()
            await ann.send(Seed(SeedSource.GRID, grid=GRID))
            mine, seen = await ann.next(Layer), await tv.next(Layer)
            assert mine == seen
            assert (mine.owner, mine.version) == (ann.player_id, 1)
            assert len(mine.pattern) == LAYER_STEPS
            await ann.close()
            await tv.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
