"""Training speed with tf.data's autotuning on and off, the same model and batches.

Usage::

    .venv/bin/python benchmarks/input_pipeline.py [--images 15360] [--rounds 6]

By default tf.data tunes its own buffers and threads while a model trains.
On a 2-core CPU that tuning competes with the training step for the cores.
This script trains the book's CNN and GAN on the same images fed in several
ways, each way taking one turn per round so that all of them see the same
drift of the machine, and reports images per second (median round and the
range over the rounds). It writes ``benchmarks/input_pipeline.md``.

Rows:

- CNN, ``fit(x, y)`` on NumPy arrays: how chapter 4 trained before
  (Keras builds an autotuned tf.data pipeline from the arrays);
- CNN, :func:`visionbook.data.batches_like_fit`: the same batches in the
  same order from a tuner-off pipeline (how chapter 4 trains);
- CNN, a seeded tf.data pipeline (shuffle, batch, prefetch 2), tuner on;
- CNN, the same pipeline with :func:`visionbook.data.without_autotuning`;
- GAN, :func:`visionbook.gan.real_images_dataset` with the tuner on (the
  book's pipeline before it switched the tuner off) and off (the book's).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

import visionbook
from machine import machine_line, matmul_gflops
from visionbook import cnn, data, gan

HERE = Path(__file__).resolve().parent


def tuned(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` with tf.data's autotuning on (its default)."""
    options = tf.data.Options()
    options.autotune.enabled = True
    return dataset.with_options(options)


def cnn_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int = visionbook.SEED) -> tf.data.Dataset:
    """A seeded tf.data pipeline of ``(image, label)`` batches, reshuffled each epoch."""
    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(2)
    )


def contestants(images: int) -> list[tuple[str, str, Callable[[], Any]]]:
    """``(model, feeding, one epoch)`` for each row; every epoch trains on ``images`` images."""
    (raw, y), _ = data.load_fashion_mnist()  # loaded once: the CNN takes [0, 1], the GAN pipeline [-1, 1]
    raw, y = raw[:images], y[:images]
    x = data.as_batch(raw)
    batch = cnn.FASHION_TRAINING["batch_size"]
    runs: list[tuple[str, str, Callable[[], Any]]] = []

    def classifier() -> keras.Model:
        keras.utils.set_random_seed(visionbook.SEED)
        return cnn.compile_classifier(cnn.create_fashion_cnn(), 1e-3)

    numpy_model, like_fit_model, tuned_model, untuned_model = classifier(), classifier(), classifier(), classifier()
    keras.utils.set_random_seed(visionbook.SEED)
    like_fit = data.batches_like_fit(x, y, batch)
    untuned_cnn = data.without_autotuning(cnn_pipeline(x, y, batch))
    tuned_cnn = tuned(cnn_pipeline(x, y, batch))
    assert tuned_cnn.options().autotune.enabled and untuned_cnn.options().autotune.enabled is False
    runs.append(("Fashion-MNIST CNN", "`fit(x, y)` on NumPy arrays (chapter 4 before)",
                 lambda: numpy_model.fit(x, y, batch_size=batch, epochs=1, verbose=0)))
    runs.append(("Fashion-MNIST CNN", "the same batches, tuner off (`batches_like_fit`, chapter 4)",
                 lambda: like_fit_model.fit(like_fit, epochs=1, verbose=0, shuffle=False)))
    runs.append(("Fashion-MNIST CNN", "tf.data pipeline, tuner on",
                 lambda: tuned_model.fit(tuned_cnn, epochs=1, verbose=0, shuffle=False)))
    runs.append(("Fashion-MNIST CNN", "tf.data pipeline, tuner off",
                 lambda: untuned_model.fit(untuned_cnn, epochs=1, verbose=0, shuffle=False)))

    gan_batch = gan.FASHION_GAN["batch_size"]
    for label, wrap in (("tf.data pipeline, tuner on (the book's before)", tuned),
                        ("tf.data pipeline, tuner off (the book's)", lambda d: d)):
        keras.utils.set_random_seed(visionbook.SEED)
        model = gan.build_fashion_gan(gan.FASHION_GAN)
        dataset = wrap(gan.real_images_dataset(raw, gan_batch, visionbook.SEED))
        assert dataset.options().autotune.enabled is (wrap is tuned), "the tuner is not as labelled"
        runs.append(("GAN (both networks)", label,
                     lambda model=model, dataset=dataset: model.fit(dataset, epochs=1, verbose=0, shuffle=False)))
    return runs


def rates_in_rounds(runs: list[tuple[str, str, Callable[[], Any]]], images: int, rounds: int) -> list[list[float]]:
    """Images per second of each run's epoch, round by round (each run one epoch per round)."""
    for _, _, epoch in runs:  # trace, compile and warm up
        epoch()
    rates: list[list[float]] = [[] for _ in runs]
    for round_number in range(rounds):
        for rate, (_, _, epoch) in zip(rates, runs):
            start = time.perf_counter()
            epoch()
            rate.append(images / (time.perf_counter() - start))
        print(f"round {round_number + 1}: " + ", ".join(f"{r[-1]:.0f}" for r in rates), flush=True)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=15360, help="training images per epoch (default 15360)")
    parser.add_argument("--rounds", type=int, default=6, help="epochs each way of feeding trains, taking turns (default 6)")
    args = parser.parse_args()
    if args.images < 1280 or args.rounds < 1:
        parser.error("--images must be at least 1280 and --rounds at least 1")
    rate = matmul_gflops()
    machine = machine_line(rate)
    print(machine, flush=True)
    runs = contestants(args.images)
    rates = rates_in_rounds(runs, args.images, args.rounds)
    rate_after = matmul_gflops()
    lines = [
        "# Input pipeline: tf.data's autotuning on and off",
        "",
        f"- {machine}; {rate_after:.0f} GFLOP/s when measured again after the timings",
        f"- command: `.venv/bin/python benchmarks/input_pipeline.py --images {args.images} --rounds {args.rounds}`",
        f"- each way of feeding trains one epoch of {args.images:,} images per round, taking turns for "
        f"{args.rounds} rounds; images/s of the median round, range from the slowest round to the fastest",
        "",
        "| model | feeding | images/s | range | per round |",
        "|---|---|---:|---:|---|",
    ]
    for (model, feeding, _), values in zip(runs, rates):
        lines.append(f"| {model} | {feeding} | {np.median(values):.0f} | {min(values):.0f}-{max(values):.0f} | "
                     + ", ".join(f"{v:.0f}" for v in values) + " |")
    (HERE / "input_pipeline.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
