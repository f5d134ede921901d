"""Training the drum LSTM on the Groove MIDI Dataset: resumable, seeded, early-stopped.

``posejam model train --data DIR --out PATH [--seed N] [--minutes M] [--resume]``
trains on the ``train`` split, measures bits per step on ``validation`` every
``--eval-every`` steps (controls taken from the previous bar, as ``eval`` does),
keeps the best weights, halves the learning rate when validation has not improved
for ``plateau`` evaluations, stops when it has not improved for ``patience``
evaluations, and writes the weights (``PATH``), a checkpoint to resume from
(``PATH.ckpt``) and the training curve (``PATH.png``).
"""

from __future__ import annotations

import logging
import math
import pickle
import re
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from models.data import Split, load_split, random_crops
from models.inputs import (
    bar_controls,
    conditions,
    control_inputs,
    model_inputs,
    previous_bar_controls,
)
from models.model import DrumLSTM, ModelConfig
from shared.drums import DRUM_COUNT, STEPS_PER_BAR

logger = logging.getLogger(__name__)

LN2 = math.log(2.0)
VELOCITY_WEIGHT = 1.0  # the velocity head's MSE (on 0..1) against the class cross-entropy


@dataclass(frozen=True)
class TrainConfig:
    batch: int = 64
    length: int = 128  # steps per crop: 8 bars
    lr: float = 2e-3
    weight_decay: float = 1e-4
    clip: float = 1.0
    eval_every: int = 50
    plateau: int = 3  # evaluations without a new best before the learning rate halves
    patience: int = 10  # ... and before training stops
    threads: int = 2
    minutes: float = 25.0
    # How each bar of a crop is conditioned while training: on its own controls (what
    # play asks for), on the previous bar's (what eval gives), or on none.
    p_current: float = 0.7
    p_previous: float = 0.2
    # Chance that a bar turns to another groove (one of ``sources`` crops): in play a
    # body asks for a groove whatever the layer before it was, and the bars of one song
    # never teach the model to turn when its own controls say so.
    p_turn: float = 0.3
    sources: int = 4


# -- training batches ----------------------------------------------------------


def splice(
    sources: np.ndarray, p_turn: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Crops that turn to another groove at bar lines: ``[K, B, T, 9]`` sources -> ``[B, T, 9]``.

    Each crop starts in its first source; from its second bar on, each bar turns to
    another of the K sources with probability ``p_turn`` (the bars stay where they
    are in their own crop). Returns the crops and a ``[B, bars]`` mask of the turns.
    """
    count, batch, steps, _ = sources.shape
    bars = steps // STEPS_PER_BAR
    turns = np.zeros((batch, bars), dtype=bool)
    turns[:, 1:] = rng.random((batch, bars - 1)) < p_turn
    which = np.zeros((batch, bars), dtype=np.int64)
    for bar in range(1, bars):
        other = (which[:, bar - 1] + rng.integers(1, count, batch)) % count
        which[:, bar] = np.where(turns[:, bar], other, which[:, bar - 1])
    per_step = np.repeat(which, STEPS_PER_BAR, axis=1)
    out = sources[per_step, np.arange(batch)[:, None], np.arange(steps)[None, :]]
    return out, turns


def training_controls(
    steps: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    own: np.ndarray | None = None,
) -> np.ndarray:
    """Each bar conditioned on its own controls, the previous bar's, or none, at random;
    bars in ``own`` (``[B, bars]``) always on their own."""
    per_bar = bar_controls(steps)
    shifted = np.concatenate([np.zeros_like(per_bar[:, :1]), per_bar[:, :-1]], axis=1)
    draw = rng.random(per_bar.shape[:2])
    if own is not None:
        draw = np.where(own, 0.0, draw)
    use_current = draw < config.p_current
    use_previous = (draw >= config.p_current) & (draw < config.p_current + config.p_previous)
    use_previous[:, 0] = False  # the first bar of a crop has no previous bar here
    chosen = np.where(use_current[..., None], per_bar, shifted)
    return control_inputs(chosen, use_current | use_previous, use_current)


def losses(
    model: DrumLSTM, steps: np.ndarray, cond: np.ndarray, mask: np.ndarray | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean class cross-entropy (nats), velocity MSE, and per-step NLL [B, T].

    ``cond``: each step's controls and their flags, ``[B, T, 6]``.
    """
    previous, lookback, positions, targets = model_inputs(steps)
    cond9 = torch.from_numpy(conditions(steps, cond))
    logits, hidden, _ = model(previous, lookback, positions, cond9)
    nll = nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    weight = torch.ones_like(nll) if mask is None else torch.from_numpy(mask).float()
    ce = (nll * weight).sum() / weight.sum()
    struck = torch.from_numpy(steps > 0)
    velocity = model.velocities(hidden, struck)
    target_v = torch.from_numpy(steps.astype(np.float32) / 127.0)
    hits = struck.float() * weight[..., None]
    mse = ((velocity - target_v) ** 2 * hits).sum() / hits.sum().clamp(min=1.0)
    return ce, mse, nll


@torch.no_grad()
def evaluate(model: DrumLSTM, split: Split, batch: int = 32) -> dict[str, float]:
    """Bits per step and accuracy over whole sequences, controls from the previous bar."""
    model.eval()
    total_bits = 0.0
    correct = 0
    count = 0
    order = sorted(range(len(split.sequences)), key=lambda i: len(split.sequences[i]))
    for start in range(0, len(order), batch):
        group = [split.sequences[i] for i in order[start : start + batch]]
        length = max(len(s) for s in group)
        steps = np.zeros((len(group), length, DRUM_COUNT), dtype=np.uint8)
        mask = np.zeros((len(group), length), dtype=bool)
        for i, s in enumerate(group):
            steps[i, : len(s)] = s
            mask[i, : len(s)] = True
        previous, lookback, positions, targets = model_inputs(steps)
        cond = torch.from_numpy(conditions(steps, previous_bar_controls(steps)))
        logits, _, _ = model(previous, lookback, positions, cond)
        nll = nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        m = torch.from_numpy(mask)
        total_bits += float((nll * m).sum()) / LN2
        correct += int(((logits.argmax(-1) == targets) & m).sum())
        count += int(m.sum())
    model.train()
    return {"bits_per_step": total_bits / count, "accuracy": correct / count, "steps": count}


# -- checkpoints -------------------------------------------------------------------


def save_weights(model: DrumLSTM, path: Path, meta: dict[str, Any]) -> None:
    """The shipped weights: fp16 tensors, the config and provenance, all weights-only loadable."""
    state = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config.to_dict(), "state_dict": state, "meta": meta}, path)


