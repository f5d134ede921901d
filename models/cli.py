"""``posejam model train|sample|eval``: the drum model's command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.model import DrumLSTM

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WEIGHTS = REPO / "models" / "drum_lstm.pt"


def _default_data() -> Path:
    from models.data import DEFAULT_DATA

    return DEFAULT_DATA


def _in_range(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high``, else the range in the error."""

    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in range {low:g}..{high:g}, got {text}")
        return value

    return parse


_unit = _in_range(0.0, 1.0)
_balance = _in_range(-1.0, 1.0)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def _add_weights(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights",
        type=Path,
        default=DEFAULT_WEIGHTS,
        help="model weights (default: the shipped ones)",
    )


def _add_steer(parser: argparse.ArgumentParser) -> None:
    from models.controls import MAX_STEER, STEER

    parser.add_argument(
        "--steer",
        type=_in_range(0.0, MAX_STEER),
        default=STEER,
        help="how hard asked syncopation is steered while sampling, 0 (the LSTM alone) "
        "..20 (default: %(default)s, the game's)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    data_help = "Groove MIDI Dataset folder with info.csv (default: ../shared/data/groove)"

    p = sub.add_parser(
        "train",
        help="train the drum LSTM",
        description="Train the drum LSTM on the train split, early-stopped on validation. "
        "Writes OUT (weights), OUT.ckpt (to resume) and OUT with .png (the training curve).",
    )
    p.add_argument("--data", type=Path, default=None, help=data_help)
    p.add_argument("--out", type=Path, required=True, help="where to write the weights")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--minutes", type=float, default=40.0, help="time budget (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from OUT.ckpt")
    p.add_argument(
        "--hidden", type=_positive_int, default=128, help="LSTM units (default: %(default)s)"
    )
    p.add_argument(
        "--embed",
        type=_positive_int,
        default=64,
        help="class embedding size (default: %(default)s)",
    )
    p.add_argument(
        "--layers", type=_positive_int, default=2, help="LSTM layers (default: %(default)s)"
    )
    p.add_argument("--dropout", type=float, default=0.3, help="dropout (default: %(default)s)")
    p.add_argument(
        "--threads", type=_positive_int, default=2, help="CPU threads (default: %(default)s)"
    )
    p.set_defaults(run=_train)

    p = sub.add_parser(
        "sample",
        help="write drum bars to a MIDI file",
        description="Write BARS bars of drums under the asked groove controls, primed by a "
        "grid, dice or a MIDI file, and save them as General MIDI drums.",
    )
    _add_weights(p)
    p.add_argument(
        "--density",
        type=_unit,
        default=None,
        help="hits per step, 0..1 (default: the model's choice)",
    )
    p.add_argument(
        "--syncopation", type=_unit, default=None, help="0..1 (default: the model's choice)"
    )
    p.add_argument(
        "--balance", type=_balance, default=None, help="-1 (kick, low tom) .. 1 (hats, cymbals)"
    )
    p.add_argument("--intensity", type=_unit, default=None, help="mean velocity / 127, 0..1")
    p.add_argument("--primer", default="dice", help="grid, dice or FILE.mid (default: %(default)s)")
    p.add_argument(
        "--bars", type=_positive_int, default=2, help="bars to write (default: %(default)s)"
    )
    p.add_argument("--temperature", type=float, default=1.0, help="0.05..3 (default: %(default)s)")
    _add_steer(p)
    p.add_argument(
        "--bpm", type=float, default=120.0, help="tempo of the MIDI file (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--out", type=Path, required=True, help="the MIDI file to write")
    p.set_defaults(run=_sample)

    p = sub.add_parser(
        "eval",
        help="measure the model on a folder of drum MIDI",
        description="Bits per step against a bar-aware n-gram, accuracy, and how well the "
        "model obeys asked density and syncopation. Uses info.csv's test split when the "
        "folder has one (validation if it has no test rows), else every .mid in it.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder of drum MIDI (default: ../shared/data/groove)",
    )
    p.add_argument(
        "--train-data",
        type=Path,
        default=None,
        help="training split for the n-gram (default: ../shared/data/groove)",
    )
    _add_weights(p)
    p.add_argument(
        "--settings",
        type=_positive_int,
        default=256,
        help="control settings to try (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    _add_steer(p)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(run=_eval)


def _train(args: argparse.Namespace) -> int:
    from models.data import DataError
    from models.model import ModelConfig
    from models.train import TrainConfig, train

    try:
        result = train(
            args.data or _default_data(),
            args.out,
            args.seed,
            model_config=ModelConfig(
                hidden=args.hidden, layers=args.layers, embed=args.embed, dropout=args.dropout
            ),
            config=TrainConfig(minutes=args.minutes, threads=args.threads),
            resume=args.resume,
        )
    except (DataError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    print(json.dumps({k: v for k, v in result.items() if k != "history"}))
    return 0


def _load(weights: Path) -> DrumLSTM | None:
    """The model, or None after logging why it cannot be loaded."""
    from models.train import load_weights

    try:
        model, _ = load_weights(weights)
    except FileNotFoundError:
        logger.error("cannot load weights: no file at %s", weights)
        return None
    except ValueError as exc:  # says which file, and what is wrong with it
        logger.error("cannot load weights: %s", exc)
        return None
    return model


def _sample(args: argparse.Namespace) -> int:
    import numpy as np

    from models.data import DataError, load_file
    from models.encoding import steps_to_midi
    from models.sample import LayerRequest, generate
    from server.generator import pattern_from_dice, pattern_from_grid
    from shared.drums import DRUM_COUNT, GRID_STEPS, STEPS_PER_BAR

    model = _load(args.weights)
    if model is None:
        return 1
    rng = np.random.default_rng(args.seed)
    if args.primer == "dice":
        primer = np.array(pattern_from_dice(int(rng.integers(2**31)), 0.5), dtype=np.uint8)
    elif args.primer == "grid":
        grid = [
            int(m)
            for m in rng.integers(0, 2**DRUM_COUNT, GRID_STEPS)
            & rng.integers(0, 2**DRUM_COUNT, GRID_STEPS)
        ]
        primer = np.array(pattern_from_grid(grid), dtype=np.uint8)
    else:
        try:
            steps = load_file(Path(args.primer), roland=False)
        except (DataError, OSError) as exc:
            logger.error("cannot use primer: %s", exc)
            return 1
        bars = len(steps) // STEPS_PER_BAR
        primer = steps[max(0, bars - 2) * STEPS_PER_BAR : bars * STEPS_PER_BAR]
    asked = (args.density, args.syncopation, args.balance, args.intensity)
    controls = None
    if any(v is not None for v in asked):
        from models.controls import sequence_controls

        # Unasked controls keep the primer's values, so only what was asked moves.
        base = (
            sequence_controls(primer).mean(axis=0)
            if len(primer)
            else np.array([0.2, 0.2, 0.0, 0.6])
        )
        controls = tuple(float(b if a is None else a) for a, b in zip(asked, base, strict=True))
    try:
        request = LayerRequest(primer, controls, args.temperature, args.seed, args.steer)
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    written = generate(model, [request], steps=args.bars * STEPS_PER_BAR)[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    steps_to_midi(written, args.bpm).write(str(args.out))
    logger.info("wrote %d bars (%d hits) to %s", args.bars, int((written > 0).sum()), args.out)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from models.data import DataError
    from models.evaluate import run_eval

    model = _load(args.weights)
    if model is None:
        return 1
    try:
        result = run_eval(
            model,
            args.data or _default_data(),
            args.train_data or _default_data(),
            args.settings,
            args.seed,
            args.steer,
        )
    except (DataError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    if not args.json:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
