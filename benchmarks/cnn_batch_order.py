"""Does the order of the batches matter? Chapter 4's CNN recipe fed two ways.

Usage (repository root, after ``bash scripts/setup.sh``; about three minutes
per run on a CPU of ~200 GFLOP/s)::

    .venv/bin/python benchmarks/cnn_batch_order.py [--seeds 42 1] [--epochs 10]

With the random seed fixed, ``fit`` on NumPy arrays shuffles the training
images once and replays that order in every epoch (chapter 4's last
exercise shows it). A seeded tf.data ``shuffle`` draws a new order each
epoch. This script trains the chapter's recipe (``cnn.FASHION_TRAINING``:
same network, batch size, schedule and number of epochs) both ways for each
seed: through :func:`visionbook.cnn.train_fashion_cnn`, as the chapter does
(the batches of ``fit`` on the arrays, served by
:func:`visionbook.data.batches_like_fit` with tf.data's tuner off), and from
the reshuffling pipeline of ``input_pipeline.py``, also with the tuner off,
so that only the order differs. It reports training seconds and test
accuracy and writes ``benchmarks/cnn_batch_order.md``. Each run trains from scratch and nothing
is stored; the runs of a seed follow each other, so a slow spell of the
machine can favour either.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import visionbook  # noqa: F401  (quietens TensorFlow first)
import keras

from input_pipeline import cnn_pipeline
from machine import machine_line, matmul_gflops
from visionbook import cnn, data

OUT = Path(__file__).resolve().parent
FEEDS = ("the batches of `fit` on NumPy arrays, one order replayed, tuner off (chapter 4)",
         "tf.data, reshuffled every epoch, tuner off")


def train_reshuffled(epochs: int, seed: int) -> tuple[float, float]:
    """Training seconds and test accuracy of the chapter's recipe fed by a reshuffling pipeline."""
    settings = cnn.FASHION_TRAINING
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = data.fashion_mnist_for_training()
    model = cnn.create_fashion_cnn()
    batch_size = settings["batch_size"]
    steps = epochs * math.ceil(len(x_train) / batch_size)
    cnn.compile_classifier(model, cnn.one_cycle_schedule(steps, settings["peak_learning_rate"]))
    batches = data.without_autotuning(cnn_pipeline(x_train, y_train, batch_size, seed=seed))
    start = time.perf_counter()
    model.fit(batches, epochs=epochs, verbose=0, shuffle=False)  # the pipeline shuffles itself
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return seconds, float(accuracy)


def train_replayed(epochs: int, seed: int) -> tuple[float, float]:
    """Training seconds and test accuracy of the chapter's own training function."""
    settings = cnn.FASHION_TRAINING
    _, record = cnn.train_fashion_cnn(
        epochs, settings["batch_size"], settings["peak_learning_rate"], seed=seed, verbose=0
    )
    return record["train_seconds"], record["test_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1])
    parser.add_argument("--epochs", type=int, default=cnn.FASHION_TRAINING["epochs"])
    args = parser.parse_args()
    before = matmul_gflops()
    rows = []
    for seed in args.seeds:
        for feed, train in zip(FEEDS, (train_replayed, train_reshuffled)):
            seconds, accuracy = train(args.epochs, seed)
            rows.append(f"| {seed} | {feed} | {seconds:.1f} | {accuracy:.4f} |")
            print(rows[-1], flush=True)
    after = matmul_gflops()
    command = "`.venv/bin/python benchmarks/cnn_batch_order.py"
    command += "`" if (args.seeds, args.epochs) == ([42, 1], cnn.FASHION_TRAINING["epochs"]) else (
        f" --seeds {' '.join(map(str, args.seeds))} --epochs {args.epochs}`"
    )
    lines = [
        "# The CNN's batch order: one order replayed against a new one every epoch",
        "",
        f"- {machine_line(before)}; {after:.0f} GFLOP/s when measured again after the runs",
        f"- command: {command}",
        f"- chapter 4's recipe, {args.epochs} epochs, everything but the order of the batches equal;"
        " one run per seed and feed",
        "",
        "| seed | feeding | training seconds | test accuracy |",
        "|---:|---|---:|---:|",
        *rows,
    ]
    (OUT / "cnn_batch_order.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
