"""Quality against training seconds for the book's CNN, VAE and conditional GAN recipes.

Usage (repository root, after ``bash scripts/setup.sh``; about 8 minutes on
a 2-core machine doing about 200 GFLOP/s)::

    .venv/bin/python benchmarks/time_to_quality.py

Each model is trained by the function its chapter's recipe lives in, with
the chapter's settings (``cnn.FASHION_TRAINING``, ``vae.FASHION_VAE_TRAINING``,
``cgan.FASHION_CGAN``), from scratch and without touching the model store.
After every epoch the clock stops while the model is scored: the CNN by its
accuracy on its validation images (the test images are used once, after the
last epoch), the VAE and the conditional GAN by the book's Frechet distance
and class coverage of 2,000 samples (judged by the stored Part II CNN, as in
chapters 8 and 10), the conditional GAN also by how often the judge agrees
with the class it was asked for.  The seconds are training seconds only.
The GAN's curve, against the DCGAN tutorial's, is
``gan_vs_dcgan_tutorial.py``.  Writes ``benchmarks/time_to_quality.{csv,md,png}``.

The CNN's one-cycle learning rate falls to zero at the last epoch, so the
accuracy of an earlier epoch is that of a run interrupted mid-schedule, not
of a shorter recipe: it shows where the seconds go, and the last point is
the recipe's result.
"""

from __future__ import annotations

import csv
import inspect
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import visionbook  # noqa: E402  (quietens TensorFlow first)
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from machine import machine_line  # noqa: E402
from visionbook import cgan, cnn, data, metrics, vae  # noqa: E402

OUT = Path(__file__).resolve().parent
SAMPLES = 2000


class TrainingClock(keras.callbacks.Callback):
    """Count only the seconds spent training; after each epoch, score the model being trained.

    ``score(model, logs)`` returns the epoch's row of scores. The clock stops
    when ``fit`` starts its validation pass, if it has one.
    """

    def __init__(self, name: str, score: Callable[[keras.Model, dict], dict], rows: list[dict]) -> None:
        super().__init__()
        self.name, self.score, self.rows = name, score, rows
        self.trained = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started, self.stopped = time.perf_counter(), None

    def on_test_begin(self, logs: dict | None = None) -> None:
        self.stopped = time.perf_counter()  # fit's validation pass: not training

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.trained += (self.stopped or time.perf_counter()) - self.started
        scores = self.score(self.model, logs or {})
        row = {"model": self.name, "epoch": epoch + 1, "train_seconds": round(self.trained, 1), **scores}
        self.rows.append(row)
        print(row, flush=True)


def judged(judge: keras.Model, images: np.ndarray, reference: np.ndarray) -> dict:
    """The book's generation metrics for ``images``, rounded for the table."""
    result = metrics.judge(judge, images, reference)
    return {k: v if k == "classes_covered" else round(float(v), 3) for k, v in result.items()}


def recipe(train: Callable, settings: dict) -> dict:
    """The chapter's ``settings`` that ``train`` takes as arguments (a ``"model"`` entry it may not)."""
    accepted = inspect.signature(train).parameters
    unused = sorted(set(settings) - set(accepted) - {"model"})
    if unused:
        raise TypeError(f"{train.__name__} takes no {unused}: this script no longer trains as the chapter does.")
    return {k: v for k, v in settings.items() if k in accepted}


def cnn_curve(rows: list[dict]) -> None:
    """The chapter-4 recipe (``cnn.train_fashion_cnn``): validation accuracy per epoch, test accuracy at the end."""

    def score(model: keras.Model, logs: dict) -> dict:
        return {"validation_accuracy": round(float(logs["val_accuracy"]), 4)}

    settings = recipe(cnn.train_fashion_cnn, cnn.FASHION_TRAINING)
    clock = TrainingClock("Fashion-MNIST CNN", score, rows)
    _, record = cnn.train_fashion_cnn(**settings, verbose=0, callbacks=[clock])
    if rows:
        rows[-1]["test_accuracy"] = round(float(record["test_accuracy"]), 4)


