"""The book's GAN against the TensorFlow DCGAN tutorial, same seconds, same judge.

Usage (repository root, after ``bash scripts/setup.sh``; takes about
2 x budget + evaluation time)::

    .venv/bin/python benchmarks/gan_vs_dcgan_tutorial.py [--seconds 300]

The peer is the architecture and loop of TensorFlow's DCGAN tutorial (dense
7x7x256; transposed convolutions 128/5 stride 1, 64/5 stride 2, 1/5 stride 2;
discriminator 64/5 and 128/5 stride 2 with dropout 0.3; Adam 1e-4; batch
256; noise 100), written here from that description with a ``tf.function``
step as in the tutorial.  Both train on all 60,000 Fashion-MNIST images for
the same wall-clock budget, taking turns of ``--turn`` seconds so that both
see the same state of the machine; every ``--every`` seconds of training the clock
stops while 2,000 samples are scored with the book's metrics (the Part II
CNN as judge).  Writes ``benchmarks/gan_vs_dcgan_tutorial.{csv,md,png}``.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import visionbook  # noqa: E402  (quietens TensorFlow first)
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from machine import machine_line  # noqa: E402
from visionbook import cnn, data, gan, metrics  # noqa: E402

OUT = Path(__file__).resolve().parent
SAMPLES = 2000


def tutorial_generator() -> keras.Model:
    noise = keras.Input((100,))
    x = layers.Dense(7 * 7 * 256, use_bias=False)(noise)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((7, 7, 256))(x)
    x = layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False)(x)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False)(x)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)
    return keras.Model(noise, image)


def tutorial_discriminator() -> keras.Model:
    image = keras.Input((28, 28, 1))
    x = layers.Dropout(0.3)(layers.LeakyReLU()(layers.Conv2D(64, 5, strides=2, padding="same")(image)))
    x = layers.Dropout(0.3)(layers.LeakyReLU()(layers.Conv2D(128, 5, strides=2, padding="same")(x)))
    return keras.Model(image, layers.Dense(1)(layers.Flatten()(x)))


def tutorial_trainer(seed: int):
    """The tutorial's loop: one tf.function step updating both networks."""
    generator, discriminator = tutorial_generator(), tutorial_discriminator()
    g_opt, d_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(images):
        noise = tf.random.normal([tf.shape(images)[0], 100])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_out, fake_out = discriminator(images, training=True), discriminator(fake, training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))

    return generator, step, 256, None


def book_trainer(seed: int, config: dict | None = None):
    """The book's GAN: its own ``train_step``, compiled as ``fit`` would compile it.

    The book's recipe holds its learning rates for the first ``decay_from``
    of the training steps and then lowers them linearly to zero. Trained by
    seconds, the same decay runs over the budget: ``set_progress`` gets the
    fraction of the budget used and sets both learning rates (``None`` where
    ``decay_from`` is ``None``: constant rates). ``config``
    (default :data:`gan.FASHION_GAN`) lets ``gan_variants.py --race`` enter
    variants of the book's GAN.
    """
    config = gan.FASHION_GAN if config is None else config
    model = gan.build_fashion_gan(config)
    rate, decay_from = config["learning_rate"], config["decay_from"]

    def set_progress(fraction: float) -> None:
        factor = float(gan.decay_factor(fraction, decay_from))
        for optimizer in (model.d_optimizer, model.g_optimizer):
            optimizer.learning_rate.assign(rate * factor)

    step = tf.function(model.train_step)
    return model.generator, step, config["batch_size"], None if decay_from is None else set_progress


class Contestant:
    """One GAN in the race: its training step, data, clock and evaluations so far."""

    def __init__(self, name: str, make, x_train: np.ndarray) -> None:
        keras.utils.set_random_seed(visionbook.SEED)
        self.name = name
        self.generator, self.step, self.batch_size, self.set_progress = make(visionbook.SEED)
        dataset = gan.real_images_dataset(x_train, self.batch_size, visionbook.SEED).repeat()
        self.batches = iter(dataset)
        self.trained, self.images_seen, self.next_check = 0.0, 0, 0.0
        self.rows: list[dict] = []
        self.done = False

    def evaluate(self, judge, reference) -> None:
        score = metrics.judge(judge, gan.sample(self.generator, SAMPLES, seed=7), reference)
        self.rows.append({"model": self.name, "train_seconds": round(self.trained, 1), "images_seen": self.images_seen, **score})
        print(self.rows[-1], flush=True)

    def train_until(self, until: float, budget: float, every: float, judge, reference) -> None:
        """Train until ``until`` seconds of training (or the budget), scoring every ``every`` seconds."""
        while not self.done and self.trained < until:
            if self.trained >= self.next_check:
                self.evaluate(judge, reference)
                self.next_check += every
                if self.trained >= budget:
                    self.done = True
                    break
            images = next(self.batches)
            start = time.perf_counter()
            if self.set_progress is not None:
                self.set_progress(self.trained / budget)
            self.step(images)
            self.trained += time.perf_counter() - start
            self.images_seen += self.batch_size


