"""The drum model behind the generator seam: every due layer of a bar in one batched call.

A player's next layer is primed by their seed when they sent one (a hand-edited
grid or dice, PoseLoops' modes) or else by their previous layer, and written
under the controls their body asks for (the room maps their pose features with
``shared.pose_mapping``; none before their first pose), at the server's
temperature. The model is loaded and warmed before the server takes players, so
nobody waits for it in play.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from models.sample import LayerRequest, generate
from models.train import load_weights
from server.generator import GenerationRequest, pattern_from_dice, pattern_from_grid
from shared.drums import DRUM_COUNT, LAYER_STEPS, Pattern
from shared.messages import SeedSource

logger = logging.getLogger(__name__)


class ModelGenerator:
    def __init__(self, weights: Path, temperature: float = 1.0, threads: int = 1) -> None:
        started = time.perf_counter()
        self.model, self.meta = load_weights(weights)
        self.temperature = temperature
        self.threads = threads
        # Found once: threadpool_limits() looks up the loaded libraries on every call,
        # 0.3 ms of a layer's few (measured).
        self._blas = ThreadpoolController()
        self._seeds = itertools.count(1)
        self.generate([GenerationRequest(0, None, None)])  # warm: the first call pays for setup
        logger.info(
            "drum model %s loaded and warm in %.2f s", weights.name, time.perf_counter() - started
        )

    def _primer(self, request: GenerationRequest) -> np.ndarray:
        seed = request.seed
        if seed is not None and seed.source is SeedSource.GRID:
            pattern: Pattern | None = pattern_from_grid(seed.grid)
        elif seed is not None:
            pattern = pattern_from_dice(seed.dice, seed.density)
        else:
            pattern = request.previous
        if pattern is None:
            return np.zeros((0, DRUM_COUNT), dtype=np.uint8)
        return np.array(pattern, dtype=np.uint8)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Pattern]:
        layer_requests = [
            LayerRequest(self._primer(r), r.controls, self.temperature, next(self._seeds))
            for r in requests
        ]
        # The writer is numpy: its matrix products run on as many BLAS threads as given.
        with self._blas.limit(limits=self.threads, user_api="blas"):
            written = generate(self.model, layer_requests, LAYER_STEPS)
        # tolist() gives Python ints already: freeze the rows as they are.
        return [tuple(map(tuple, w.tolist())) for w in written]