def vae_curve(rows: list[dict], judge: keras.Model, reference: np.ndarray) -> None:
    """The chapter-8 recipe (``vae.train_fashion_vae``), scored by its samples."""

    def score(model: keras.Model, logs: dict) -> dict:
        return judged(judge, vae.sample(model.decoder, SAMPLES, seed=7), reference)

    settings = recipe(vae.train_fashion_vae, vae.FASHION_VAE_TRAINING)
    vae.train_fashion_vae(**settings, verbose=0, callbacks=[TrainingClock("VAE", score, rows)])


def cgan_curve(rows: list[dict], judge: keras.Model, reference: np.ndarray) -> None:
    """The chapter-10 recipe (``cgan.train_conditional_gan``), scored by its samples and class match."""

    def score(model: keras.Model, logs: dict) -> dict:
        images, labels = cgan.sample_classes(model.generator, SAMPLES // cgan.NUM_CLASSES, seed=7)
        return {**judged(judge, images, reference),
                "class_match": round(cgan.class_match(judge, images, labels)["overall"], 3)}

    cgan.train_conditional_gan(cgan.FASHION_CGAN, verbose=0, callbacks=[TrainingClock("conditional GAN", score, rows)])


def main() -> None:
    machine = machine_line()
    print(machine, flush=True)
    judge, _ = cnn.trained_fashion_cnn()
    reference = metrics.features(judge, data.load_fashion_mnist()[1][0][:5000])
    rows: list[dict] = []
    cnn_curve(rows)
    vae_curve(rows, judge, reference)
    cgan_curve(rows, judge, reference)

    fields = ["model", "epoch", "train_seconds", "validation_accuracy", "test_accuracy", "frechet_distance",
              "classifier_score", "classes_covered", "largest_class_share", "class_match"]
    with open(OUT / "time_to_quality.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)

    cnn_rows = [r for r in rows if r["model"] == "Fashion-MNIST CNN"]
    vae_rows = [r for r in rows if r["model"] == "VAE"]
    cgan_rows = [r for r in rows if r["model"] == "conditional GAN"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    seconds = [r["train_seconds"] for r in cnn_rows]
    axes[0].plot(seconds, [r["validation_accuracy"] for r in cnn_rows], "o-", label="validation")
    axes[0].plot(seconds[-1:], [r["test_accuracy"] for r in cnn_rows[-1:]], "s", label="test, at the end")
    axes[0].axhline(0.93, color="gray", linestyle="--", label="0.93")
    axes[0].set(title="CNN: accuracy", ylabel="accuracy")
    for part, name, colour in ((vae_rows, "VAE", "C1"), (cgan_rows, "conditional GAN", "C2")):
        seconds = [r["train_seconds"] for r in part]
        axes[1].plot(seconds, [r["frechet_distance"] for r in part], "o-", color=colour, label=name)
        axes[2].plot(seconds, [r["classes_covered"] for r in part], "o-", color=colour, label=name)
    axes[1].set(title="Frechet distance (lower is better)", ylabel="Frechet distance")
    axes[2].set(title="classes covered", ylabel="classes", ylim=(0, 10.5))
    axes[1].legend()
    for ax in axes:
        ax.set_xlabel("training seconds")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(OUT / "time_to_quality.png", dpi=110)

    lines = [
        "# Time to quality: the CNN, the VAE and the conditional GAN",
        "",
        f"- {machine}",
        f"- date: {time.strftime('%Y-%m-%d')}; command: `.venv/bin/python benchmarks/time_to_quality.py`",
        "- each recipe as its chapter trains it; the clock stops while the model is scored after every epoch",
        "- the CNN: accuracy on its validation images after every epoch, on the test images once, at the end",
        f"- VAE and conditional GAN judged by the book's CNN on {SAMPLES} samples (lower Frechet distance is better); "
        "class match: share of the conditional GAN's images the judge puts in the class that was asked for",
        "",
        "| model | epoch | training seconds | validation accuracy | test accuracy | Frechet distance "
        "| classes covered | largest class share | class match |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['model']} | {r['epoch']} | {r['train_seconds']} | {r.get('validation_accuracy', '')} | "
            f"{r.get('test_accuracy', '')} | "
            f"{r.get('frechet_distance', '')} | {r.get('classes_covered', '')} | {r.get('largest_class_share', '')} | "
            f"{r.get('class_match', '')} |"
            for r in rows
        ],
        "",
        "![quality against training seconds](time_to_quality.png)",
    ]
    (OUT / "time_to_quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