def race(contestants: list[Contestant], budget: float, every: float, turn: float, judge, reference) -> list[dict]:
    """Train the contestants in turns of ``turn`` seconds each until all have had ``budget`` seconds.

    Taking turns, rather than training one model and then the other, gives
    both the same machine: a shared host's speed can drift by a quarter
    within the ten minutes this takes, and that would otherwise favour
    whichever model trains first.
    """
    if not turn > 0:
        raise ValueError(f"turn must be a positive number of seconds, got {turn!r}.")
    until = 0.0
    while not all(c.done for c in contestants):
        until += turn
        for contestant in contestants:
            contestant.train_until(until if until < budget else float("inf"), budget, every, judge, reference)
    return [row for c in contestants for row in c.rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="training budget per model")
    parser.add_argument("--every", type=float, default=30.0, help="seconds of training between evaluations")
    parser.add_argument("--turn", type=float, default=10.0, help="seconds each model trains before the other takes its turn")
    args = parser.parse_args()

    judge, _ = cnn.trained_fashion_cnn()
    (x_train, _), (x_test, _) = data.load_fashion_mnist()
    reference = metrics.features(judge, x_test[:5000])
    real = metrics.judge(judge, x_train[:SAMPLES], reference)
    contestants = [Contestant("book GAN", book_trainer, x_train), Contestant("DCGAN tutorial", tutorial_trainer, x_train)]
    rows = race(contestants, args.seconds, args.every, args.turn, judge, reference)

    fields = ["model", "train_seconds", "images_seen", "frechet_distance", "classifier_score", "classes_covered", "largest_class_share"]
    with open(OUT / "gan_vs_dcgan_tutorial.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name in ("book GAN", "DCGAN tutorial"):
        part = [r for r in rows if r["model"] == name]
        axes[0].plot([r["train_seconds"] for r in part], [r["frechet_distance"] for r in part], "o-", label=name)
        axes[1].plot([r["train_seconds"] for r in part], [r["classes_covered"] for r in part], "o-", label=name)
    axes[0].axhline(real["frechet_distance"], color="gray", ls="--", label="real training images")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("Frechet distance (lower is better)")
    axes[1].set_ylabel("classes covered (of 10)")
    for ax in axes:
        ax.set_xlabel("training seconds")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "gan_vs_dcgan_tutorial.png", dpi=100)

    final = {name: [r for r in rows if r["model"] == name][-1] for name in ("book GAN", "DCGAN tutorial")}
    lines = [
        "# The book's GAN vs the TensorFlow DCGAN tutorial",
        "",
        f"- {machine_line()}",
        f"- date: {time.strftime('%Y-%m-%d')}; command: "
        f"`.venv/bin/python benchmarks/gan_vs_dcgan_tutorial.py --seconds {args.seconds:g}`",
        f"- judge: the book's Fashion-MNIST CNN; {SAMPLES} samples per evaluation; "
        f"real training images score Frechet distance {real['frechet_distance']:.2f}",
        "",
        "| model | training seconds | images seen | Frechet distance | classifier score | classes covered | largest class share |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['model']} | {r['train_seconds']} | {r['images_seen']} | {r['frechet_distance']:.2f} | "
            f"{r['classifier_score']:.2f} | {r['classes_covered']} | {r['largest_class_share']:.2f} |"
            for r in final.values()
        ],
        "",
        f"Ratio of Frechet distances (book / tutorial) at the budget: "
        f"{final['book GAN']['frechet_distance'] / final['DCGAN tutorial']['frechet_distance']:.3f}",
        "",
        "![quality against training seconds](gan_vs_dcgan_tutorial.png)",
    ]
    (OUT / "gan_vs_dcgan_tutorial.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
