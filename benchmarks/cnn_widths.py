"""Would a narrower CNN reach 93% sooner? Chapter 4's recipe with other filter counts.

Usage (repository root, after ``bash scripts/setup.sh``; about 20 minutes on
a 2-core CPU of ~200 GFLOP/s)::

    .venv/bin/python benchmarks/cnn_widths.py [--widths 16,64 32,64] [--epochs 10]

The second convolution holds most of the book's CNN's arithmetic, so fewer
filters make every epoch cheaper; the question is whether the accuracy
holds. Each network here trains with chapter 4's recipe
(``cnn.FASHION_TRAINING``: seed, batch size, one-cycle schedule, epochs)
through :func:`visionbook.cnn.train_fashion_cnn`; only ``filters`` changes.
The table gives the training FLOPs per image (TensorFlow's count, as in
``train_step_efficiency.py``), the training seconds, the fastest epoch (the
machine's drift slows some epochs by up to half, the fastest is the fairest
cost), and the test accuracy.  Nothing is stored.  Writes
``benchmarks/cnn_widths.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import visionbook  # noqa: F401  (quietens TensorFlow first)
import keras

from machine import machine_line, matmul_gflops
from train_step_efficiency import cnn_step, counted_flops
from visionbook import cnn

OUT = Path(__file__).resolve().parent
#: Filter counts of the two convolutions, the book's (32, 64) among them.
WIDTHS = ((8, 16), (16, 32), (16, 64), (24, 48), (32, 48), (32, 64), (48, 96))


class EpochClock(keras.callbacks.Callback):
    """Seconds of every training epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def width(text: str) -> tuple[int, int]:
    """``"16,64"`` as ``(16, 64)``: an argparse type."""
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"a width is two positive filter counts like 16,64, got {text!r}")
    return int(parts[0]), int(parts[1])


def train_width(filters: tuple[int, int], epochs: int) -> dict[str, float]:
    """Chapter 4's recipe with ``filters``: parameters, MFLOP per image, seconds, accuracy."""
    settings = {k: v for k, v in cnn.FASHION_TRAINING.items() if k != "model"}
    settings["epochs"] = epochs
    overrides = {"filters": filters}
    step, specs, _ = cnn_step(settings["batch_size"], overrides)
    mflop_per_image = counted_flops(step, *specs) / specs[0].shape[0] / 1e6
    clock = EpochClock()
    model, record = cnn.train_fashion_cnn(**settings, verbose=0, callbacks=[clock], model_overrides=overrides)
    return {
        "params": model.count_params(),
        "mflop_per_image": mflop_per_image,
        "train_seconds": record["train_seconds"],
        "fastest_epoch": min(clock.seconds),
        "test_accuracy": record["test_accuracy"],
    }


def row(filters: tuple[int, int], result: dict[str, float]) -> str:
    """One table row; the book's network marked."""
    name = f"{filters}" + (" (the book's)" if tuple(filters) == tuple(cnn.FASHION_CNN["filters"]) else "")
    return (
        f"| {name} | {result['params']:,} | {result['mflop_per_image']:.1f} | {result['train_seconds']:.1f} "
        f"| {result['fastest_epoch']:.1f} | {result['test_accuracy']:.4f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=width, nargs="+", default=list(WIDTHS))
    parser.add_argument("--epochs", type=int, default=cnn.FASHION_TRAINING["epochs"])
    args = parser.parse_args()
    before = matmul_gflops()
    rows = []
    for filters in args.widths:
        rows.append(row(filters, train_width(filters, args.epochs)))
        print(rows[-1], flush=True)
    after = matmul_gflops()
    command = "`.venv/bin/python benchmarks/cnn_widths.py"
    if (args.widths, args.epochs) != (list(WIDTHS), cnn.FASHION_TRAINING["epochs"]):
        command += f" --widths {' '.join(f'{a},{b}' for a, b in args.widths)} --epochs {args.epochs}"
    lines = [
        "# The CNN's width: chapter 4's recipe with other filter counts",
        "",
        f"- {machine_line(before)}; {after:.0f} GFLOP/s when measured again after the runs",
        f"- command: {command}`",
        f"- {args.epochs} epochs, seed {cnn.FASHION_TRAINING['seed']}, one run per width, one after another;"
        " MFLOP: training FLOPs per image (forward, gradients, update)",
        "",
        "| filters | parameters | MFLOP per image | training seconds | fastest epoch (s) | test accuracy |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
    ]
    (OUT / "cnn_widths.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