def _torch_load(path: Path) -> Any:
    """``torch.load`` weights-only, its failures as one line: ``ValueError(problem)``.

    torch's own messages run to paragraphs, and it warns on stderr about pickle
    protocols of files it then refuses anyway; a command line says one thing.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as exc:
        if "unsupported global" in str(exc).lower():
            # A weights-only load takes tensors and plain values only: whatever the
            # file names to be called (code, in a hostile file) was never run.
            raise ValueError(
                "refused: it holds pickled Python objects, not only tensors; none were loaded"
            ) from exc
        raise ValueError("damaged, or not a PyTorch file") from exc
    except IsADirectoryError as exc:
        raise ValueError("it is a folder") from exc
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from exc
    except Exception as exc:  # zip, pickle and format errors of every kind
        if "PytorchStreamReader" in str(exc) or isinstance(exc, EOFError):
            raise ValueError("truncated, or not a PyTorch file") from exc
        raise ValueError("damaged, or not a PyTorch file") from exc


def _short(exc: BaseException) -> str:
    """An exception as one line of at most ~160 characters."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"


def load_weights(path: Path) -> tuple[DrumLSTM, dict[str, Any]]:
    """Load shipped weights (weights-only: nothing is unpickled but tensors and numbers).

    A missing file raises ``FileNotFoundError``; any other file that is not drum model
    weights raises ``ValueError`` saying, in one line, what is wrong with it.
    """
    try:
        blob = _torch_load(path)
    except ValueError as exc:
        raise ValueError(f"{path}: not PoseJam drum model weights ({exc})") from exc
    try:
        config = ModelConfig(**blob["config"])
        model = DrumLSTM(config)
        model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    except (KeyError, TypeError) as exc:
        problem = f"no {exc} in it" if isinstance(exc, KeyError) else _short(exc)
        raise ValueError(f"{path}: not PoseJam drum model weights ({problem})") from exc
    except Exception as exc:  # torch's size mismatches, wrong types of values...
        mismatch = re.search(r"size mismatch for ([\w.]+)", str(exc))
        problem = (
            f"its tensors do not fit its config (size mismatch for {mismatch.group(1)})"
            if mismatch
            else _short(exc)
        )
        raise ValueError(f"{path}: not PoseJam drum model weights ({problem})") from exc
    model.eval()
    return model, dict(blob.get("meta", {}))


# -- the loop ------------------------------------------------------------------------


@dataclass
class Run:
    """Where a training run stands: what a checkpoint saves and ``--resume`` restores."""

    step: int = 0
    best: float = math.inf
    stale: int = 0  # evaluations since the best
    flat: int = 0  # evaluations since the best or the last halving
    lr: float = 0.0  # the learning rate now (0: not started)
    elapsed: float = 0.0
    running: float = 0.0  # a running mean of the training bits per step
    history: list[dict[str, float]] = field(default_factory=list)


def _save_checkpoint(
    path: Path,
    model: DrumLSTM,
    optimizer: torch.optim.Optimizer,
    run: Run,
    rng: np.random.Generator,
) -> None:
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "run": asdict(run),
            "numpy_rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        },
        path,
    )


def _load_checkpoint(
    path: Path, model: DrumLSTM, optimizer: torch.optim.Optimizer, rng: np.random.Generator
) -> Run:
    try:
        ckpt = _torch_load(path)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        rng.bit_generator.state = ckpt["numpy_rng"]
        torch.set_rng_state(ckpt["torch_rng"])
        return Run(**ckpt["run"])
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises RuntimeError, KeyError, pickle errors...
        problem = str(exc) if isinstance(exc, ValueError) else _short(exc)
        raise ValueError(
            f"{path}: cannot resume from it (another model size, or not a checkpoint): {problem}"
        ) from exc


