"""Quality against training seconds for the book's CNN, VAE and conditional GAN recipes.

Usage (repository root, after ``bash scripts/setup.sh``; about 8 minutes on
a 2-core machine doing about 200 GFLOP/s)::

    .venv/bin/python benchmarks/time_to_quality.py

Each model is trained exactly as its chapter trains it (the settings of
``cnn.FASHION_TRAINING``, ``vae.FASHION_VAE_TRAINING`` and
``cgan.FASHION_CGAN``), from scratch and without touching the model store.
After every epoch the clock stops while the model is scored: the CNN by its
accuracy on the 10,000 test images, the VAE and the conditional GAN by the
book's Frechet distance and class coverage of 2,000 samples (judged by the
stored Part II CNN, as in chapters 8 and 10), the conditional GAN also by how
often the judge agrees with the class it was asked for.  The seconds are
training seconds only.  The GAN's curve, against the DCGAN tutorial's, is
``gan_vs_dcgan_tutorial.py``.  Writes ``benchmarks/time_to_quality.{csv,md,png}``.

The CNN's one-cycle learning rate falls to zero at the last epoch, so the
accuracy of an earlier epoch is that of a run interrupted mid-schedule, not
of a shorter recipe: it shows where the seconds go, and the last point is
the recipe's result.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import visionbook  # noqa: E402  (quietens TensorFlow first)
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from machine import machine_line  # noqa: E402
from visionbook import cgan, cnn, data, metrics, vae  # noqa: E402

OUT = Path(__file__).resolve().parent
SAMPLES = 2000


class TrainingClock(keras.callbacks.Callback):
    """Count only the seconds spent in training epochs, then call ``score``."""

    def __init__(self, name: str, score, rows: list[dict]) -> None:
        super().__init__()
        self.name, self.score, self.rows = name, score, rows
        self.trained = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.trained += time.perf_counter() - self.started
        row = {"model": self.name, "epoch": epoch + 1, "train_seconds": round(self.trained, 1), **self.score()}
        self.rows.append(row)
        print(row, flush=True)


def cnn_curve(rows: list[dict]) -> None:
    """The chapter-4 recipe, scored by test accuracy after every epoch."""
    settings = {k: v for k, v in cnn.FASHION_TRAINING.items() if k != "model"}
    keras.utils.set_random_seed(settings["seed"])
    (x_train, y_train), (x_test, y_test) = data.fashion_mnist_for_training()
    model = cnn.create_fashion_cnn()
    steps = settings["epochs"] * math.ceil(len(x_train) / settings["batch_size"])
    cnn.compile_classifier(model, cnn.one_cycle_schedule(steps, settings["peak_learning_rate"]))

    def score() -> dict:
        return {"test_accuracy": round(float(model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]), 4)}

    clock = TrainingClock("Fashion-MNIST CNN", score, rows)
    model.fit(x_train, y_train, batch_size=settings["batch_size"], epochs=settings["epochs"], verbose=0, callbacks=[clock])


def vae_curve(rows: list[dict], judge: keras.Model) -> None:
    """The chapter-8 recipe, scored by Frechet distance and coverage of its samples."""
    settings = {k: v for k, v in vae.FASHION_VAE_TRAINING.items() if k != "model"}
    keras.utils.set_random_seed(settings["seed"])
    (x_train, _), _ = data.fashion_mnist_for_training()
    reference = metrics.features(judge, data.load_fashion_mnist()[1][0][:5000])
    model = vae.create_vae(seed=settings["seed"])
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]))

    def score() -> dict:
        result = metrics.judge(judge, vae.sample(model.decoder, SAMPLES, seed=7), reference)
        return {k: v if k == "classes_covered" else round(float(v), 3) for k, v in result.items()}

    clock = TrainingClock("VAE", score, rows)
    model.fit(x_train, batch_size=settings["batch_size"], epochs=settings["epochs"], verbose=0, callbacks=[clock])


def cgan_curve(rows: list[dict], judge: keras.Model) -> None:
    """The chapter-10 conditional GAN, scored by Frechet distance, coverage and class match."""
    config = cgan.FASHION_CGAN
    keras.utils.set_random_seed(config["seed"])
    (x_train, y_train), (x_test, _) = data.load_fashion_mnist()
    reference = metrics.features(judge, x_test[:5000])
    model = cgan.build_conditional_gan(config)
    dataset = cgan.labelled_dataset(x_train, y_train, config["batch_size"], config["seed"])

    def score() -> dict:
        images, labels = cgan.sample_classes(model.generator, SAMPLES // cgan.NUM_CLASSES, seed=7)
        result = metrics.judge(judge, images, reference)
        result = {k: v if k == "classes_covered" else round(float(v), 3) for k, v in result.items()}
        return {**result, "class_match": round(cgan.class_match(judge, images, labels)["overall"], 3)}

    clock = TrainingClock("conditional GAN", score, rows)
    model.fit(dataset, epochs=config["epochs"], verbose=0, shuffle=False, callbacks=[clock])


def main() -> None:
    machine = machine_line()
    print(machine, flush=True)
    judge, _ = cnn.trained_fashion_cnn()
    rows: list[dict] = []
    cnn_curve(rows)
    vae_curve(rows, judge)
    cgan_curve(rows, judge)

    fields = ["model", "epoch", "train_seconds", "test_accuracy", "frechet_distance", "classifier_score",
              "classes_covered", "largest_class_share", "class_match"]
    with open(OUT / "time_to_quality.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)

    cnn_rows = [r for r in rows if r["model"] == "Fashion-MNIST CNN"]
    vae_rows = [r for r in rows if r["model"] == "VAE"]
    cgan_rows = [r for r in rows if r["model"] == "conditional GAN"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot([r["train_seconds"] for r in cnn_rows], [r["test_accuracy"] for r in cnn_rows], "o-")
    axes[0].axhline(0.93, color="gray", linestyle="--", label="target 0.93")
    axes[0].axvline(120, color="gray", linestyle=":", label="120 s")
    axes[0].set(title="CNN: test accuracy", ylabel="accuracy")
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
        "- command: `.venv/bin/python benchmarks/time_to_quality.py`",
        "- each recipe as its chapter trains it; the clock stops while the model is scored after every epoch",
        f"- VAE and conditional GAN judged by the book's CNN on {SAMPLES} samples (lower Frechet distance is better); "
        "class match: share of the conditional GAN's images the judge puts in the class that was asked for",
        "",
        "| model | epoch | training seconds | test accuracy | Frechet distance | classes covered | largest class share | class match |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['model']} | {r['epoch']} | {r['train_seconds']} | {r.get('test_accuracy', '')} | "
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
