"""How much the judge matters: the same images scored by two training lengths of the book's CNN.

Usage (repository root, after ``bash scripts/setup.sh``; a few minutes, less
when the model store already holds the models)::

    .venv/bin/python benchmarks/judge_strictness.py

The book's Frechet distance is computed on the features of its Fashion-MNIST
CNN.  An earlier edition trained that CNN for 7 epochs, this one for 10
(``cnn.FASHION_TRAINING``).  This script scores the same images (real ones, the
stored GAN's and VAE's samples, noise) with both judges, so that distances
quoted from the two editions can be compared: a distance is a property of
the images *and* the judge.  Models come from the model store (trained there if missing).  Writes
``benchmarks/judge_strictness.md``.
"""

from __future__ import annotations

from pathlib import Path

import visionbook  # noqa: F401  (quietens TensorFlow first)
import numpy as np

from machine import machine_line
from visionbook import cnn, data, gan, metrics, store, vae

OUT = Path(__file__).resolve().parent
SAMPLES = 5000


def judge_of(epochs: int):
    """The book's CNN trained with its recipe for ``epochs`` epochs (from the store when it is there)."""
    if epochs == cnn.FASHION_TRAINING["epochs"]:
        return cnn.trained_fashion_cnn(verbose=0)[0]
    config = {**cnn.FASHION_TRAINING, "epochs": epochs}
    settings = {k: v for k, v in config.items() if k != "model"}
    return store.load_or_train("fashion_cnn", config, lambda: cnn.train_fashion_cnn(**settings, verbose=0))[0]


def main() -> None:
    (x_train, _), (x_test, y_test) = data.load_fashion_mnist()
    generator, _ = gan.trained_fashion_gan(verbose=0)
    _, decoder, _ = vae.trained_fashion_vae(verbose=0)
    images = {
        "real training images": x_train[:SAMPLES],
        "GAN samples (chapter 7)": gan.sample(generator, SAMPLES, seed=3),
        "VAE samples (chapter 8)": vae.sample(decoder, SAMPLES, seed=3),
        "uniform noise": np.random.default_rng(0).random((SAMPLES, 28, 28), dtype=np.float32),
    }
    columns = {}
    for epochs in (7, cnn.FASHION_TRAINING["epochs"]):
        judge = judge_of(epochs)
        reference = metrics.features(judge, x_test[:SAMPLES])
        accuracy = float(np.mean(cnn.predict_classes(judge, x_test) == y_test))
        columns[epochs] = (accuracy, {name: metrics.judge(judge, batch, reference) for name, batch in images.items()})
    lines = [
        "# The same images, two judges",
        "",
        f"- {machine_line()}",
        "- command: `.venv/bin/python benchmarks/judge_strictness.py`",
        f"- {SAMPLES} images each, reference features from {SAMPLES} test images",
        "",
        "| images | " + " | ".join(f"Frechet distance, judge after {e} epochs (test accuracy {a:.4f})" for e, (a, _) in columns.items())
        + " | ratio |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    old, new = (scores for _, scores in columns.values())
    for name in images:
        a, b = old[name]["frechet_distance"], new[name]["frechet_distance"]
        lines.append(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.2f} |")
    (OUT / "judge_strictness.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