def _show(run: Run, steps_per_epoch: int) -> None:
    epochs = run.step / steps_per_epoch
    last = f"{run.history[-1]['valid_bits']:.3f}" if run.history else "-"
    sys.stderr.write(
        f"\rstep {run.step} epoch {epochs:5.2f} | train {run.running:.3f} bits/step | "
        f"valid {last} (best {run.best:.3f}) | {run.elapsed / epochs:4.1f} s/epoch "
        f"| {run.elapsed / 60:5.1f} min"
    )
    sys.stderr.flush()


def _record(
    run: Run, result: dict[str, float], config: TrainConfig, optimizer: torch.optim.Optimizer
) -> bool:
    """Book a validation result: True for a new best; halve the rate on a plateau."""
    if result["bits_per_step"] < run.best:
        run.best, run.stale, run.flat = result["bits_per_step"], 0, 0
        return True
    run.stale += 1
    run.flat += 1
    if run.flat >= config.plateau:
        run.lr, run.flat = run.lr / 2, 0
        for group in optimizer.param_groups:
            group["lr"] = run.lr
        logger.info("validation is flat: learning rate now %.2g", run.lr)
    return False


def train(
    data: Path,
    out: Path,
    seed: int = 0,
    model_config: ModelConfig | None = None,
    config: TrainConfig | None = None,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    config = config or TrainConfig()
    torch.manual_seed(seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(seed)
    train_split, valid_split = load_split(data, "train"), load_split(data, "validation")
    for split in (train_split, valid_split):
        logger.info("%s", split.summary())
    if not train_split.sequences or not valid_split.sequences:
        raise ValueError(f"{data}: needs files in both the train and validation splits")
    model = DrumLSTM(model_config or ModelConfig())
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    ckpt_path = out.with_suffix(out.suffix + ".ckpt")
    run = Run()
    if resume and ckpt_path.exists():
        run = _load_checkpoint(ckpt_path, model, optimizer, rng)
        logger.info("resumed at step %d (best %.3f bits/step)", run.step, run.best)
    run.lr = run.lr or config.lr
    for group in optimizer.param_groups:
        group["lr"] = run.lr
    steps_per_epoch = max(1, train_split.steps // (config.batch * config.length))
    started = time.monotonic() - run.elapsed
    meta = {
        "dataset": "Groove MIDI Dataset v1.0.0 (CC BY 4.0, Google LLC): train split; "
        "early-stopped on validation",
        "seed": seed,
        "train_config": asdict(config),
        "train_files": len(train_split.sequences),
        "train_steps": train_split.steps,
    }
    while True:
        sources = np.stack(
            [
                random_crops(train_split.sequences, config.length, config.batch, rng)
                for _ in range(config.sources)
            ]
        )
        crops, turns = splice(sources, config.p_turn, rng)
        ce, mse, _ = losses(model, crops, training_controls(crops, config, rng, turns))
        optimizer.zero_grad()
        (ce + VELOCITY_WEIGHT * mse).backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        run.step += 1
        bits = ce.item() / LN2
        run.running = 0.9 * run.running + 0.1 * bits if run.step > 1 else bits
        run.elapsed = time.monotonic() - started
        if progress:
            _show(run, steps_per_epoch)
        done = (
            max_steps is not None and run.step >= max_steps
        ) or run.elapsed > config.minutes * 60
        if run.step % config.eval_every == 0 or done:
            result = evaluate(model, valid_split)
            run.history.append(
                {
                    "step": run.step,
                    "minutes": run.elapsed / 60,
                    "train_bits": run.running,
                    "valid_bits": result["bits_per_step"],
                    "lr": run.lr,
                }
            )
            if _record(run, result, config, optimizer):
                save_weights(
                    model,
                    out,
                    {
                        **meta,
                        "step": run.step,
                        "valid_bits_per_step": run.best,
                        "valid_accuracy": result["accuracy"],
                    },
                )
            _save_checkpoint(ckpt_path, model, optimizer, run, rng)
            plot_curve(run.history, out.with_suffix(".png"))
            if run.stale >= config.patience:
                logger.info("validation has not improved for %d evaluations: stopping", run.stale)
                done = True
        if done:
            break
    if progress:
        sys.stderr.write("\n")
    return {
        "steps": run.step,
        "best_valid_bits": run.best,
        "history": run.history,
        "minutes": run.elapsed / 60,
    }


def plot_curve(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    minutes = [h["minutes"] for h in history]
    ax.plot(minutes, [h["train_bits"] for h in history], label="train (running)")
    ax.plot(minutes, [h["valid_bits"] for h in history], label="validation")
    ax.set_xlabel("minutes")
    ax.set_ylabel("bits per step")
    ax.set_title("PoseJam drum LSTM on the Groove MIDI Dataset")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
